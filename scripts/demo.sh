#!/usr/bin/env bash
# The main job: build the addon and the emulator if needed, then run the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "==> building the native addon (release) and the Backend API emulator"
npx napi build --platform --release >/dev/null 2>&1 || npx napi build --platform --release
cargo build -q -p clerk-bapi-emulator
node scripts/demo.mjs
