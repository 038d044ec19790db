#!/usr/bin/env bash
# Install the offline TTS engines and voices used by recognize.speech.synth (Debian 12 bookworm).
#
#   sudo data/setup_tts.sh
#
# Idempotent: when every package is already installed it exits 0 without running apt. MBROLA voices
# and pico live in Debian's contrib/non-free components; a deb822 sources file enabling them is added
# only when no configured source already provides them. Voice packages the archive does not carry are
# skipped with a note.
set -euo pipefail

PACKAGES=(
    espeak-ng
    mbrola mbrola-us1 mbrola-us2 mbrola-us3 mbrola-en1
    flite
    libttspico-utils
    festival
    festvox-kallpc16k festvox-kdlpc16k festvox-rablpc16k festvox-don festvox-us-slt-hts
    festvox-us1 festvox-us2 festvox-us3 festvox-en1
    sox
)
SOURCES_FILE=/etc/apt/sources.list.d/recognize-contrib-non-free.sources
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

installed() {
    dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed'
}

# True when an enabled source (one-line .list or deb822 .sources) gives bookworm's contrib and non-free.
have_contrib_non_free() {
    local lists=() sources=() f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do [[ -f $f ]] && lists+=("$f"); done
    for f in /etc/apt/sources.list.d/*.sources; do [[ -f $f ]] && sources+=("$f"); done
    if ((${#lists[@]})) && awk '
        $1 == "deb" { c = n = b = 0
            for (i = 2; i <= NF; i++) { if ($i == "bookworm") b = 1; if ($i == "contrib") c = 1; if ($i == "non-free") n = 1 }
            if (b && c && n) found = 1 }
        END { exit !found }' "${lists[@]}"; then
        return 0
    fi
    ((${#sources[@]})) && awk '
        function check() { if (deb && suite && contrib && nonfree && enabled) found = 1; reset() }
        function reset() { deb = suite = contrib = nonfree = 0; enabled = 1 }
        BEGIN { reset() }
        FNR == 1 { check() }
        /^[ \t]*$/ { check(); next }
        /^[ \t]*#/ { next }
        tolower($1) == "types:"      { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
        tolower($1) == "suites:"     { for (i = 2; i <= NF; i++) if ($i == "bookworm") suite = 1 }
        tolower($1) == "components:" { for (i = 2; i <= NF; i++) { if ($i == "contrib") contrib = 1; if ($i == "non-free") nonfree = 1 } }
        tolower($1) == "enabled:"    { if (tolower($2) == "no") enabled = 0 }
        END { check(); exit !found }' "${sources[@]}"
}

missing=()
for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
if ((${#missing[@]} == 0)); then
    echo "setup_tts: all ${#PACKAGES[@]} TTS packages already installed"
    exit 0
fi
if ((EUID != 0)); then
    echo "setup_tts: run as root to install: ${missing[*]}" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if have_contrib_non_free; then
    echo "setup_tts: contrib/non-free already configured"
else
    echo "setup_tts: adding $SOURCES_FILE"
    cat >"$SOURCES_FILE" <<EOF
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: contrib non-free
Signed-By: $KEYRING
EOF
fi
apt-get update -q

available=()
for p in "${missing[@]}"; do
    if apt-cache show "$p" >/dev/null 2>&1; then
        available+=("$p")
    else
        echo "setup_tts: $p is not in the configured archives; skipped" >&2
    fi
done
if ((${#available[@]})); then
    apt-get install -y -q --no-install-recommends "${available[@]}"
fi
echo "setup_tts: installed ${available[*]:-nothing}"
