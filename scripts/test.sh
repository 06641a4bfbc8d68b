#!/usr/bin/env bash
# The whole test suite: builds the release addon once (scripts/build.mjs: on x86_64 Linux with
# glibc, against napi's glibc 2.17 sysroot — the very binary `npm run package` ships), then runs
# the Rust tests, the Vitest suites, the type checks, actionlint on the release workflow, and the
# user-install test (the packed tarballs installed into an empty project with no Rust).
# Every suite runs; the exit code is non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."

echo "==> building the native addon (release)"
node scripts/build.mjs || exit 1
if [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] && node -e 'process.exit(process.report.getReport().header.glibcVersionRuntime ? 0 : 1)'; then
  bash scripts/check-glibc.sh clerk-m2m-native.linux-x64-gnu.node 2.17 || exit 1
fi
echo "==> building the Rust tests and the Backend API emulator binary"
cargo test --workspace --no-run || exit 1

status=0
echo "==> Rust tests"
cargo test --workspace || status=1
echo "==> Vitest"
npx vitest run || status=1
echo "==> type check"
{ npx tsc -p tsconfig.json --noEmit && node scripts/dual-types.mjs --check && echo "type check: ok"; } || status=1
echo "==> actionlint"
bash scripts/actionlint.sh || status=1
echo "==> user-install test (npm run package; install the tarballs with no Rust on the PATH)"
node scripts/user-install.mjs || status=1
exit $status
