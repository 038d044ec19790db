#!/usr/bin/env bash
# Build KenLM's lmplz (modified Kneser-Ney estimation) and build_binary from the kenlm source
# distribution pinned in requirements.lock, into the virtual environment's bin.
#
#   data/setup_kenlm.sh [VENV]        (default .venv; needs root for apt on a fresh machine)
#
# Idempotent: exits at once when both programs are there. The Python `kenlm` module only queries
# models; estimating them needs these two programs, which PyPI does not ship.
set -euo pipefail
VENV=${1:-.venv}
BIN="$VENV/bin"
if [ -x "$BIN/lmplz" ] && [ -x "$BIN/build_binary" ]; then
    exit 0
fi
PACKAGES=(cmake g++ libboost-program-options-dev libboost-system-dev libboost-thread-dev libboost-test-dev
          zlib1g-dev libbz2-dev liblzma-dev)
if ! dpkg -s "${PACKAGES[@]}" >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
fi
VERSION=$(sed -n 's/^kenlm==//p' requirements.lock)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$BIN/python" -m pip download -q --no-deps --no-binary kenlm --no-build-isolation "kenlm==$VERSION" -d "$WORK"
tar xzf "$WORK"/kenlm-*.tar.gz -C "$WORK"
cmake -S "$WORK/kenlm-$VERSION" -B "$WORK/build" -DCMAKE_BUILD_TYPE=Release -DKENLM_MAX_ORDER=10 >/dev/null
cmake --build "$WORK/build" --target lmplz build_binary -j "$(nproc)" >"$WORK/build.log" 2>&1 \
    || { tail -20 "$WORK/build.log"; exit 1; }
install -m 755 "$WORK/build/bin/lmplz" "$WORK/build/bin/build_binary" "$BIN/"
echo "KenLM $VERSION: lmplz and build_binary installed in $BIN"
