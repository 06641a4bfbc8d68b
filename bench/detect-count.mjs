#!/usr/bin/env node
// Instruction counts of detection, for before/after comparisons on a machine
// too noisy for wall time. Counts every instruction of the process under
// callgrind, so run it twice with different call counts and divide the
// difference (start-up, token loading and JIT warm-up cancel out):
//
//   node bench/detect-count.mjs --make /tmp/tokens.json          # 64 M2M JWTs (~850 chars), once
//   for n in 20000 120000; do
//     valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file=cg.$n \
//       node bench/detect-count.mjs native isM2MJwt $n /tmp/tokens.json
//   done                                                          # (Ir(120000) − Ir(20000)) / 100000 per call
//
// `native` is this package's public function (lib/index.js, JS guard included),
// `reference` @clerk/backend's; fn: isM2MJwt | getMachineTokenType.
// The tokens are read from a file so that no key is generated under the counter
// (RSA key generation costs a random number of instructions).
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadReference } from './lib/oracle.mjs'
import { generateBenchKey, m2mClaims, signClaims } from './lib/tokens.mjs'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const argv = process.argv.slice(2)

if (argv[0] === '--make') {
  const key = generateBenchKey()
  const nowSec = Math.floor(Date.now() / 1000)
  const tokens = Array.from({ length: 64 }, (_, index) => {
    const { header, payload } = m2mClaims({ kid: key.kid, index, salt: 'count', nowSec })
    return signClaims(header, payload, key.privateKey)
  })
  writeFileSync(argv[1], JSON.stringify(tokens))
} else {
  const [impl, fn, n, file] = argv
  const tokens = JSON.parse(readFileSync(file, 'utf8'))
  const f = impl === 'native' ? createRequire(join(ROOT, 'package.json'))(join(ROOT, 'lib', 'index.js'))[fn] : (await loadReference(ROOT))[fn]
  if (typeof f !== 'function') throw new Error(`no ${fn} in ${impl}`)
  let truthy = 0
  for (let i = 0; i < Number(n); i++) if (f(tokens[i & 63])) truthy++
  // Printed so the calls cannot be optimised away, and as a check: every token is an M2M JWT.
  process.stdout.write(`${fn} ×${n} (${tokens[0].length} chars): ${truthy} truthy\n`)
}
