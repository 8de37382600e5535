#!/usr/bin/env bash
# Runs each libFuzzer target (test/fuzz/) for SECONDS (default 60) over the generated seed
# corpus plus the committed regressions (test/fuzz-regressions/TARGET/), after replaying every
# regression input once. Fails on any crash, sanitizer report, leak or hang (-timeout); the
# input that did it is left in build-sanitize/artifacts/. Prints executions per second.
#   bash scripts/fuzz.sh 300          # five minutes per target
#   FUZZ_TARGETS=fuzz_images bash scripts/fuzz.sh 60
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
bash scripts/build-sanitize.sh
corpus=test/.fixtures/fuzz-corpus
mkdir -p build-sanitize/artifacts
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
status=0
for target in ${FUZZ_TARGETS:-fuzz_video fuzz_images}; do
  bin=build-sanitize/$target
  work=build-sanitize/corpus/$target
  regressions=test/fuzz-regressions/$target
  mkdir -p "$work" "$regressions"
  case $target in
    fuzz_video) seeds=("$corpus/video" "$corpus/bad"); max_len=65536 ;;
    fuzz_images) seeds=("$corpus/images"); max_len=16384 ;;
  esac
  for dir in "${seeds[@]}"; do cp -n "$dir"/* "$work/"; done
  if compgen -G "$regressions/*" >/dev/null; then
    echo "fuzz: $target: replaying $(ls "$regressions" | wc -l) regression inputs"
    "$bin" -timeout=10 -rss_limit_mb=2048 "$regressions"/* >build-sanitize/$target-regressions.log 2>&1 ||
      { tail -40 build-sanitize/$target-regressions.log; echo "fuzz: $target: a regression input fails again"; status=1; continue; }
  fi
  log=build-sanitize/$target.log
  if nice "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=$max_len -print_final_stats=1 \
      -artifact_prefix="build-sanitize/artifacts/$target-" "$work" "$regressions" >"$log" 2>&1; then
    runs=$(grep -oE "^Done [0-9]+ runs in [0-9]+ second" "$log" | tail -1)
    rate=$(grep -oE "exec/s: [0-9]+" "$log" | tail -1)
    cov=$(grep -oE "cov: [0-9]+ ft: [0-9]+" "$log" | tail -1)
    echo "fuzz: $target: ok: ${runs:-?}s, ${rate:-?}, ${cov:-?}, corpus $(ls "$work" | wc -l) inputs"
  else
    grep -E -A30 "ERROR|SUMMARY|timeout|deadly signal" "$log" | head -60
    echo "fuzz: $target: FAILED (log $log; inputs in build-sanitize/artifacts/); keep the input under $regressions/ once fixed"
    status=1
  fi
done
exit $status
