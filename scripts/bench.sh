#!/usr/bin/env bash
# `npm run bench`: builds the addon (release; the emulator is linked into it) when needed (a no-op
# when it is current), then runs the harness with the given arguments (bench/run.mjs --help lists them).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "==> building the native addon (release)" >&2
node scripts/build.mjs >/dev/null 2>&1 || node scripts/build.mjs
exec node bench/run.mjs "$@"
