#!/usr/bin/env node
// `npm run bench`: clerk-m2m-native against @clerk/backend@3.25.0, jose, fast-jwt,
// jsonwebtoken and the node:crypto floor, on the same tokens, in one process,
// with interleaved rounds; then an HTTP service per row under autocannon
// (bench/lib/e2e/, workloads e2e-distinct and e2e-same). See docs/BENCHMARKS.md for the method and the latest
// results (this script rewrites the part between the bench markers).
//
//   node bench/run.mjs            full run (~2–4 min on 2 cores), writes docs/BENCHMARKS.md + docs/benchmarks.svg
//   node bench/run.mjs --quick    ~30 s smoke run; writes the docs only with --write
//   options: --no-write, --write, --json FILE, --skip-rss, --skip-openssl, --only pem,jwks,…, --wait-idle [SECONDS],
//            --render FILE (rewrite the docs from a --json file, measuring nothing)
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

import { assertHonest, batchImpls, detectionImpls, jwtImpls, loadLibraries, opaqueImpls } from './lib/impls.mjs'
import { opensslSpeed } from './lib/openssl.mjs'
import { loadReference } from './lib/oracle.mjs'
import { writeReports, printWorkload, printTargets, printRss } from './lib/report.mjs'
import { runWorkload } from './lib/runner.mjs'
import { e2eRows, runE2E } from './lib/e2e/run-e2e.mjs'
import { evaluateTargets } from './lib/targets.mjs'
import { generateBenchKey, m2mClaims, signClaims, signPool, tamperPayload, tamperSignature } from './lib/tokens.mjs'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const argv = process.argv.slice(2)
const flag = (name) => argv.includes(name)
const value = (name) => {
  const i = argv.indexOf(name)
  return i >= 0 ? argv[i + 1] : undefined
}
const QUICK = flag('--quick')
const WRITE = flag('--write') || (!QUICK && !flag('--no-write'))
const ONLY = value('--only')?.split(',')
const wanted = (id) => !ONLY || ONLY.some((o) => id === o || id.startsWith(`${o}-`))

/** Run sizes. Distinct-token workloads use fixed rounds so every implementation verifies the same tokens in the same order. */
const CFG = QUICK
  ? { rounds: 5, latencyEvery: 5, distinctOps: 150, batchSize: 64, batchOps: 128, targetMs: 20, warmMs: 60, opaqueRounds: 5, opaqueC1Ops: 40, opaqueC64Ops: 256, opaqueTokens: 128, rssCount: 10_000, opensslSeconds: 1 }
  : { rounds: 16, latencyEvery: 4, distinctOps: 250, batchSize: 64, batchOps: 256, targetMs: 30, warmMs: 120, opaqueRounds: 8, opaqueC1Ops: 100, opaqueC64Ops: 512, opaqueTokens: 256, rssCount: 100_000, opensslSeconds: 3 }
const WARM_TOKENS = 450
/** The end-to-end workload (bench/lib/e2e/): rounds of ~roundSec of load per row, autocannon with `connections`. */
const E2E = QUICK
  ? { rounds: 3, roundSec: 0.4, connections: 32, warmTokens: 1500, maxAmount: 12_000, pauseMs: 150 }
  : { rounds: 5, roundSec: 0.75, connections: 32, warmTokens: 3000, maxAmount: 20_000, pauseMs: 250 }

const t0 = Date.now()
const log = (msg) => process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${msg}\n`)

function machineInfo() {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown'
  try {
    const m = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m)
    if (m) cpuModel = m[1].trim()
  } catch {
    // Not Linux: os.cpus() is what there is.
  }
  return {
    nproc: os.availableParallelism(),
    cpuModel,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    date: new Date().toISOString(),
    totalMem: os.totalmem(),
    loadAvgStart: os.loadavg(),
  }
}

function loadPackage() {
  const require = createRequire(join(ROOT, 'package.json'))
  const pkg = require(join(ROOT, 'lib', 'index.js'))
  if (typeof pkg.verifyMachineAuthToken !== 'function') throw new Error('lib/index.js does not export verifyMachineAuthToken')
  const bin = join(ROOT, `clerk-m2m-native.${process.platform}-${process.arch}${process.platform === 'linux' ? '-gnu' : ''}.node`)
  const built = existsSync(bin) ? statSync(bin).mtime.toISOString() : null
  loadPackage.addonPath = bin
  return { pkg, addonBuilt: built, hasVerifier: typeof pkg.createM2MVerifier === 'function' }
}

async function fetchJwks(emu) {
  const res = await fetch(`${emu.url}/v1/jwks`, { headers: { authorization: `Bearer ${emu.secretKey}` } })
  if (!res.ok) throw new Error(`JWKS fetch failed: ${res.status}`)
  return res.json()
}

/** Mints opaque M2M tokens from `webhook` (scoped to `trpc`) over HTTP, 8 at a time. */
async function mintOpaque(emu, count) {
  const out = []
  let next = 0
  const worker = async () => {
    while (next < count) {
      next++
      const res = await fetch(`${emu.url}/m2m_tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${emu.machines.webhook.secretKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ seconds_until_expiration: 3 * 3600 }),
      })
      if (res.status !== 200) throw new Error(`minting an opaque token failed: ${res.status} ${await res.text()}`)
      const body = await res.json()
      if (typeof body.token !== 'string' || !body.token.startsWith('mt_')) throw new Error('the emulator did not return an opaque mt_ token')
      out.push(body.token)
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker))
  return out
}

function runChild(args) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', join(ROOT, 'bench', 'lib', 'rss-child.mjs'), JSON.stringify(args)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    child.on('error', reject)
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`rss child (${args.impl}) exited with ${code}: ${err.slice(-2000)}`))
      try {
        resolvePromise(JSON.parse(out.trim().split('\n').pop()))
      } catch (e) {
        reject(new Error(`rss child (${args.impl}) printed no result: ${e.message}; stderr: ${err.slice(-2000)}`))
      }
    })
  })
}

/**
 * `--wait-idle [SECONDS]`: on a shared machine, wait (default up to 300 s) until the
 * 1-minute load average is below half the core count before measuring anything.
 */
async function waitForIdle() {
  if (!flag('--wait-idle')) return null
  const limitSec = Number(value('--wait-idle')) > 0 ? Number(value('--wait-idle')) : 300
  const threshold = os.availableParallelism() * 0.5
  const start = Date.now()
  while (os.loadavg()[0] >= threshold && Date.now() - start < limitSec * 1000) {
    log(`waiting for the machine to calm down: load ${os.loadavg()[0].toFixed(2)} ≥ ${threshold}`)
    await new Promise((r) => setTimeout(r, 15_000))
  }
  return { waitedSec: (Date.now() - start) / 1000, idle: os.loadavg()[0] < threshold }
}

async function main() {
  const idle = await waitForIdle()
  const tStart = Date.now()
  const machine = machineInfo()
  if (idle) machine.waitedForIdleSec = Math.round(idle.waitedSec)
  if (idle && !idle.idle) log(`still busy after ${Math.round(idle.waitedSec)} s; measuring anyway`)
  log(`${QUICK ? 'quick' : 'full'} run on ${machine.nproc} × ${machine.cpuModel}, Node ${machine.node}, load ${machine.loadAvgStart.map((x) => x.toFixed(2)).join(' ')}`)

  const { pkg, addonBuilt, hasVerifier } = loadPackage()
  const ref = await loadReference(ROOT)
  const libs = await loadLibraries(ROOT)
  const versions = {
    'clerk-m2m-native': JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version,
    '@clerk/backend': ref.version,
    ...libs.versions,
  }

  // 1. The physical limit, measured while this process is idle.
  let openssl = { available: false, reason: 'skipped (--skip-openssl)' }
  if (!flag('--skip-openssl')) {
    log(`openssl speed -seconds ${CFG.opensslSeconds} rsa2048 …`)
    openssl = await opensslSpeed(CFG.opensslSeconds)
    log(openssl.available ? `openssl: ${Math.round(openssl.verifyPerSec)} verify/s, ${Math.round(openssl.signPerSec)} sign/s` : `openssl: ${openssl.reason}`)
  }

  // 2. The key, the few tokens the honesty checks need, and the emulator (serves the
  //    harness key in JWKS; mints and verifies opaque tokens).
  const key = generateBenchKey()
  const nowSec = Math.floor(Date.now() / 1000)
  const salt = `r${Date.now().toString(36)}`
  const signOne = (index, at = nowSec, ttlSec = 3 * 3600) => {
    const { header, payload } = m2mClaims({ kid: key.kid, index, salt, nowSec: at, ttlSec })
    return signClaims(header, payload, key.privateKey)
  }
  const sameToken = signOne(900_000_001)
  const validToken = signOne(900_000_002)
  const honesty = { valid: validToken, tampered: [tamperPayload(validToken), tamperSignature(validToken)], expired: signOne(900_000_003, nowSec - 7200, 3600) }

  const { startEmulator } = createRequire(join(ROOT, 'package.json'))(join(ROOT, 'lib', 'emulator.js'))
  const emu = await startEmulator()
  const results = []
  const skipped = []
  let rss = null
  let pools = {}
  let sizes = {}
  try {
    await emu.importSigningKey({ privateKeyPem: key.privatePem, kid: key.kid })
    const jwks = await fetchJwks(emu)
    if (!jwks.keys?.some((k) => k.kid === key.kid)) throw new Error('the emulator JWKS does not serve the harness key')
    const opaque = wanted('opaque-c1') || wanted('opaque-c64') ? await mintOpaque(emu, CFG.opaqueTokens) : []
    log(`emulator at ${emu.url}: JWKS has ${jwks.keys.length} key(s); ${opaque.length} opaque tokens minted`)

    const runCfg = { rounds: CFG.rounds, latencyEvery: CFG.latencyEvery, targetMs: CFG.targetMs, warmMs: CFG.warmMs, log }
    const workloads = [
      {
        id: 'pem',
        title: 'PEM key, distinct tokens, one at a time',
        kind: 'sequential',
        distinct: true,
        impls: jwtImpls({ mode: 'pem', pkg, ref, libs, key, withVerifier: false, withSubscriber: true }),
        inputs: 'pem',
        warmInputs: 'warm',
        opsPerRound: CFG.distinctOps,
      },
      {
        id: 'jwks',
        title: 'Warm JWKS (secretKey + apiUrl), distinct tokens, one at a time',
        kind: 'sequential',
        distinct: true,
        impls: jwtImpls({ mode: 'jwks', pkg, ref, libs, key, emu, jwks, withVerifier: false }),
        inputs: 'jwks',
        warmInputs: 'warm',
        opsPerRound: CFG.distinctOps,
      },
      {
        id: 'same',
        title: 'Same token repeated (PEM), one at a time',
        kind: 'sequential',
        impls: jwtImpls({ mode: 'pem', pkg, ref, libs, key, fastJwtCache: true, withSubscriber: true }),
        inputs: [sameToken],
        minOps: 200,
      },
      {
        id: 'batch',
        title: `Batches of ${CFG.batchSize} in flight (PEM, distinct tokens)`,
        kind: 'batch',
        distinct: true,
        batchSize: CFG.batchSize,
        impls: batchImpls({ pkg, ref, libs, key }),
        inputs: 'batch',
        warmInputs: 'warm',
        warmOps: 192,
        opsPerRound: CFG.batchOps,
      },
      ...['isM2MJwt', 'getMachineTokenType'].map((fn) => ({
        id: `detect-${fn}`,
        title: `Detection: ${fn} on M2M JWTs (sync)`,
        kind: 'sequential',
        impls: detectionImpls({ pkg, ref, fn }),
        inputs: 'warm',
        minOps: 1000,
        warmOps: 450,
      })),
      {
        id: 'opaque-c1',
        title: 'Opaque mt_ tokens via the emulator, concurrency 1',
        kind: 'sequential',
        latencyAlways: true,
        rounds: CFG.opaqueRounds,
        impls: opaqueImpls({ pkg, ref, emu }),
        inputs: opaque,
        opsPerRound: CFG.opaqueC1Ops,
        warmOps: 40,
      },
      {
        id: 'opaque-c64',
        title: 'Opaque mt_ tokens via the emulator, concurrency 64',
        kind: 'concurrent',
        concurrency: 64,
        latencyAlways: true,
        rounds: CFG.opaqueRounds,
        impls: opaqueImpls({ pkg, ref, emu }),
        inputs: opaque,
        opsPerRound: CFG.opaqueC64Ops,
        warmOps: 128,
      },
    ].filter((w) => wanted(w.id))

    // Honesty first: every implementation accepts a valid token and rejects tampered/expired ones.
    // An optional row (the package's createM2MVerifier/verifyMany) that fails is dropped with a
    // warning; the primary, the reference and the libraries failing stops the run.
    let checks = 0
    for (const w of workloads) {
      const keep = []
      for (const impl of w.impls) {
        try {
          if (w.id.startsWith('detect-')) {
            if (impl.verify(honesty.valid) !== (w.id === 'detect-isM2MJwt' ? true : 'm2m_token')) throw new Error(`${impl.name} misdetects an M2M JWT`)
            checks += 1
          } else if (w.id.startsWith('opaque-')) {
            const tampered = `mt_${'0'.repeat(opaque[0].length - 3)}`
            checks += await assertHonest({ ...impl, checksExp: false }, { valid: opaque[0], tampered: [tampered], expired: null })
          } else {
            checks += await assertHonest(impl, honesty)
          }
          keep.push(impl)
        } catch (err) {
          if (!impl.optional) throw err
          skipped.push(`${w.id}: ${err.message}`)
          log(`skipping ${impl.name} in ${w.id}: ${err.message}`)
        }
      }
      w.impls = keep
    }
    log(`honesty: ${checks} accept/reject checks passed`)

    // 3. Distinct token pools, signed on worker threads. In a distinct-token workload every
    //    implementation verifies the same pool in the same order, except that each further
    //    row of this package (createM2MVerifier, verifyMany, one at a time) gets a pool of its own: the
    //    package's verified-token cache may be shared between its verifiers, and a row must
    //    never be measured on tokens another row of the package has already verified.
    sizes = { warm: WARM_TOKENS }
    for (const w of workloads) {
      if (!w.distinct) continue
      w.impls
        .filter((i) => i.family === 'native' || i.family === 'native-sequential')
        .forEach((impl, k) => {
          const name = k === 0 ? w.inputs : `${w.inputs}#${k}`
          sizes[name] = CFG.rounds * w.opsPerRound
          if (k > 0) impl.poolName = name
        })
    }
    const total = Object.values(sizes).reduce((x, y) => x + y, 0)
    log(`signing ${total.toLocaleString('en-US')} distinct RS256 M2M JWTs on worker threads …`)
    const tSign = Date.now()
    const all = await signPool({ key, start: 0, count: total, nowSec, salt })
    if (new Set(all).size !== all.length) throw new Error('token pool is not distinct')
    let off = 0
    for (const [name, n] of Object.entries(sizes)) {
      pools[name] = all.slice(off, off + n)
      off += n
    }
    log(`signed in ${((Date.now() - tSign) / 1000).toFixed(1)} s`)
    for (const w of workloads) {
      if (typeof w.inputs === 'string') w.inputs = pools[w.inputs]
      if (typeof w.warmInputs === 'string') w.warmInputs = pools[w.warmInputs]
      for (const impl of w.impls) if (impl.poolName) impl.pool = pools[impl.poolName]
    }

    for (const w of workloads) {
      log(`workload ${w.id}: ${w.impls.map((i) => i.name).join(', ')}`)
      const r = await runWorkload(w, runCfg)
      results.push(r)
      printWorkload(r)
    }
  } finally {
    await emu.stop()
  }

  // 4. End to end: an HTTP service per row in its own process, autocannon in another.
  if (wanted('e2e-distinct') || wanted('e2e-same')) {
    let next = Object.values(sizes).reduce((x, y) => x + y, 0)
    const signTokens = async (count) => {
      const tokens = await signPool({ key, start: next, count, nowSec, salt })
      next += count
      return tokens
    }
    const tE2E = Date.now()
    const e2e = await runE2E({
      root: ROOT,
      key,
      honesty,
      sameToken,
      signTokens,
      cfg: E2E,
      rows: e2eRows({ hasVerifier }),
      wanted,
      log,
    })
    for (const r of e2e) {
      results.push(r)
      printWorkload(r)
    }
    sizes.e2e = next - Object.values(sizes).reduce((x, y) => x + y, 0)
    log(`e2e done in ${((Date.now() - tE2E) / 1000).toFixed(1)} s`)
  }

  // 5. Memory: each implementation alone in a child process, both at once.
  if (!flag('--skip-rss') && !ONLY) {
    const dir = mkdtempSync(join(os.tmpdir(), 'clerk-m2m-bench-'))
    try {
      const tokensFile = join(dir, 'tokens.json')
      const pemFile = join(dir, 'key.pem')
      writeFileSync(tokensFile, JSON.stringify(Object.values(pools).flat()))
      writeFileSync(pemFile, key.publicPem)
      log(`RSS: ${CFG.rssCount.toLocaleString('en-US')} verifications in each of two child processes …`)
      const [native, reference] = await Promise.all(
        ['native', 'reference'].map((impl) => runChild({ impl, count: CFG.rssCount, tokensFile, pemFile, root: ROOT })),
      )
      rss = { native, reference }
      printRss(rss)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }

  // The physical limit again, after the run: the machine is shared, so the best of the two
  // measurements is the limit the target is held to.
  if (openssl.available) {
    log(`openssl speed -seconds ${CFG.opensslSeconds} rsa2048 (again) …`)
    const again = await opensslSpeed(CFG.opensslSeconds)
    if (again.available) {
      openssl.runs = [openssl.verifyPerSec, again.verifyPerSec]
      openssl.verifyPerSec = Math.max(...openssl.runs)
      openssl.signPerSec = Math.max(openssl.signPerSec, again.signPerSec)
      log(`openssl: ${Math.round(again.verifyPerSec)} verify/s; using the best, ${Math.round(openssl.verifyPerSec)}`)
    }
  }
  machine.loadAvgEnd = os.loadavg()
  const addonNow = loadPackage.addonPath && existsSync(loadPackage.addonPath) ? statSync(loadPackage.addonPath).mtime.toISOString() : null
  if (addonNow !== addonBuilt) {
    skipped.push(`the native addon changed on disk during the run (built ${addonBuilt}, now ${addonNow}); the numbers are of the build loaded at the start`)
    log(`warning: ${skipped.at(-1)}`)
  }
  const byId = Object.fromEntries(results.map((r) => [r.id, r]))
  const targets = evaluateTargets(byId, openssl, rss)
  printTargets(targets)
  const run = {
    quick: QUICK,
    args: argv.filter((a, i) => a !== '--json' && argv[i - 1] !== '--json'),
    durationSec: (Date.now() - tStart) / 1000,
    machine,
    versions,
    addonBuilt,
    hasVerifier,
    config: { ...CFG, e2e: E2E },
    tokens: { distinct: Object.values(sizes).reduce((x, y) => x + y, 0), sizes },
    openssl,
    workloads: results,
    rss,
    targets,
    skipped,
  }
  if (value('--json')) writeFileSync(value('--json'), `${JSON.stringify(run, null, 2)}\n`)
  if (WRITE) {
    const written = writeReports(ROOT, run)
    log(`wrote ${written.join(', ')}`)
  }
  log(`done in ${run.durationSec.toFixed(1)}s; load average now ${machine.loadAvgEnd.map((x) => x.toFixed(2)).join(' ')}`)
}

/** `--render FILE`: rewrite docs/BENCHMARKS.md and the chart from a run saved with --json. */
async function renderOnly(file) {
  const run = JSON.parse(readFileSync(file, 'utf8'))
  for (const wl of run.workloads) printWorkload(wl)
  if (run.rss) printRss(run.rss)
  printTargets(run.targets)
  log(`wrote ${writeReports(ROOT, run).join(', ')}`)
}

;(value('--render') ? renderOnly(value('--render')) : main()).catch((err) => {
  process.stderr.write(`bench failed: ${err.stack ?? err}\n`)
  process.exit(1)
})
