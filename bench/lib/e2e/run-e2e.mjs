// The end-to-end workload: one HTTP service per row, each in its own process
// (service.mjs), loaded by autocannon from another process (loadgen.mjs), in
// interleaved rounds. Two workloads share the services: distinct tokens (every
// request a first sighting for the process that verifies it) and one repeated
// token. Per row and round: requests/s and p50/p99 from the load generator;
// event-loop active time, CPU and requests answered from inside the service.
import { fork } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseLoadResult, planSlices, roundAmount, serviceWindow, summarizeRounds } from './metrics.mjs'

const HERE = dirname(fileURLToPath(import.meta.url))

/** Frameworks the services run on (names of service.mjs's FRAMEWORKS); a Fastify row is one more name here. */
export const FRAMEWORKS = ['node:http']

/**
 * The rows, per framework: the same service without verification (the ceiling),
 * with @clerk/backend, with this package's drop-in, and with a verifier built once.
 * Every row that verifies has a token pool of its own; the ceiling cycles the
 * drop-in's (it reads no token, it only needs the same request bytes).
 */
export function e2eRows({ frameworks = FRAMEWORKS, hasVerifier = true } = {}) {
  const rows = []
  for (const framework of frameworks) {
    const suffix = framework === 'node:http' ? '' : `, ${framework}`
    const pool = (auth) => `e2e:${framework}:${auth}`
    rows.push(
      { name: `no verification (ceiling)${suffix}`, family: 'ceiling', auth: 'none', framework, pool: pool('native'), cycle: true },
      { name: `@clerk/backend${suffix}`, family: 'reference', auth: 'reference', framework, pool: pool('reference') },
      { name: `clerk-m2m-native${suffix}`, family: 'native', primary: framework === 'node:http', auth: 'native', framework, pool: pool('native'), note: 'drop-in verifyMachineAuthToken' },
    )
    if (hasVerifier) {
      rows.push({ name: `clerk-m2m-native createM2MVerifier${suffix}`, family: 'native', auth: 'verifier', framework, pool: pool('verifier'), note: 'built once' })
    }
  }
  return rows
}

/** A forked child answering `{ id, … }` requests over IPC. */
class Child {
  constructor(script, args, label) {
    this.label = label
    this.pending = new Map()
    this.nextId = 1
    this.stderr = ''
    this.proc = fork(script, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: [] })
    this.proc.stderr.on('data', (d) => (this.stderr = (this.stderr + d).slice(-4000)))
    this.ready = new Promise((resolve, reject) => {
      this.proc.once('error', reject)
      this.proc.once('exit', (code) => reject(new Error(`${label} exited with ${code} before it was ready: ${this.stderr}`)))
      this.proc.on('message', (msg) => {
        if (msg?.ready) return resolve(msg)
        const p = this.pending.get(msg?.id)
        if (!p) return
        this.pending.delete(msg.id)
        if (msg.error) p.reject(new Error(`${label}: ${msg.error}`))
        else p.resolve(msg.result ?? msg.snapshot)
      })
    })
    this.proc.on('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`${label} exited with ${code}: ${this.stderr}`))
      this.pending.clear()
    })
  }

  request(msg) {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.proc.send({ ...msg, id })
    })
  }

  stop() {
    if (this.proc.exitCode === null && this.proc.connected) this.proc.send({ cmd: 'stop' })
    setTimeout(() => this.proc.exitCode === null && this.proc.kill(), 2000).unref()
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function status(url, token) {
  const res = await fetch(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } })
  await res.arrayBuffer()
  return res.status
}

/** Every verifying service accepts a valid token and rejects a tampered, an expired and a missing one. */
async function assertServicesHonest(services, honesty) {
  let checks = 0
  for (const s of services) {
    const cases = [['valid', honesty.valid, 200]]
    if (s.row.auth !== 'none') {
      cases.push(...honesty.tampered.map((t, i) => [`tampered#${i + 1}`, t, 401]), ['expired', honesty.expired, 401], ['missing', undefined, 401])
    }
    cases.push(['valid again', honesty.valid, 200])
    for (const [label, token, want] of cases) {
      const got = await status(s.url, token)
      if (got !== want) throw new Error(`${s.row.name}: the ${label} token got HTTP ${got}, expected ${want}; refusing to measure it`)
      checks++
    }
  }
  return checks
}

/** One measured run of `load` against service `s`: the load generator's figures and the service's window. */
async function measure(s, loadgen, load, expected) {
  const before = await s.child.request({ cmd: 'snapshot' })
  const raw = await loadgen.request({ cmd: 'run', url: s.url, connections: load.connections, ...load })
  const after = await s.child.request({ cmd: 'snapshot' })
  const l = parseLoadResult(raw, { expected })
  const w = serviceWindow(before, after)
  if (w.rejected || w.failed) throw new Error(`${s.row.name}: the service rejected ${w.rejected} and failed ${w.failed} valid tokens`)
  return { ...l, ...w }
}

/**
 * Runs both end-to-end workloads. `ctx`: { root, key, honesty, sameToken, signTokens(count) → tokens,
 * cfg: { rounds, roundSec, connections, warmTokens, maxAmount, pauseMs }, rows, wanted(id), log }.
 * Returns workload results (`kind: 'e2e'`) for the report and the targets.
 */
export async function runE2E(ctx) {
  const { cfg, log } = ctx
  const dir = mkdtempSync(join(os.tmpdir(), 'clerk-m2m-e2e-'))
  const children = []
  try {
    const pemFile = join(dir, 'key.pem')
    writeFileSync(pemFile, ctx.key.publicPem)
    const loadgen = new Child(join(HERE, 'loadgen.mjs'), [], 'load generator')
    children.push(loadgen)
    const services = []
    for (const row of ctx.rows) {
      const child = new Child(join(HERE, 'service.mjs'), [JSON.stringify({ auth: row.auth, framework: row.framework, pemFile, root: ctx.root })], `service ${row.name}`)
      children.push(child)
      const { port } = await child.ready
      services.push({ row, child, url: `http://127.0.0.1:${port}/` })
    }
    await loadgen.ready
    log(`e2e: ${services.length} services (${ctx.rows.map((r) => r.name).join(', ')}); load from autocannon, ${cfg.connections} connections`)
    log(`e2e honesty: ${await assertServicesHonest(services, ctx.honesty)} accept/reject checks passed`)

    // Warm-up and calibration on a shared warm pool (each service is its own process,
    // so a token is still a first sighting for each): the first half warms, the second
    // half's rate sizes that row's rounds to about cfg.roundSec.
    const warm = await ctx.signTokens(2 * cfg.warmTokens)
    writeFileSync(join(dir, 'warm'), warm.join('\n'))
    await loadgen.request({ cmd: 'pool', name: 'warm', file: join(dir, 'warm') })
    for (const s of services) {
      await measure(s, loadgen, { amount: cfg.warmTokens, pool: 'warm', start: 0, connections: cfg.connections }, cfg.warmTokens)
      const m = await measure(s, loadgen, { amount: cfg.warmTokens, pool: 'warm', start: cfg.warmTokens, connections: cfg.connections }, cfg.warmTokens)
      s.row.amount = roundAmount(m.rate, { seconds: cfg.roundSec, connections: cfg.connections, min: cfg.connections * 32, max: cfg.maxAmount })
      log(`  ${s.row.name}: ~${Math.round(m.rate)} req/s in calibration → ${s.row.amount} requests a round`)
    }

    const results = []
    const on = `HTTP service (${[...new Set(ctx.rows.map((r) => r.framework))].join(', ')}), ${cfg.connections} connections`
    if (ctx.wanted('e2e-distinct')) {
      const sizes = {}
      for (const s of services) if (!s.row.cycle) sizes[s.row.pool] = Math.max(sizes[s.row.pool] ?? 0, s.row.amount * cfg.rounds)
      for (const s of services) if (s.row.cycle && sizes[s.row.pool] === undefined) sizes[s.row.pool] = s.row.amount
      const total = Object.values(sizes).reduce((a, b) => a + b, 0)
      log(`e2e: signing ${total.toLocaleString('en-US')} distinct tokens for ${Object.keys(sizes).length} pools …`)
      const tokens = await ctx.signTokens(total)
      let off = 0
      for (const [name, n] of Object.entries(sizes)) {
        const file = join(dir, `pool-${Object.keys(sizes).indexOf(name)}`)
        writeFileSync(file, tokens.slice(off, off + n).join('\n'))
        off += n
        await loadgen.request({ cmd: 'pool', name, file })
      }
      const plan = planSlices(services.map((s) => s.row), cfg.rounds, sizes)
      const samples = await rounds(services, cfg, log, 'e2e-distinct', (s, r) => measure(s, loadgen, { amount: s.row.amount, ...plan[s.row.name][r], cycle: Boolean(s.row.cycle), connections: cfg.connections }, s.row.amount))
      results.push(workloadResult('e2e-distinct', `End to end: ${on}, distinct tokens`, services, samples, cfg, 'requests sized to ~equal time'))
    }
    if (ctx.wanted('e2e-same')) {
      for (const s of services) await measure(s, loadgen, { duration: Math.min(0.5, cfg.roundSec), token: ctx.sameToken, connections: cfg.connections })
      const samples = await rounds(services, cfg, log, 'e2e-same', (s) => measure(s, loadgen, { duration: cfg.roundSec, token: ctx.sameToken, connections: cfg.connections }))
      results.push(workloadResult('e2e-same', `End to end: ${on}, one token repeated`, services, samples, cfg, `${cfg.roundSec} s each`))
    }
    return results
  } finally {
    for (const c of children) c.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** R interleaved rounds, the order rotated by one each round, a short pause before each run. */
async function rounds(services, cfg, log, id, run) {
  const samples = new Map(services.map((s) => [s, []]))
  for (let r = 0; r < cfg.rounds; r++) {
    for (let k = 0; k < services.length; k++) {
      const s = services[(k + r) % services.length]
      // Lets the previous run's stragglers (its service's GC, closing sockets) finish first.
      await sleep(cfg.pauseMs)
      samples.get(s).push(await run(s, r))
    }
    log(`  ${id}: round ${r + 1}/${cfg.rounds}`)
  }
  return samples
}

function workloadResult(id, title, services, samples, cfg, sizing) {
  return {
    id,
    title,
    kind: 'e2e',
    rounds: cfg.rounds,
    throughputRounds: cfg.rounds,
    sizing,
    connections: cfg.connections,
    results: services.map((s) => ({
      name: s.row.name,
      family: s.row.family,
      note: s.row.note,
      framework: s.row.framework,
      opsPerRound: id === 'e2e-same' ? undefined : s.row.amount,
      ...summarizeRounds(samples.get(s)),
    })),
  }
}
