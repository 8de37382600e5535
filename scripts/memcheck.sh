#!/usr/bin/env bash
# Runs the addon's native paths under valgrind memcheck and fails on any invalid read or
# write and on any definite leak (memory no pointer reaches any more: a failed open that kept
# its AVFormatContext). Reachable and "possible" leaks are not judged: V8 and the libraries
# keep caches and interior pointers until exit.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "memcheck: valgrind is not installed (apt-get install valgrind)"; exit 1; }
log=$(mktemp)
if ! valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
     --suppressions=test/memcheck/valgrind.supp \
     node test/memcheck/native-paths.mjs >"$log" 2>&1; then
  grep -E -A12 "Invalid|uninitialised|definitely lost in|ERROR SUMMARY|memcheck paths" "$log" | head -80
  echo "memcheck: FAILED (full log: $log)"
  exit 1
fi
grep -E "ERROR SUMMARY|definitely lost|memcheck paths" "$log"
rm -f "$log"
