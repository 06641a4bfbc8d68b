#!/usr/bin/env node
// Writes lib/*.d.mts from lib/*.d.ts: the typings of the `import` condition. A `.d.ts` next to a
// CommonJS package is CommonJS to TypeScript, so ESM importers need ESM twins — otherwise the
// types "masquerade as CJS" and, in an ESM project, lib/trpc.d.ts would pull @trpc/server's
// CommonJS typings while the user's code gets its ESM ones (two TRPCError/middleware types, and
// `requireMachine` no longer narrows the context). The twins are the same text with relative
// specifiers pointed at the twins (`./console` → `./console.mjs`; `../index` → `../index.js`,
// the binding, which stays CommonJS).
//
// Usage: node scripts/dual-types.mjs [--check]   (--check: exit 1 if a twin is missing or stale)
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const lib = join(dirname(fileURLToPath(import.meta.url)), '..', 'lib')
const check = process.argv.includes('--check')

/** The ESM twin of a `.d.ts` text. */
export function esmTwin(source, name) {
  const body = source.replace(/(from\s+|import\()(['"])(\.{1,2}\/[^'"]+)\2/g, (_, lead, quote, spec) => {
    const target = spec === '../index' ? '../index.js' : `${spec}.mjs`
    return `${lead}${quote}${target}${quote}`
  })
  return `// Generated from ${name} by scripts/dual-types.mjs (the typings of the ESM entry); do not edit.\n${body}`
}

let stale = []
for (const file of readdirSync(lib).filter((f) => f.endsWith('.d.ts')).sort()) {
  const twinPath = join(lib, file.replace(/\.d\.ts$/, '.d.mts'))
  const twin = esmTwin(readFileSync(join(lib, file), 'utf8'), file)
  let current = null
  try {
    current = readFileSync(twinPath, 'utf8')
  } catch {
    // Missing: stale.
  }
  if (current === twin) continue
  stale.push(twinPath)
  if (!check) writeFileSync(twinPath, twin)
}
if (check && stale.length) {
  console.error(`stale ESM typings (run \`node scripts/dual-types.mjs\`): ${stale.join(', ')}`)
  process.exit(1)
}
if (!check && stale.length) console.error(`wrote ${stale.length} ESM typing(s)`)
