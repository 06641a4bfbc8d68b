// Child process for the memory measurement: loads ONE implementation (so the
// other's heap, JIT code and native allocations are not in this process), runs
// `count` PEM verifications one at a time with default options (caches on),
// and prints one JSON line with its memory figures. Run by bench/run.mjs as
//   node --expose-gc bench/lib/rss-child.mjs '{"impl":"native","count":100000,"tokensFile":…,"pemFile":…,"root":…}'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

const args = JSON.parse(process.argv[2])
const tokens = JSON.parse(readFileSync(args.tokensFile, 'utf8'))
const options = { jwtKey: readFileSync(args.pemFile, 'utf8') }

let verify
if (args.impl === 'native') {
  verify = createRequire(join(args.root, 'package.json'))(join(args.root, 'lib', 'index.js')).verifyMachineAuthToken
} else {
  verify = (await import('@clerk/backend/internal')).verifyMachineAuthToken
}

const mem = () => {
  const m = process.memoryUsage()
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers }
}
const check = (r) => {
  if (!r || r.errors !== undefined || !r.data) throw new Error(`${args.impl} rejected a valid token: ${r?.errors?.[0]?.message}`)
}

check(await verify(tokens[0], options))
globalThis.gc?.()
const baseline = mem()
const t0 = performance.now()
for (let i = 0; i < args.count; i++) check(await verify(tokens[i % tokens.length], options))
const seconds = (performance.now() - t0) / 1000
const end = mem()
globalThis.gc?.()
const afterGc = mem()
process.stdout.write(
  `${JSON.stringify({
    impl: args.impl,
    count: args.count,
    distinctTokens: Math.min(tokens.length, args.count),
    seconds,
    baseline,
    end,
    afterGc,
    peakRss: process.resourceUsage().maxRSS * 1024,
  })}\n`,
)
