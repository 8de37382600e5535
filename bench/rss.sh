#!/bin/bash
# bench/rss.sh (issue 12): peak resident memory of `framesift extract` per video, to show it
# flat in video length (and under 1.5 GB at 4K). One CLI run per video, in order; prints one
# line each: frames, wall s, peak RSS of the process tree (GNU time: the largest process, i.e.
# the CLI's worker child with MALLOC_ARENA_MAX=2) and the manifest's own peakRssMB.
# usage: bench/rss.sh "EXTRACT OPTIONS" VIDEO...   e.g. bench/rss.sh "--count 40" a.mp4 b.mp4
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
OPTS="$1"; shift
for video in "$@"; do
  out="$(mktemp -d /tmp/framesift-rss-XXXXXX)"
  # shellcheck disable=SC2086
  /usr/bin/time -f '%e %M' -o "$out.time" node "$HERE/../bin/framesift.js" extract "$video" -o "$out/run" --quiet $OPTS
  read -r wall maxKB < "$out.time"
  node -e 'const m=require(process.argv[1]); const [wall, kb, v] = process.argv.slice(2);
    console.log(`${v}: ${m.counts.analysed} frames, ${wall} s, peak RSS ${Math.round(kb / 1024)} MB (manifest ${m.peakRssMB} MB), kept ${m.decode?.kept}, described ${m.decode?.described}, candidates ${m.counts.candidates}, chosen ${m.counts.chosen}`);' \
    "$out/run/manifest.json" "$wall" "$maxKB" "$video"
  rm -rf "$out" "$out.time"
done
