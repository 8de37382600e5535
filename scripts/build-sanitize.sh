#!/usr/bin/env bash
# Builds the native unit tests and the libFuzzer targets (test/native/CMakeLists.txt) with
# clang-14 under ASan + UBSan into build-sanitize/, installing the Debian packages they need
# when missing. Used by scripts/ci-sanitize.sh and scripts/fuzz.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
# clang-14 + its sanitizer/libFuzzer runtimes, and Catch2 v2 (header-only test framework).
PACKAGES=(clang-14 libclang-rt-14-dev catch2)
bash scripts/apt-install.sh build-sanitize "${PACKAGES[@]}"
bash scripts/make-fuzz-corpus.sh
if [ ! -f build-sanitize/CMakeCache.txt ] || ! grep -q "FRAMESIFT_FUZZ:BOOL=ON" build-sanitize/CMakeCache.txt; then
  CXX=clang++-14 cmake -S test/native -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DFRAMESIFT_FUZZ=ON >/dev/null
fi
cmake --build build-sanitize -j "$(nproc)" -- --no-print-directory >/dev/null
