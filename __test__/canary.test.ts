// Secret canaries (issue 7 item 6, catalogue N-09): canary secret keys, machine secret keys
// and tokens are driven through every error path of every public surface — verification
// (bad options, 401s, timeouts, network errors, JWKS failures, token errors), the M2M client
// and the console layer — in a child process with every debug switch on. Every message,
// stack, util.inspect (hidden properties and causes included), JSON.stringify of the errors
// and results, and everything the child wrote to stdout/stderr, is searched: no canary may
// appear beyond a 7-character prefix.
//
// The package itself has no logging; "debug on" here means NODE_DEBUG for Node's network
// modules, RUST_LOG=trace and RUST_BACKTRACE=full, so that anything that did log would be caught.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { createServer } from 'node:net'
import { resolve } from 'node:path'
import { startEmulator, type Emulator } from '../lib/emulator.js'
import { createCanaries, leaksOf } from './helpers/canaries'

const root = resolve(__dirname, '..')
const CANARIES = createCanaries()
const leaks = (text: unknown) => leaksOf(CANARIES, text)

async function closedPortUrl(): Promise<string> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((r) => server.close(() => r()))
  return `http://127.0.0.1:${port}`
}

let ok: Emulator
let hung: Emulator
let broken: Emulator
let garbage: Emulator
let closedUrl: string

beforeAll(async () => {
  ;[ok, hung, broken, garbage] = await Promise.all([startEmulator(), startEmulator(), startEmulator(), startEmulator()])
  closedUrl = await closedPortUrl()
  const routes = ['jwks', 'm2m_create', 'm2m_list', 'm2m_revoke', 'm2m_verify'] as const
  for (const r of routes) {
    await hung.setFault(r, { type: 'hang' })
    await broken.setFault(r, { type: 'status', status: 500 })
    await garbage.setFault(r, { type: 'non_json', status: 200 })
  }
})
afterAll(async () => {
  await Promise.all([ok, hung, broken, garbage].map((e) => e?.stop()))
})

// The scenario, run in a child process: every path records the texts it produced.
const SCENARIO = `
const util = require('node:util')
const lib = require('./lib/index.js')
const native = require('./index.js')
const consoleLayer = require('./lib/console.js')
const { SK, AK, MT, JWT, OK, OK_MSK, HUNG, BROKEN, GARBAGE, CLOSED, OK_JWT } = process.env
const records = []
const inspectAll = (v) => util.inspect(v, { depth: Infinity, showHidden: true, getters: true })
function texts(v) {
  const out = [inspectAll(v)]
  try { out.push(JSON.stringify(v)) } catch (e) { out.push('unserialisable: ' + e.message) }
  if (v instanceof Error) {
    out.push(String(v), v.message, String(v.stack))
    if (typeof v.getFullMessage === 'function') out.push(v.getFullMessage())
    for (let c = v.cause, i = 0; c && i < 5; c = c.cause, i++) out.push(inspectAll(c), String(c && c.stack))
  }
  return out
}
async function path(name, fn) {
  try {
    const r = await fn()
    const errs = r && Array.isArray(r.errors) ? r.errors : r && r.isAuthenticated === false ? [r.error] : []
    const outcome = errs.length ? (r.errors ? 'errors:' : 'unauthenticated:') + errs.map((e) => e.code).join(',') : 'resolved'
    records.push({ name, outcome, texts: [...texts(r), ...errs.flatMap(texts)] })
  } catch (e) {
    records.push({ name, outcome: 'threw:' + (e && e.constructor && e.constructor.name), texts: texts(e) })
  }
}
const fns = { verifyMachineAuthToken: lib.verifyMachineAuthToken, verifyM2MToken: lib.verifyM2MToken }
;(async () => {
  for (const [fname, verify] of Object.entries(fns)) {
    // Bad options.
    await path(fname + ' apiUrl not https', () => verify(MT, { secretKey: SK, apiUrl: 'http://evil.test' }))
    await path(fname + ' credentials in apiUrl', () => verify(MT, { machineSecretKey: AK, apiUrl: 'https://user:' + SK + '@api.clerk.com' }))
    await path(fname + ' NaN timeout', () => verify(MT, { secretKey: SK, timeoutMs: NaN }))
    await path(fname + ' non-string secretKey', () => verify(MT, { secretKey: { SK }, machineSecretKey: [AK] }))
    await path(fname + ' secret as jwtKey', () => verify(JWT, { jwtKey: SK }))
    await path(fname + ' token as jwtKey', () => verify(JWT, { jwtKey: MT + '\\n' + JWT }))
    await path(fname + ' secret as audience', () => verify(JWT, { jwtKey: SK, audience: [SK, 5] }))
    await path(fname + ' secret as apiVersion', () => verify(MT, { secretKey: SK, apiUrl: OK, apiVersion: SK + '/..' }))
    // 401s: wrong machine key, wrong secret key (JWKS), no key at all.
    await path(fname + ' 401 machine key', () => verify(MT, { machineSecretKey: AK, apiUrl: OK }))
    await path(fname + ' 401 secret key (opaque)', () => verify(MT, { secretKey: SK, apiUrl: OK }))
    await path(fname + ' 401 secret key (JWKS)', () => verify(OK_JWT, { secretKey: SK, apiUrl: OK }))
    await path(fname + ' 404 unknown token', () => verify(MT, { machineSecretKey: OK_MSK, apiUrl: OK }))
    // Timeouts.
    await path(fname + ' timeout opaque', () => verify(MT, { machineSecretKey: AK, apiUrl: HUNG, timeoutMs: 300 }))
    await path(fname + ' timeout JWKS', () => verify(JWT, { secretKey: SK, apiUrl: HUNG, timeoutMs: 300 }))
    // Network errors.
    await path(fname + ' refused opaque', () => verify(MT, { machineSecretKey: AK, apiUrl: CLOSED }))
    await path(fname + ' refused JWKS', () => verify(JWT, { secretKey: SK, apiUrl: CLOSED }))
    await path(fname + ' DNS failure', () => verify(MT, { machineSecretKey: AK, apiUrl: 'https://canary-dns-failure.invalid', timeoutMs: 2000 }))
    // JWKS and API failures.
    await path(fname + ' 500 JWKS', () => verify(JWT, { secretKey: SK, apiUrl: BROKEN }))
    await path(fname + ' 500 opaque', () => verify(MT, { machineSecretKey: AK, apiUrl: BROKEN }))
    await path(fname + ' garbage JWKS', () => verify(JWT, { secretKey: SK, apiUrl: GARBAGE }))
    await path(fname + ' garbage opaque', () => verify(MT, { machineSecretKey: AK, apiUrl: GARBAGE }))
    // Token errors.
    await path(fname + ' kid not in JWKS', () => verify(JWT, { secretKey: OK_SK(), apiUrl: OK }))
    await path(fname + ' wrong PEM', () => verify(JWT, { jwtKey: process.env.PEM, apiUrl: CLOSED }))
    await path(fname + ' no key', () => verify(JWT, { apiUrl: CLOSED }))
    await path(fname + ' secret as token', () => verify(SK, { secretKey: SK }))
    await path(fname + ' machine secret as token', () => verify(AK + '\\r\\n', { secretKey: SK, apiUrl: CLOSED }))
    await path(fname + ' truncated JWT', () => verify(JWT.slice(0, -1), { secretKey: SK, apiUrl: CLOSED }))
    await path(fname + ' oversized token', () => verify(MT + 'x'.repeat(20000), { secretKey: SK }))
  }

  // The M2M client.
  await path('client bad apiUrl', () => lib.createM2MClient({ secretKey: SK, machineSecretKey: AK, apiUrl: 'http://evil.test' }))
  await path('client credentials in apiUrl', () => lib.createM2MClient({ machineSecretKey: AK, apiUrl: 'https://x:' + AK + '@api.clerk.com' }))
  await path('client non-string key', () => lib.createM2MClient({ secretKey: 42, machineSecretKey: { AK } }))
  for (const [label, apiUrl] of [['401', OK], ['timeout', HUNG], ['500', BROKEN], ['garbage', GARBAGE], ['refused', CLOSED]]) {
    const client = lib.createM2MClient({ secretKey: SK, machineSecretKey: AK, apiUrl, timeoutMs: 300 })
    await path('client inspect ' + label, () => ({ inspected: inspectAll(client), json: JSON.stringify(client) }))
    await path('client create ' + label, () => client.createToken({ secondsUntilExpiration: 60, claims: { note: 'canary' } }))
    await path('client create per-call key ' + label, () => client.createToken({ machineSecretKey: AK + 'x' }))
    await path('client revoke ' + label, () => client.revokeToken({ m2mTokenId: 'mt_' + '2'.repeat(27), revocationReason: 'canary' }))
    await path('client list ' + label, () => client.list({ subject: 'mch_canary', limit: 5 }))
    await path('client verify opaque ' + label, () => client.verify({ token: MT, machineSecretKey: AK }))
    await path('client verify JWT ' + label, () => client.verify({ token: JWT }))
  }
  await path('client revoke bad id', () => lib.createM2MClient({ machineSecretKey: AK, apiUrl: OK }).revokeToken({ m2mTokenId: '../machines/mch_x' }))
  await path('client verify non-string', () => lib.createM2MClient({ machineSecretKey: AK, apiUrl: OK }).verify({ token: { MT } }))

  // The console layer.
  const env = { CLERK_SECRET_KEY: SK, CLERK_MACHINE_SECRET_KEY_TRPC: AK, CLERK_API_URL: OK, CLERK_M2M_TOKEN_WEBHOOK: 'not a token ' + MT }
  await path('console authenticate 401', () => consoleLayer.authenticateM2MRequest({ authorization: 'Bearer ' + MT }, { env, receiver: 'trpc' }))
  await path('console authenticate JWT', () => consoleLayer.authenticateM2MRequest({ authorization: 'Bearer ' + JWT }, { env, receiver: 'trpc' }))
  await path('console authenticate other scheme', () => consoleLayer.authenticateM2MRequest({ authorization: 'Basic ' + MT }, { env }))
  await path('console authenticate two values', () => consoleLayer.authenticateM2MRequest({ authorization: 'Bearer ' + MT + ' ' + AK }, { env }))
  await path('console verify timeout', () => consoleLayer.verifyM2MToken(MT, { env: { ...env, CLERK_API_URL: HUNG }, receiver: 'trpc', timeoutMs: 300 }))
  await path('console verify refused', () => consoleLayer.verifyM2MToken(MT, { env: { ...env, CLERK_API_URL: CLOSED }, receiver: 'trpc' }))
  await path('console verify bad options', () => consoleLayer.verifyM2MToken(MT, { env, secretKey: 42, timeoutMs: 'x' }))
  await path('console getM2MToken malformed', () => consoleLayer.getM2MToken('webhook', { env }))
  const provider = consoleLayer.createM2MTokenProvider({ machineSecretKey: AK, apiUrl: OK, retryDelayMs: 0 })
  await path('console provider inspect', () => ({ inspected: inspectAll(provider), json: JSON.stringify(provider) }))
  await path('console provider 401', () => provider.getToken())
  await path('console provider timeout', () => consoleLayer.createM2MTokenProvider({ machineSecretKey: AK, apiUrl: HUNG, timeoutMs: 300 }).getToken())

  // Objects that hold secrets.
  await path('NativeVerifier inspect', () => { const v = new native.NativeVerifier({ secretKey: SK, machineSecretKey: AK }); return { inspected: inspectAll(v), json: JSON.stringify(v) } })
  await path('unhandled rejection', () => { Promise.reject(new lib.MachineTokenVerificationError({ message: 'x', code: 'token-invalid' })); return new Promise((r) => setTimeout(r, 50)) })

  process.stdout.write('\\n@@RECORDS@@' + JSON.stringify(records))
})().catch((e) => { console.error('scenario failed', e); process.exit(1) })
function OK_SK() { return process.env.OK_SK }
`

describe('secret canaries', () => {
  it('N-09 no secret or token appears beyond a 7-character prefix on any error path', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const okJwt = await ok.signJwt({ alg: 'RS256', typ: 'JWT', kid: ok.instances[0].kid }, { sub: 'mch_canary', exp: Math.floor(Date.now() / 1000) + 600 })
    const r = spawnSync(process.execPath, ['--unhandled-rejections=warn', '-e', SCENARIO], {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
      maxBuffer: 64 * 1024 * 1024,
      env: {
        ...process.env,
        NODE_DEBUG: 'http,net,tls,fetch,undici',
        RUST_LOG: 'trace',
        RUST_BACKTRACE: 'full',
        SK: CANARIES.secretKey.value,
        AK: CANARIES.machineSecretKey.value,
        MT: CANARIES.opaqueToken.value,
        JWT: CANARIES.jwt.value,
        OK: ok.url,
        OK_SK: ok.secretKey,
        OK_MSK: ok.machines.trpc.secretKey,
        OK_JWT: okJwt,
        HUNG: hung.url,
        BROKEN: broken.url,
        GARBAGE: garbage.url,
        CLOSED: closedUrl,
        PEM: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      },
    })
    expect(r.signal, r.stderr).toBeNull()
    expect(r.status, r.stderr).toBe(0)
    const marker = r.stdout.lastIndexOf('@@RECORDS@@')
    expect(marker, r.stdout + r.stderr).toBeGreaterThanOrEqual(0)
    const records = JSON.parse(r.stdout.slice(marker + '@@RECORDS@@'.length)) as Array<{ name: string; outcome: string; texts: string[] }>

    // Every path ran and failed (or, for the inspect probes, produced text).
    expect(records.length).toBeGreaterThan(100)
    const byOutcome: Record<string, number> = {}
    for (const rec of records) byOutcome[rec.outcome.split(':')[0]] = (byOutcome[rec.outcome.split(':')[0]] ?? 0) + 1
    for (const rec of records.filter((x) => !x.name.includes('inspect') && !x.name.startsWith('unhandled'))) {
      expect(rec.outcome, rec.name).not.toBe('resolved')
    }

    if (process.env.CANARY_VERBOSE) for (const rec of records) console.log(`${rec.name}: ${rec.outcome}`)
    const problems: string[] = []
    for (const rec of records) {
      for (const text of rec.texts) for (const l of leaks(text)) problems.push(`${rec.name}: ${l}`)
    }
    const outside = r.stdout.slice(0, marker) + r.stderr
    for (const l of leaks(outside)) problems.push(`child stdout/stderr: ${l}`)
    const scanned = records.reduce((n, rec) => n + rec.texts.reduce((m, t) => m + (typeof t === 'string' ? t.length : 0), 0), 0) + outside.length
    console.log(
      `N-09 canaries: ${records.length} error paths, ${records.reduce((n, x) => n + x.texts.length, 0)} texts (${Math.round(scanned / 1024)} KiB) scanned, ` +
        `outcomes ${JSON.stringify(byOutcome)}, ${problems.length} leak(s)`,
    )
    expect(problems).toEqual([])
  }, 150_000)

  it('N-09 the canary check itself finds a leak (so it cannot pass vacuously)', () => {
    // (The canaries share the text "CANARY", so one leak can match windows of several of them.)
    expect(leaks(`oops ${CANARIES.secretKey.value}`)).toContain(leaks(`oops ${CANARIES.secretKey.value}`).find((x) => x.startsWith('secretKey')))
    expect(leaks(`oops ${CANARIES.secretKey.value}`).length).toBeGreaterThan(0)
    expect(leaks(`prefix only: ${CANARIES.secretKey.value.slice(0, 7)}… and ${CANARIES.opaqueToken.value.slice(0, 7)}…`)).toEqual([])
    expect(leaks(`a window: ${CANARIES.machineSecretKey.value.slice(12, 20)}`)).toEqual([expect.stringMatching(/^machineSecretKey/)])
    expect(leaks(`jwt signature: ${CANARIES.jwt.value.split('.')[2].slice(10, 18)}`)).toEqual([expect.stringMatching(/^jwt/)])
    expect(leaks(`jwt header: ${CANARIES.jwt.value.split('.')[0]}`)).toEqual([])
  })
})
