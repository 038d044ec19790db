#!/usr/bin/env bash
# Fail early, in one line, when the disk cannot hold the virtual environment (torch's CUDA build alone is
# about 5.5 GB) instead of letting pip die half-way with "No space left on device".
# usage: check_disk.sh DIR GIB_NEEDED   (skipped once DIR/.pip-done exists: nothing big is installed then)
set -euo pipefail
dir=$1 need_gib=$2
[[ -e $dir/.pip-done ]] && exit 0
mkdir -p "$dir"
free_kib=$(df -Pk "$dir" | awk 'NR == 2 {print $4}')
if (( free_kib < need_gib * 1024 * 1024 )); then
    echo "make setup: $(realpath "$dir") needs about $need_gib GiB free for the virtual environment," \
         "only $(( free_kib / 1024 / 1024 )) GiB are free on its disk" >&2
    exit 1
fi
