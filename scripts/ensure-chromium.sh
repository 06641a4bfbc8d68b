#!/usr/bin/env bash
# The emulator dashboard's browser test drives Debian's Chromium through playwright-core, which
# downloads no browser of its own. Installs the `chromium` package when it is missing and this
# is a Debian-like machine where we are root (CI, containers); otherwise says what to do. The
# browser test itself names the missing binary, so this never fails the run on its own.
set -uo pipefail
command -v chromium >/dev/null && exit 0
[ -n "${CLERK_M2M_TEST_CHROMIUM:-}" ] && [ -x "${CLERK_M2M_TEST_CHROMIUM}" ] && exit 0
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "==> installing Debian's chromium for the dashboard's browser test"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
fi
command -v chromium >/dev/null || echo "chromium not found: the dashboard's browser test will fail (apt-get install chromium, or set CLERK_M2M_TEST_CHROMIUM)" >&2
exit 0
