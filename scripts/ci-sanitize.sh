#!/usr/bin/env bash
# CI for issue 13 (about 8 minutes): the native unit tests under ASan + UBSan (a leak fails
# them too), then each fuzz target for FUZZ_SECONDS (default 120).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-sanitize.sh
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
FRAMESIFT_CORPUS=test/.fixtures/fuzz-corpus ./build-sanitize/native_tests
bash scripts/fuzz.sh "${FUZZ_SECONDS:-120}"
