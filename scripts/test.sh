#!/usr/bin/env bash
# The whole test suite: builds the addon (release) and the emulator, then runs
# the Rust tests, the Vitest suites and the type check. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> building the native addon (release)"
npx napi build --platform --release
echo "==> building the Backend API emulator"
cargo build -p clerk-bapi-emulator
echo "==> Rust tests"
cargo test --workspace
echo "==> Vitest"
npx vitest run
echo "==> type check"
npx tsc -p tsconfig.json --noEmit
