#!/bin/bash
# usage: bench/ab-extract.sh VIDEO RUNS BUILD_A BUILD_B [extract options...]
#   Wall time and peak RSS of `framesift extract VIDEO` from two copies of the package (A, B:
#   folders holding bin/framesift.js), alternating run by run, so a loaded machine slows both
#   alike. Prints one line per run and the median ratio A/B. Example (issue 11's check):
#   bench/ab-extract.sh bench60.mp4 3 /tmp/today /tmp/today-without-motion --count 40
set -euo pipefail
VIDEO="$1"; RUNS="$2"; A="$3"; B="$4"; shift 4
OUT="$(mktemp -d /tmp/framesift-ab-XXXXXX)"
trap 'rm -rf "$OUT"' EXIT
declare -a TA TB
for ((r = 1; r <= RUNS; r++)); do
  for side in A B; do
    dir="$A"; [ "$side" = B ] && dir="$B"
    rm -rf "$OUT/run"
    start=$(date +%s.%N)
    /usr/bin/time -f %M -o "$OUT/rss" node "$dir/bin/framesift.js" extract "$VIDEO" -o "$OUT/run" --quiet "$@" >/dev/null
    secs=$(echo "$(date +%s.%N) - $start" | bc)
    echo "run $r $side ${secs} s peak RSS $(($(tail -1 "$OUT/rss") / 1024)) MB load $(cut -d' ' -f1 /proc/loadavg)"
    if [ "$side" = A ]; then TA+=("$secs"); else TB+=("$secs"); fi
  done
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
ma=$(median "${TA[@]}"); mb=$(median "${TB[@]}")
echo "median A ${ma} s, B ${mb} s, A/B $(echo "scale=3; $ma / $mb" | bc)"
