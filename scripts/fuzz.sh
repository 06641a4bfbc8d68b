#!/usr/bin/env bash
# Extended test mode (`npm run test:fuzz`): runs every cargo-fuzz (libFuzzer) target of
# fuzz/ for FUZZ_SECONDS each (default 60), seeded from fuzz/seeds/, and prints a summary
# (executions, coverage). Not part of `npm test`. Exits non-zero if any target finds a crash;
# the crashing input is left in fuzz/artifacts/<target>/.
#
# Environment:
#   FUZZ_SECONDS    seconds per target (default 60)
#   FUZZ_TARGETS    space-separated subset (default: all targets in fuzz/Cargo.toml)
#   FUZZ_SANITIZER  address (default) | none   — `none` is ~2x faster, no memory checks
#   FUZZ_JOBS       parallel libFuzzer jobs per target (default 1)
#   FUZZ_REPORT     if set, the summary table is also written to this file
#
# Toolchain: cargo-fuzz needs nightly Rust (for -Zsanitizer and the libFuzzer link). With a
# `nightly` rustup toolchain installed it is used; otherwise the stable compiler is used with
# RUSTC_BOOTSTRAP=1 (works with cargo-fuzz 0.13 and `-s none`; ASan needs a real nightly).
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET="${FUZZ_SECONDS:-60}"
SANITIZER="${FUZZ_SANITIZER:-address}"
JOBS="${FUZZ_JOBS:-1}"
ALL_TARGETS=$(sed -n 's/^name = "\([a-z_]*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^clerk-m2m-core-fuzz$' || true)
TARGETS="${FUZZ_TARGETS:-$ALL_TARGETS}"

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "cargo-fuzz is not installed: cargo install cargo-fuzz --locked" >&2
  exit 2
fi
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  CARGO=(cargo +nightly)
else
  echo "no nightly toolchain: using stable with RUSTC_BOOTSTRAP=1 and no sanitizer" >&2
  export RUSTC_BOOTSTRAP=1
  CARGO=(cargo)
  SANITIZER=none
fi

echo "==> building fuzz targets (sanitizer: $SANITIZER)"
"${CARGO[@]}" fuzz build -O -s "$SANITIZER"

PARALLEL=()
if [ "$JOBS" -gt 1 ]; then PARALLEL=(-jobs="$JOBS" -workers="$JOBS"); fi

LOGDIR="fuzz/logs"
mkdir -p "$LOGDIR"
SUMMARY=$(mktemp)
printf '| target | seconds | executions | exec/s | coverage (edges) | features | corpus | peak RSS MB | result |\n|---|---|---|---|---|---|---|---|---|\n' >"$SUMMARY"
FAILED=0
for t in $TARGETS; do
  corpus="fuzz/corpus/$t"
  mkdir -p "$corpus"
  log="$LOGDIR/$t.log"
  echo "==> $t for ${SECONDS_PER_TARGET}s"
  start=$(date +%s)
  set +e
  "${CARGO[@]}" fuzz run -O -s "$SANITIZER" "$t" "$corpus" "fuzz/seeds/$t" -- \
    -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    "${PARALLEL[@]}" >"$log" 2>&1
  rc=$?
  # With -jobs, libFuzzer writes each job's output to fuzz-<n>.log in the working directory.
  for f in fuzz-[0-9]*.log; do [ -e "$f" ] && { cat "$f" >>"$log"; rm -f "$f"; }; done
  set -e
  took=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | awk '{s+=$1} END {print s+0}')
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | sort -n | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9A-Za-z]*\).*/\1/p' <<<"$last")
  eps=$(( execs / (SECONDS_PER_TARGET > 0 ? SECONDS_PER_TARGET : 1) ))
  if [ "$rc" -eq 0 ]; then result="no crash"; else result="FAILED (exit $rc, see $log)"; FAILED=1; fi
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$t" "$took" "$execs" "$eps" "${cov:-?}" "${ft:-?}" "${corp:-?}" "${rss:-?}" "$result" >>"$SUMMARY"
  tail -n 3 "$log"
done

echo
echo "fuzz summary ($(date -u +%Y-%m-%dT%H:%MZ), ${SECONDS_PER_TARGET}s per target, sanitizer $SANITIZER, $(rustc +nightly --version 2>/dev/null || rustc --version))"
cat "$SUMMARY"
if [ -n "${FUZZ_REPORT:-}" ]; then cp "$SUMMARY" "$FUZZ_REPORT"; fi
rm -f "$SUMMARY"
exit "$FAILED"
