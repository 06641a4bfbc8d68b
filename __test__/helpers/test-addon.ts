// The test addon: the binding built with the cargo feature `test-hooks` (panic probes, a
// frozen clock; src/test_hooks.rs) by scripts/build-test-addon.sh, part of scripts/test.sh.
// The release addon has none of these exports. To make lib/ use it in a test file, import
// ./use-test-addon first; child processes get it through `testAddonEnv()`.
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { resolve } from 'node:path'

export const TEST_ADDON = resolve(__dirname, '..', '..', 'target', 'test-hooks', 'clerk-m2m-native.node')

export interface TestHooks {
  __panicProbeSync(): void
  __panicProbeAsync(): Promise<void>
  /** Freezes the native clock at `ms` (epoch milliseconds); `null` lets it run again. */
  __freezeClock(ms: number | null): void
}

function assertBuilt(): string {
  if (!existsSync(TEST_ADDON)) {
    throw new Error(`the test addon ${TEST_ADDON} is missing: run scripts/build-test-addon.sh (scripts/test.sh does)`)
  }
  return TEST_ADDON
}

/** Environment for a child process whose index.js should load the test addon. */
export function testAddonEnv(): Record<string, string> {
  return { NAPI_RS_NATIVE_LIBRARY_PATH: assertBuilt() }
}

/** The test addon's exports (in a process whose lib/ loads it, the same module instance). */
export function requireTestAddon(): TestHooks {
  return createRequire(__filename)(assertBuilt())
}
