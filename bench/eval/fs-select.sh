#!/bin/bash
# usage: fs-select.sh VIDEO N OUTDIR   (a selector for ../shared/eval/run.sh)
# Runs `framesift extract VIDEO --count N` (extra options in FS_ARGS, e.g. "--mode fast"), puts the
# images into OUTDIR and writes OUTDIR/map.json (file -> frame index) from the manifest.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
VIDEO="$1"; N="$2"; OUT="$3"
TMP="$(mktemp -d /tmp/fs_sel_XXXXXX)"
# shellcheck disable=SC2086
node "$HERE/../../bin/framesift.js" extract "$VIDEO" -o "$TMP/run" --count "$N" --quiet ${FS_ARGS:-}
mkdir -p "$OUT"
mv "$TMP"/run/images/* "$OUT"/
node -e 'const m=require(process.argv[1]); const map={}; for (const f of m.frames) map[f.file]=f.frameIndex; require("fs").writeFileSync(process.argv[2], JSON.stringify(map));' "$TMP/run/manifest.json" "$OUT/map.json"
[ -n "${FS_KEEP:-}" ] && cp "$TMP/run/manifest.json" "$TMP/run/analysis.csv" "$FS_KEEP"/ 2>/dev/null || true
rm -rf "$TMP"
