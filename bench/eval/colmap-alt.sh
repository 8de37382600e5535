#!/bin/bash
# colmap-alt.sh NAME VIDEO GT N ROUNDS: alternating wall time of the two ways to a sparse model, 2 threads
# each: ours (framesift extract --colmap + colmap mapper on its database) and the reference (framesift
# extract + ../shared/eval/sfm_eval.py: COLMAP feature_extractor + exhaustive_matcher + mapper). One line per
# round in $WORK/alt.txt (WORK defaults to /tmp/colmap-alt); the runs' JSON beside it.
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
# ../shared/eval beside the repository (a worktree elsewhere: set FRAMESIFT_EVAL).
EVAL="${FRAMESIFT_EVAL:-$(cd "$HERE/../../../shared/eval" 2>/dev/null && pwd)}"
[ -f "$EVAL/sfm_eval.py" ] || { echo "colmap-alt.sh: no sfm_eval.py in '$EVAL' (set FRAMESIFT_EVAL)" >&2; exit 2; }
NAME=$1; V=$(realpath "$2"); G=$(realpath "$3"); N=$4; R=$5; FS="$HERE/../../bin/framesift.js"
W="${WORK:-/tmp/colmap-alt}"; mkdir -p "$W"; cd "$W"
for r in $(seq 1 "$R"); do
  rm -rf "$NAME.ours$r" "$NAME.ours$r.map" "$NAME.ref$r"
  t0=$(date +%s.%N)
  nice node "$FS" extract "$V" -o "$NAME.ours$r" --count "$N" --colmap --quiet --threads 2 > /dev/null 2>&1
  ta=$(date +%s.%N)
  FRAMESIFT_EVAL="$EVAL" nice /usr/bin/python3 "$HERE/colmap_mapper_eval.py" "$NAME.ours$r/colmap/database.db" "$NAME.ours$r/images" "$G" "$NAME.ours$r.map" > "$NAME.ours$r.json" 2>/dev/null
  t1=$(date +%s.%N)
  nice node "$FS" extract "$V" -o "$NAME.ref$r" --count "$N" --quiet --threads 2 > /dev/null 2>&1
  tb=$(date +%s.%N)
  SFM_TIMEOUT=3000 nice /usr/bin/python3 "$EVAL/sfm_eval.py" "$NAME.ref$r/images" "$G" --threads 2 > "$NAME.ref$r.json" 2>/dev/null
  t2=$(date +%s.%N)
  echo "$NAME round $r ours $(echo "$t1 - $t0" | bc) (extract $(echo "$ta - $t0" | bc), mapper $(echo "$t1 - $ta" | bc)) ref $(echo "$t2 - $t1" | bc) (extract $(echo "$tb - $t1" | bc), colmap $(echo "$t2 - $tb" | bc)) ratio $(echo "scale=3; ($t1 - $t0) / ($t2 - $t1)" | bc) load $(cut -d' ' -f1-3 /proc/loadavg)" >> alt.txt
done
