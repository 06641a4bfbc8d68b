#!/usr/bin/env bash
# The whole test suite: builds the addon (release) and, through the Rust test
# build, the Backend API emulator binary; then runs the Rust tests, the Vitest
# suites, the bench harness's own tests and the type check. Every suite runs; the exit code is non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."

echo "==> building the native addon (release)"
npx napi build --platform --release || exit 1
echo "==> building the Rust tests and the Backend API emulator"
cargo test --workspace --no-run || exit 1

status=0
echo "==> Rust tests"
cargo test --workspace || status=1
echo "==> Vitest"
npx vitest run || status=1
echo "==> bench harness tests (statistics, parsing, targets, end-to-end arithmetic)"
node --test bench/test/ || status=1
echo "==> type check"
npx tsc -p tsconfig.json --noEmit && echo "type check: ok" || status=1
exit $status
