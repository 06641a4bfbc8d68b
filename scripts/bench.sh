#!/usr/bin/env bash
# `npm run bench`: builds the addon (release) and the emulator when needed (a no-op when they are
# current), then runs the harness with the given arguments (bench/run.mjs --help lists them).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "==> building the native addon (release) and the Backend API emulator" >&2
npx napi build --platform --release >/dev/null 2>&1 || npx napi build --platform --release
cargo build -q -p clerk-bapi-emulator
exec node bench/run.mjs "$@"
