#!/usr/bin/env bash
# Builds the Rust tests, the Backend API emulator and the test addon in one cargo
# invocation (so they share every compiled crate), then puts the test addon where
# the Vitest suites that need it look: target/test-hooks/clerk-m2m-native.node.
#
# The test addon is the binding built with the `test-hooks` feature (panic probes,
# a movable clock: see src/test_hooks.rs). The release addon that `npm pack` ships
# is built by `napi build --release` without it.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --workspace --lib --bins --tests --features clerk-m2m-native/test-hooks
case "$(uname -s)" in
  Darwin) built=target/debug/libclerk_m2m_native.dylib ;;
  *) built=target/debug/libclerk_m2m_native.so ;;
esac
mkdir -p target/test-hooks
cp "$built" target/test-hooks/clerk-m2m-native.node
echo "test addon: target/test-hooks/clerk-m2m-native.node"
