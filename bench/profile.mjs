#!/usr/bin/env node
// Where does this package's time go? Runs one workload of the package alone for
// a few seconds under the V8 CPU profiler (node:inspector, in-process) and
// prints self time by function and by layer. Time spent inside the addon shows
// as the self time of the native method called from JS (e.g. `verifyLocal`).
//
//   node bench/profile.mjs pem      distinct tokens (2,000 cycled, tokenCache: false so none is a cache hit)
//   node bench/profile.mjs same     one token repeated, default options (cache hit path)
//   node bench/profile.mjs detect   isM2MJwt on JWTs
//   options: --seconds N (default 4), --out FILE.cpuprofile (keep the raw profile for Chrome DevTools)
//
// For a native-level split (addon vs Node's OpenSSL vs V8), run it under perf:
//   node --perf-basic-prof bench/profile.mjs pem --no-v8 --seconds 8 &   # prints its pid once set up
//   perf record -F 999 -g -p <pid> -o /tmp/perf.data -- sleep 5
//   perf report -i /tmp/perf.data --sort dso --stdio --no-children
// (the release addon is stripped, so perf attributes its time to the .node file as a whole)
import { Session } from 'node:inspector/promises'
import { writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateBenchKey, signPool } from './lib/tokens.mjs'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const argv = process.argv.slice(2)
const workload = argv.find((a) => !a.startsWith('--')) ?? 'pem'
const opt = (name, dflt) => {
  const i = argv.indexOf(name)
  return i >= 0 ? argv[i + 1] : dflt
}
const seconds = Number(opt('--seconds', '4'))
const out = opt('--out')

const pkg = createRequire(join(ROOT, 'package.json'))(join(ROOT, 'lib', 'index.js'))
const key = generateBenchKey()
const tokens = await signPool({ key, start: 0, count: 2000, nowSec: Math.floor(Date.now() / 1000), salt: `p${Date.now().toString(36)}` })

let step
if (workload === 'pem') {
  const options = { jwtKey: key.publicPem, tokenCache: false }
  let i = 0
  step = async () => {
    const r = await pkg.verifyMachineAuthToken(tokens[i++ % tokens.length], options)
    if (r.errors) throw new Error(r.errors[0].message)
  }
} else if (workload === 'same') {
  const options = { jwtKey: key.publicPem }
  step = async () => {
    const r = await pkg.verifyMachineAuthToken(tokens[0], options)
    if (r.errors) throw new Error(r.errors[0].message)
  }
} else if (workload === 'detect') {
  let i = 0
  step = async () => {
    for (let k = 0; k < 100; k++) if (!pkg.isM2MJwt(tokens[i++ % tokens.length])) throw new Error('misdetected')
  }
} else {
  throw new Error(`unknown workload ${workload} (pem | same | detect)`)
}

// Warm up (JIT, key parse, caches) before profiling.
const warmUntil = performance.now() + 500
while (performance.now() < warmUntil) await step()

const useV8 = !argv.includes('--no-v8')
const session = new Session()
if (useV8) {
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 100 })
  await session.post('Profiler.start')
}
process.stderr.write(`profiling pid ${process.pid} for ${seconds} s\n`)
let ops = 0
const t0 = performance.now()
const until = t0 + seconds * 1000
while (performance.now() < until) {
  await step()
  ops++
}
const elapsed = performance.now() - t0
if (!useV8) {
  console.log(`workload ${workload}: ${Math.round((ops / elapsed) * 1000).toLocaleString('en-US')} ops/s, ${((elapsed * 1000) / ops).toFixed(2)} µs/op (no V8 profiler)`)
  process.exit(0)
}
const { profile } = await session.post('Profiler.stop')
session.disconnect()
if (out) writeFileSync(out, JSON.stringify(profile))

// Self time per node from the sample stream.
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const self = new Map()
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
}
const total = [...self.values()].reduce((a, b) => a + b, 0)
const fnKey = (n) => {
  const cf = n.callFrame
  const file = cf.url ? cf.url.replace(`file://${ROOT}/`, '').replace(/^.*node_modules\//, '') : ''
  return `${cf.functionName || '(anonymous)'}${file ? ` ${file}:${cf.lineNumber + 1}` : ' [native]'}`
}
const layer = (n) => {
  const { url, functionName } = n.callFrame
  if (functionName.startsWith('(')) return functionName
  if (!url) return 'native (addon methods, V8/Node builtins)'
  if (url.startsWith('node:')) return 'Node internals (JS)'
  if (url.includes('/lib/')) return 'package JS (lib/)'
  if (url.includes('/bench/')) return 'harness loop'
  return 'other JS'
}
const agg = (keyOf) => {
  const m = new Map()
  for (const [id, us] of self) {
    const k = keyOf(byId.get(id))
    m.set(k, (m.get(k) ?? 0) + us)
  }
  return [...m].sort((a, b) => b[1] - a[1])
}
const perOpUs = (elapsed * 1000) / ops
console.log(`workload ${workload}: ${ops.toLocaleString('en-US')} ops in ${(elapsed / 1000).toFixed(2)} s = ${Math.round((ops / elapsed) * 1000).toLocaleString('en-US')} ops/s, ${perOpUs.toFixed(2)} µs/op (under the profiler)`)
console.log('\nself time by layer:')
for (const [k, us] of agg(layer)) console.log(`  ${((us / total) * 100).toFixed(1).padStart(5)}%  ${((us / total) * perOpUs).toFixed(2).padStart(7)} µs/op  ${k}`)
console.log('\nself time by function (top 20):')
for (const [k, us] of agg(fnKey).slice(0, 20)) console.log(`  ${((us / total) * 100).toFixed(1).padStart(5)}%  ${k}`)
