#!/bin/bash
# colmap-case.sh VIDEO GT N NAME [framesift flags...]: framesift --colmap, then colmap mapper on its database
# (colmap_mapper_eval.py), then the same images through COLMAP's own feature_extractor + exhaustive_matcher +
# mapper and the sequential matcher (../shared/eval/sfm_eval.py). JSON results in $WORK/NAME (default
# /tmp/colmap-eval); colmap_table.py makes the table. Env: FS (framesift.js), FRAMESIFT_EVAL, SKIP_EXH, SKIP_SEQ.
set -u
EVAL="${FRAMESIFT_EVAL:-$(cd "$(dirname "$0")/../../../shared/eval" 2>/dev/null && pwd)}"
VIDEO=$1; GT=$2; N=$3; NAME=$4; shift 4
OUT="${WORK:-/tmp/colmap-eval}/$NAME"; rm -rf $OUT; mkdir -p $OUT
FS="${FS:-$(cd "$(dirname "$0")/../.." && pwd)/bin/framesift.js}"
echo "load_before $(cut -d' ' -f1-3 /proc/loadavg)" > $OUT/load.txt
t0=$(date +%s.%N)
nice node $FS extract "$VIDEO" -o $OUT/fs --count $N --colmap --quiet --json "$@" > $OUT/fs.json 2> $OUT/fs.log
t1=$(date +%s.%N)
echo "{\"extract_s\": $(echo "$t1 - $t0" | bc)}" > $OUT/extract_time.json
nice /usr/bin/python3 "$(dirname "$0")/colmap_mapper_eval.py" $OUT/fs/colmap/database.db $OUT/fs/images $GT $OUT/ours > $OUT/ours.json 2>$OUT/ours.err
echo "load_mid $(cut -d' ' -f1-3 /proc/loadavg)" >> $OUT/load.txt
[ "${SKIP_EXH:-0}" = 1 ] || SFM_TIMEOUT=3000 nice /usr/bin/python3 "$EVAL/sfm_eval.py" $OUT/fs/images $GT --threads 2 > $OUT/ref_exh.json 2>$OUT/ref_exh.err
echo "load_mid2 $(cut -d' ' -f1-3 /proc/loadavg)" >> $OUT/load.txt
[ "${SKIP_SEQ:-0}" = 1 ] || SFM_EXHAUSTIVE_BELOW=0 SFM_TIMEOUT=3000 nice /usr/bin/python3 "$EVAL/sfm_eval.py" $OUT/fs/images $GT --threads 2 > $OUT/ref_seq.json 2>$OUT/ref_seq.err
echo "load_after $(cut -d' ' -f1-3 /proc/loadavg)" >> $OUT/load.txt
echo done > $OUT/DONE
