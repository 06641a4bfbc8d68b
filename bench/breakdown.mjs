#!/usr/bin/env node
// Per-call cost breakdown of this package's hot path, timed from JS: the whole
// drop-in call, then each stage alone — option lookup (`verifierFor`), the
// native `verifyLocal` (boundary + Rust + result string), the JS result build
// (`toResult`: JSON.parse + M2MToken) — next to the node:crypto floor and a
// trivial napi call. Uses lib/verify.js internals; if they change, update the
// stage list below. Medians of interleaved repetitions.
//
//   node bench/breakdown.mjs [--reps 9] [--ops 2000]
import { verify as cryptoVerify } from 'node:crypto'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { collectGarbage, settleAfterGarbage } from './lib/runner.mjs'
import { quantile, textTable } from './lib/stats.mjs'
import { generateBenchKey, publicKeyFromPem, signPool, splitForFloor } from './lib/tokens.mjs'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const argv = process.argv.slice(2)
const opt = (name, dflt) => {
  const i = argv.indexOf(name)
  return i >= 0 ? Number(argv[i + 1]) : dflt
}
const REPS = opt('--reps', 9)
const OPS = opt('--ops', 2000)

const require = createRequire(join(ROOT, 'package.json'))
const pkg = require(join(ROOT, 'lib', 'index.js'))
const verifyInternals = require(join(ROOT, 'lib', 'verify.js'))
const native = require(join(ROOT, 'index.js'))
const { verifierFor, toResult } = verifyInternals
if (typeof verifierFor !== 'function' || typeof toResult !== 'function') throw new Error('lib/verify.js no longer exports verifierFor/toResult')

const key = generateBenchKey()
const tokens = await signPool({ key, start: 0, count: OPS, nowSec: Math.floor(Date.now() / 1000), salt: `b${Date.now().toString(36)}` })
const publicKey = publicKeyFromPem(key.publicPem)
const floorInputs = tokens.map(splitForFloor)

const hot = { jwtKey: key.publicPem } // cache on (default): the same token is a hit after the first call
const cold = { jwtKey: key.publicPem, tokenCache: false } // every call verifies the signature
const vHot = verifierFor(hot).native
const vCold = verifierFor(cold).native
const same = tokens[0]
const hitJson = vHot.verifyLocal(same, false)
const missJson = vCold.verifyLocal(tokens[1], false)
if (typeof hitJson !== 'string' || typeof missJson !== 'string') throw new Error('verifyLocal did not settle locally')

// Each stage: [label, sync function of i, or async]
const stages = [
  ['napi call, trivial (isMachineTokenType("m2m_token"))', (i) => native.isMachineTokenType('m2m_token')],
  ['napi call + token copy-in (isMachineTokenByPrefix(jwt))', (i) => native.isMachineTokenByPrefix(tokens[i])],
  ['verifierFor(options) lookup', (i) => verifierFor(hot)],
  ['toResult(outcome JSON) (JSON.parse + M2MToken)', (i) => toResult(hitJson)],
  ['native verifyLocal, cache hit (same token)', (i) => vHot.verifyLocal(same, false)],
  ['drop-in verifyMachineAuthToken, cache hit (same token)', async (i) => pkg.verifyMachineAuthToken(same, hot)],
  ['native verifyLocal, tokenCache off (distinct tokens)', (i) => vCold.verifyLocal(tokens[i], false)],
  ['drop-in verifyMachineAuthToken, tokenCache off', async (i) => pkg.verifyMachineAuthToken(tokens[i], cold)],
  ['node:crypto verify on pre-split input (floor)', (i) => cryptoVerify('sha256', floorInputs[i].data, publicKey, floorInputs[i].sig)],
  ['isM2MJwt(jwt)', (i) => pkg.isM2MJwt(tokens[i])],
]

const samples = stages.map(() => [])
for (let rep = 0; rep < REPS + 1; rep++) {
  for (let k = 0; k < stages.length; k++) {
    const s = (k + rep) % stages.length
    const fn = stages[s][1]
    collectGarbage()
    await settleAfterGarbage()
    const isAsync = fn.constructor.name === 'AsyncFunction'
    const t0 = performance.now()
    if (isAsync) for (let i = 0; i < OPS; i++) await fn(i)
    else for (let i = 0; i < OPS; i++) fn(i)
    const us = ((performance.now() - t0) * 1000) / OPS
    if (rep > 0) samples[s].push(us) // rep 0 warms up
  }
}

console.log(`outcome string: ${hitJson.length} chars (cache hit), ${missJson.length} chars (miss); token ${same.length} chars`)
console.log(
  textTable(
    ['stage', 'µs/call (median)', 'p25 – p75', 'calls/s'],
    stages.map(([label], s) => {
      const m = quantile(samples[s], 0.5)
      return [label, m.toFixed(2), `${quantile(samples[s], 0.25).toFixed(2)} – ${quantile(samples[s], 0.75).toFixed(2)}`, Math.round(1e6 / m).toLocaleString('en-US')]
    }),
    ['l', 'r', 'r', 'r'],
  ),
)
