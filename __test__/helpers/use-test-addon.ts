// Imported FIRST by a test file: everything that file then loads from lib/ uses the test
// addon (index.js honours NAPI_RS_NATIVE_LIBRARY_PATH). Vitest runs each test file in a
// process of its own, so the other files keep the release addon.
import { requireTestAddon, testAddonEnv } from './test-addon'

Object.assign(process.env, testAddonEnv())

export const hooks = requireTestAddon()
