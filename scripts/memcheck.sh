#!/usr/bin/env bash
# Runs the addon's native paths under valgrind memcheck and fails on any invalid read or
# write (leaks are reported by valgrind but not judged: V8 and the libraries keep caches).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "memcheck: valgrind is not installed (apt-get install valgrind)"; exit 1; }
log=$(mktemp)
if ! valgrind --error-exitcode=99 --errors-for-leak-kinds=none --suppressions=test/memcheck/valgrind.supp \
     node test/memcheck/native-paths.mjs >"$log" 2>&1; then
  grep -E "Invalid|uninitialised|ERROR SUMMARY|memcheck paths" "$log" | head -20
  echo "memcheck: FAILED (full log: $log)"
  exit 1
fi
grep -E "ERROR SUMMARY|memcheck paths" "$log"
rm -f "$log"
