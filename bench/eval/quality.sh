#!/bin/bash
# usage: bench/eval/quality.sh CASES RESULTS SELECTOR...
#   CASES: lines "name video gt N"; SELECTOR: uniform | sharpest | framesift | framesift-fast
#   Appends one JSON line per (case, selector) to RESULTS ({"case", "selector", ...run.sh fields}).
#   Env: FRAMESIFT_EVAL (default ../shared/eval beside the repository).
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
EVAL="${FRAMESIFT_EVAL:-$HERE/../../../shared/eval}"
CASES="$1"; RESULTS="$2"; shift 2
while read -r name video gt n; do
  [ -z "$name" ] || [ "${name:0:1}" = "#" ] && continue
  for sel in "$@"; do
    case "$sel" in
      uniform|sharpest) cmd=("$EVAL/baselines/$sel.sh") ;;
      framesift) cmd=("$HERE/fs-select.sh") ;;
      framesift-fast) cmd=(env FS_ARGS="--mode fast" "$HERE/fs-select.sh") ;;
      *) echo "unknown selector $sel" >&2; exit 2 ;;
    esac
    line=$("$EVAL/run.sh" "$video" "$gt" "$n" "${cmd[@]}" 2>/dev/null </dev/null | tail -1)
    echo "{\"case\": \"$name\", \"selector\": \"$sel\", \"result\": ${line:-null}}" >> "$RESULTS"
    echo "$name $sel: ${line:0:200}"
  done
done < "$CASES"
