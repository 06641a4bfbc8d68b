#!/usr/bin/env bash
# The main job from a clone: build the addon (the emulator is linked into it) if needed, then run
# the demo exactly as `npx clerk-m2m-native demo` does from an installed package.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "==> building the native addon (release)"
node scripts/build.mjs >/dev/null 2>&1 || node scripts/build.mjs
node bin/clerk-m2m-native.js demo
