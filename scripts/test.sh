#!/usr/bin/env bash
# The whole test suite: builds the release addon once (scripts/build.mjs: on x86_64 Linux with
# glibc, against napi's glibc 2.17 sysroot — the very binary `npm run package` ships), then in one
# cargo build the Rust tests, the Backend API emulator and the test addon
# (scripts/build-test-addon.sh); runs the Rust tests, the Vitest suites, the bench harness's tests,
# the type checks, actionlint on the release workflow and the user-install test (the packed
# tarballs installed into an empty project with no Rust); then the security catalogue census
# (scripts/census.mjs), which counts only the row tests that ran and asserted. The import-circle
# check (scripts/check-circles.mjs) runs before the suites. Every step runs; the exit code is
# non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."

echo "==> building the native addon (release)"
node scripts/build.mjs || exit 1
if [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] && node -e 'process.exit(process.report.getReport().header.glibcVersionRuntime ? 0 : 1)'; then
  bash scripts/check-glibc.sh clerk-m2m-native.linux-x64-gnu.node 2.17 || exit 1
fi
bash scripts/ensure-chromium.sh
echo "==> building the Rust tests, the Backend API emulator and the test addon"
bash scripts/build-test-addon.sh || exit 1

# Where the suites record, test by test, what ran for the census.
export CLERK_M2M_CENSUS_DIR="$PWD/target/census"
rm -rf "$CLERK_M2M_CENSUS_DIR" && mkdir -p "$CLERK_M2M_CENSUS_DIR"

status=0
echo "==> import circles (core crate, binding, emulator crate, lib/ and bin/)"
node scripts/check-circles.mjs || status=1
echo "==> Rust tests"
cargo test --workspace --no-fail-fast --features clerk-m2m-native/test-hooks || status=1
echo "==> Vitest"
npx vitest run || status=1
echo "==> bench harness tests (statistics, parsing, targets, end-to-end arithmetic)"
node --test bench/test/ || status=1
echo "==> type check"
{ npx tsc -p tsconfig.json --noEmit && node scripts/dual-types.mjs --check && echo "type check: ok"; } || status=1
echo "==> actionlint"
bash scripts/actionlint.sh || status=1
echo "==> user-install test (npm run package; install the tarballs with no Rust on the PATH)"
node scripts/user-install.mjs || status=1
echo "==> security catalogue census"
node scripts/census.mjs || status=1
exit $status
