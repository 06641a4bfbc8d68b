// lib/verify.js's internals, as lib/index.js itself loads them. Vitest's own `import` of a CJS
// file under lib/ gives a second module instance (its own verifier cache and reuse budget);
// Node's require gives the one the public functions use.
import { createRequire } from 'node:module'

export const verifyInternals = createRequire(__filename)('../../lib/verify.js') as {
  verifierFor(options: unknown): any
  copyParsed<T>(value: T): T
  reuseStats(): { entries: number; bytes: number; maxEntries: number; maxBytes: number; verifiersWithEntries: number; cachedVerifiers: number }
}
