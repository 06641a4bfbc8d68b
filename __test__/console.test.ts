// clerk-m2m-native/console against the emulator: environment conventions, verifyM2MToken's
// codes (a revoked opaque token is `revoked`), authenticateM2MRequest over every header
// source, and the token provider (single-flight refresh, surviving a failed refresh).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createRequire } from 'node:module'
import { inspect } from 'node:util'

const require = createRequire(import.meta.url)
const {
  M2MAuthError,
  M2MConfigError,
  getM2MToken,
  isM2MConfigured,
  getExpectedMachineId,
  verifyM2MToken,
  authenticateM2MRequest,
  createM2MTokenProvider,
} = require('../lib/console.js')
const { createM2MClient, M2MToken } = require('../lib/m2m.js')
const { ClerkAPIResponseError, ClerkTransportError, MachineTokenVerificationError } = require('../lib/errors.js')
const { startEmulator } = require('../lib/emulator.js')
import { receiverEnv as receiverEnvOf } from './helpers/emulator'

let emu: any
let webhook: any
let trpc: any
let worker: any
let receiverEnv: Record<string, string>
let webhookClient: any

beforeAll(async () => {
  emu = await startEmulator()
  ;({ webhook, trpc, worker } = emu.machines)
  // What the receiving tRPC service has in its environment.
  receiverEnv = receiverEnvOf(emu)
  webhookClient = createM2MClient({ machineSecretKey: webhook.secretKey, apiUrl: emu.url })
})

afterAll(async () => {
  await emu?.stop()
})

afterEach(async () => {
  await emu.clearFaults()
  await emu.setClockOffset(0)
})

async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p
  } catch (e) {
    return e
  }
  throw new Error('expected a rejection')
}

async function count(route: string): Promise<number> {
  return (await emu.counters())[route] ?? 0
}

const opts = (extra: Record<string, unknown> = {}) => ({ env: receiverEnv, receiver: 'trpc', timeoutMs: 2000, ...extra })

describe('environment conventions', () => {
  it('reads CLERK_M2M_TOKEN_<SERVICE> with upper-casing and - → _; names a missing variable, never a value', () => {
    const env = { CLERK_M2M_TOKEN_WEBHOOK: '  mt_abc123  \n', CLERK_M2M_TOKEN_BILLING_WORKER: 'a.b.c', CLERK_M2M_TOKEN_BAD: 'sk_live_CANARY_value' }
    expect(getM2MToken('webhook', { env })).toBe('mt_abc123')
    expect(getM2MToken('billing-worker', { env })).toBe('a.b.c')
    expect(isM2MConfigured('webhook', { env })).toBe(true)
    expect(isM2MConfigured('inngest', { env })).toBe(false)
    expect(isM2MConfigured('Webhook', { env })).toBe(true)
    const missing = (() => {
      try {
        getM2MToken('inngest', { env })
      } catch (e) {
        return e as any
      }
    })()
    expect(missing).toBeInstanceOf(M2MConfigError)
    expect(missing.variable).toBe('CLERK_M2M_TOKEN_INNGEST')
    expect(missing.message).toMatch(/CLERK_M2M_TOKEN_INNGEST is not set/)
    expect(() => getM2MToken('bad', { env })).toThrow(/CLERK_M2M_TOKEN_BAD does not hold an M2M token/)
    try {
      getM2MToken('bad', { env })
    } catch (e) {
      expect(inspect(e, { showHidden: true })).not.toMatch(/CANARY/)
    }
    expect(() => getM2MToken('../etc', { env })).toThrow(TypeError)
    expect(() => getM2MToken('', { env })).toThrow(TypeError)
  })

  it('getExpectedMachineId reads CLERK_M2M_MACHINE_ID_<SERVICE> and insists on mch_', () => {
    expect(getExpectedMachineId('webhook', { env: receiverEnv })).toBe(webhook.id)
    expect(() => getExpectedMachineId('inngest', { env: receiverEnv })).toThrow(/CLERK_M2M_MACHINE_ID_INNGEST is not set/)
    expect(() => getExpectedMachineId('x', { env: { CLERK_M2M_MACHINE_ID_X: 'user_1' } })).toThrow(/must be a machine id/)
  })

  it('defaults to process.env', () => {
    process.env.CLERK_M2M_TOKEN_CONSOLE_TEST = 'mt_from_process_env'
    try {
      expect(getM2MToken('console-test')).toBe('mt_from_process_env')
    } finally {
      delete process.env.CLERK_M2M_TOKEN_CONSOLE_TEST
    }
  })
})

describe('verifyM2MToken', () => {
  it('accepts a valid opaque token (verified with the receiver machine key) and a valid JWT', async () => {
    const opaque = await webhookClient.createToken({ secondsUntilExpiration: 600, claims: { role: 'ingest' } })
    const v = await verifyM2MToken(opaque.token, opts({ expectedService: 'webhook' }))
    expect(v).toBeInstanceOf(M2MToken)
    expect([v.id, v.subject, v.claims]).toEqual([opaque.id, webhook.id, { role: 'ingest' }])
    const req = (await emu.requests()).filter((r: any) => r.route === 'm2m_verify').pop()
    expect(req.authorizationPrefix).toBe(trpc.secretKey.slice(0, 7))

    const jwt = await webhookClient.createToken({ tokenFormat: 'jwt', secondsUntilExpiration: 600 })
    const j = await verifyM2MToken(jwt.token, opts({ expectedService: ['worker', 'webhook'] }))
    expect([j.id, j.subject]).toEqual([jwt.id, webhook.id])
    // Networkless with CLERK_JWT_KEY (literal \n in a one-line variable is accepted).
    const before = await count('jwks')
    const pemOneLine = emu.instances[0].publicKeyPem.trim().replace(/\n/g, '\\n')
    const env = { CLERK_JWT_KEY: pemOneLine, CLERK_API_URL: 'http://127.0.0.1:9' }
    expect((await verifyM2MToken(jwt.token, { env })).id).toBe(jwt.id)
    expect(await count('jwks')).toBe(before)
  })

  it('rejects a revoked opaque token with `revoked`', async () => {
    const t = await webhookClient.createToken({ secondsUntilExpiration: 600 })
    await expect(verifyM2MToken(t.token, opts())).resolves.toBeInstanceOf(M2MToken)
    await webhookClient.revokeToken({ m2mTokenId: t.id, revocationReason: 'leaked' })
    const err = await rejection(verifyM2MToken(t.token, opts()))
    expect(err).toBeInstanceOf(M2MAuthError)
    expect([err.code, err.name]).toEqual(['revoked', 'M2MAuthError'])
    expect(err.message).not.toContain(t.token.slice(0, 10))
  })

  it('rejects expired tokens with `expired` (opaque flag from the API; JWT exp checked locally)', async () => {
    const opaque = await webhookClient.createToken({ secondsUntilExpiration: 5 })
    await emu.advanceClock(60_000)
    expect((await rejection(verifyM2MToken(opaque.token, opts()))).code).toBe('expired')
    await emu.setClockOffset(-3_600_000)
    const jwt = await webhookClient.createToken({ tokenFormat: 'jwt', secondsUntilExpiration: 60 })
    await emu.setClockOffset(0)
    const err = await rejection(verifyM2MToken(jwt.token, opts()))
    expect(err.code).toBe('expired')
    expect(err.message).toMatch(/JWT is expired/)
  })

  it('`wrong-machine` for another sender, `not-in-scope` for a token minted for another receiver', async () => {
    const fromWorker = await createM2MClient({ machineSecretKey: worker.secretKey, apiUrl: emu.url }).createToken({ secondsUntilExpiration: 600 })
    const err = await rejection(verifyM2MToken(fromWorker.token, opts({ expectedService: 'webhook' })))
    expect(err.code).toBe('wrong-machine')
    // A machine scoped to another receiver: its tokens do not name trpc in their scopes.
    const billing = await emu.createMachine({ name: 'billing' })
    const rogue = await emu.createMachine({ name: 'rogue', scopedTo: ['billing'] })
    for (const tokenFormat of ['opaque', 'jwt']) {
      const t = await createM2MClient({ machineSecretKey: rogue.secretKey, apiUrl: emu.url }).createToken({ tokenFormat, secondsUntilExpiration: 600 })
      expect(t.scopes).toEqual([billing.id])
      // Verified with the instance key (the receiver machine key would not even see it): the scope check catches it.
      const e = await rejection(verifyM2MToken(t.token, { env: { ...receiverEnv, CLERK_MACHINE_SECRET_KEY_TRPC: '' }, receiver: 'trpc' }))
      expect([tokenFormat, e.code]).toEqual([tokenFormat, 'not-in-scope'])
      // Without a known receiver id there is no scope check.
      await expect(verifyM2MToken(t.token, { env: { CLERK_SECRET_KEY: emu.secretKey, CLERK_API_URL: emu.url } })).resolves.toBeInstanceOf(M2MToken)
    }
    // An expected service without its machine id is the receiver's configuration error, and fails closed.
    const t = await webhookClient.createToken({ secondsUntilExpiration: 600 })
    const e = await rejection(verifyM2MToken(t.token, opts({ expectedService: 'inngest' })))
    expect([e.code, e.reason]).toEqual(['unavailable', 'misconfigured'])
    expect(e.message).toMatch(/CLERK_M2M_MACHINE_ID_INNGEST/)
  })

  it('`missing` and `invalid` for absent, foreign, unknown and forged tokens', async () => {
    for (const t of [undefined, null, '']) expect((await rejection(verifyM2MToken(t, opts()))).code).toBe('missing')
    for (const t of ['sk_test_CANARY_secret', 'oat_abc', 'ak_abc', 'hello', 'a.b.c', 'x'.repeat(20000), 42]) {
      const e = await rejection(verifyM2MToken(t, opts()))
      expect([String(t).slice(0, 10), e.code]).toEqual([String(t).slice(0, 10), 'invalid'])
      expect(inspect(e)).not.toMatch(/CANARY/)
    }
    expect((await rejection(verifyM2MToken('mt_unknown_token_value', opts()))).code).toBe('invalid')
    const jwt = await webhookClient.createToken({ tokenFormat: 'jwt', secondsUntilExpiration: 600 })
    const [h, p, s] = jwt.token.split('.')
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString())
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...payload, scopes: 'mch_other' })).toString('base64url')}.${s}`
    const e = await rejection(verifyM2MToken(forged, opts()))
    expect(e.code).toBe('invalid')
    expect(e.cause.code).toBe('token-verification-failed')
    // Signed by a key of the same emulator but a wrong category: invalid before any key work.
    const cat = await emu.signJwt({ alg: 'RS256', typ: 'JWT', kid: emu.instances[0].kid, cat: 'cl_B7d4PD111AAA' }, { ...payload })
    expect((await rejection(verifyM2MToken(cat, opts()))).code).toBe('invalid')
  })

  it('`unavailable` for 5xx, 429 (with retryAfter), a hung API, an unreachable API and refused credentials', async () => {
    const t = await webhookClient.createToken({ secondsUntilExpiration: 600 })
    // One transient 503 is absorbed by a retry (verify is read-only)…
    await emu.setFault('m2m_verify', { type: 'status', status: 503, times: 1 })
    const before = await count('m2m_verify')
    await expect(verifyM2MToken(t.token, opts())).resolves.toBeInstanceOf(M2MToken)
    expect(await count('m2m_verify')).toBe(before + 2)
    // …a lasting one is `unavailable` with the status.
    await emu.setFault('m2m_verify', { type: 'status', status: 503 })
    let e = await rejection(verifyM2MToken(t.token, opts()))
    expect([e.code, e.apiStatus, e.reason]).toEqual(['unavailable', 503, 'server-error'])
    await emu.clearFaults()
    await emu.setFault('m2m_verify', { type: 'status', status: 429, retryAfter: 7, times: 1 })
    e = await rejection(verifyM2MToken(t.token, opts()))
    expect([e.code, e.apiStatus, e.retryAfter, e.reason]).toEqual(['unavailable', 429, 7, 'rate-limited'])
    // The cause is the drop-in's verification error; its own cause says what the Backend API answered.
    expect(e.cause).toBeInstanceOf(MachineTokenVerificationError)
    expect(e.cause.cause).toBeInstanceOf(ClerkTransportError)
    expect([e.cause.cause.code, e.cause.cause.status, e.cause.cause.retryAfter]).toEqual(['rate-limited', 429, 7])

    await emu.setFault('m2m_verify', { type: 'hang' })
    const start = Date.now()
    e = await rejection(verifyM2MToken(t.token, opts({ timeoutMs: 300 })))
    expect(Date.now() - start).toBeLessThan(1500)
    expect([e.code, e.reason, e.apiStatus]).toEqual(['unavailable', 'timeout', undefined])
    await emu.clearFaults()

    e = await rejection(verifyM2MToken(t.token, { env: { CLERK_API_URL: 'http://127.0.0.1:9', CLERK_SECRET_KEY: 'sk_test_CANARY_x' } }))
    expect([e.code, e.reason]).toEqual(['unavailable', 'connect'])
    // No credential at all: the API's 401 is the receiver's misconfiguration, not the caller's fault.
    e = await rejection(verifyM2MToken(t.token, { env: { CLERK_API_URL: emu.url } }))
    expect([e.code, e.reason]).toEqual(['unavailable', 'misconfigured'])
    // A JWT with no key configured at all.
    const jwt = await webhookClient.createToken({ tokenFormat: 'jwt', secondsUntilExpiration: 600 })
    e = await rejection(verifyM2MToken(jwt.token, { env: {} }))
    expect([e.code, e.reason]).toEqual(['unavailable', 'misconfigured'])
    expect(e.message).toMatch(/CLERK_JWT_KEY/)
    // JWKS down (a fresh instance scope, so nothing is cached).
    await emu.setFault('jwks', { type: 'status', status: 502 })
    e = await rejection(verifyM2MToken(jwt.token, { env: { CLERK_SECRET_KEY: emu.secretKey, CLERK_API_URL: `${emu.url}/` }, timeoutMs: 2000 }))
    expect([e.code, e.apiStatus]).toEqual(['unavailable', 502])
    // A receiver machine id that is not one fails closed as a configuration error.
    e = await rejection(verifyM2MToken(t.token, opts({ env: { ...receiverEnv, CLERK_M2M_MACHINE_ID_TRPC: 'trpc' } })))
    expect([e.code, e.reason]).toEqual(['unavailable', 'misconfigured'])
    // A bad apiUrl is a configuration error, reported, never thrown as something else.
    e = await rejection(verifyM2MToken(t.token, { env: { CLERK_API_URL: 'http://example.com' } }))
    expect([e.code, e.reason]).toEqual(['unavailable', 'misconfigured'])
  })
})

describe('authenticateM2MRequest', () => {
  it('reads the Bearer token from a Request, Headers, { headers } and a plain record', async () => {
    const t = await webhookClient.createToken({ secondsUntilExpiration: 600, claims: { c: 1 } })
    const sources = [
      new Request('http://x/', { headers: { Authorization: `Bearer ${t.token}` } }),
      new Headers({ authorization: `bearer ${t.token}` }),
      { headers: { authorization: `  BEARER   ${t.token}  ` } },
      { headers: new Headers({ Authorization: `Bearer ${t.token}` }) },
      { AUTHORIZATION: `Bearer ${t.token}` },
      { authorization: [`Bearer ${t.token}`] },
    ]
    for (const s of sources) {
      const auth = await authenticateM2MRequest(s, opts({ expectedService: 'webhook' }))
      expect(auth).toEqual({ isAuthenticated: true, tokenType: 'm2m_token', id: t.id, machineId: webhook.id, subject: webhook.id, scopes: [trpc.id], claims: { c: 1 }, expiration: t.expiration, error: null })
    }
  })

  it('never throws, and says why', async () => {
    const t = await webhookClient.createToken({ secondsUntilExpiration: 600 })
    const throwing = {
      get headers(): never {
        throw new Error('boom')
      },
    }
    const cases: Array<[unknown, string]> = [
      [undefined, 'missing'],
      [null, 'missing'],
      [42, 'missing'],
      [{}, 'missing'],
      [{ headers: {} }, 'missing'],
      [{ authorization: '' }, 'missing'],
      [{ authorization: 'Bearer' }, 'missing'],
      [{ authorization: 'Bearer    ' }, 'missing'],
      [{ authorization: `Basic ${t.token}` }, 'missing'],
      [{ authorization: t.token }, 'missing'],
      [{ authorization: `Bearer ${t.token} extra` }, 'invalid'],
      [{ authorization: [`Bearer ${t.token}`, `Bearer ${t.token}`] }, 'invalid'],
      [{ authorization: 'Bearer mt_nope' }, 'invalid'],
      [throwing, 'unavailable'],
    ]
    for (const [source, code] of cases) {
      const auth = await authenticateM2MRequest(source as any, opts())
      expect(auth.isAuthenticated).toBe(false)
      expect(auth.error).toBeInstanceOf(M2MAuthError)
      expect([source === throwing ? 'throwing' : JSON.stringify(source)?.slice(0, 30), auth.error.code]).toEqual([source === throwing ? 'throwing' : JSON.stringify(source)?.slice(0, 30), code])
      expect(auth).toMatchObject({ tokenType: 'm2m_token', id: null, machineId: null, scopes: null, claims: null })
      expect(auth.error.message).not.toContain(t.token.slice(3, 20))
    }
  })
})

describe('createM2MTokenProvider', () => {
  it('mints once, then refreshes once for 100 concurrent getToken() calls near expiry', async () => {
    let clock = Date.now()
    const provider = createM2MTokenProvider({ machineSecretKey: worker.secretKey, apiUrl: emu.url, ttlSeconds: 120, refreshBeforeSeconds: 30, now: () => clock })
    const before = await count('m2m_create')
    const first = await Promise.all(Array.from({ length: 100 }, () => provider.getToken()))
    expect(new Set(first).size).toBe(1)
    expect(await count('m2m_create')).toBe(before + 1)
    // Still fresh: no request.
    clock += 60_000
    expect(await provider.getToken()).toBe(first[0])
    expect(await count('m2m_create')).toBe(before + 1)
    // Inside the refresh window: exactly one refresh for 100 concurrent callers, all get the new token.
    clock += 35_000
    const second = await Promise.all(Array.from({ length: 100 }, () => provider.getToken()))
    expect(new Set(second).size).toBe(1)
    expect(second[0]).not.toBe(first[0])
    expect(await count('m2m_create')).toBe(before + 2)
    expect(provider.stats()).toMatchObject({ refreshes: 2, failures: 0 })
    expect(await provider.getAuthorizationHeader()).toBe(`Bearer ${second[0]}`)
    const v = await verifyM2MToken(second[0], opts({ expectedService: 'worker' }))
    expect(v.subject).toBe(worker.id)
  })

  it('keeps serving the old token through a failed refresh, backs off, and recovers', async () => {
    let clock = Date.now()
    const provider = createM2MTokenProvider({ machineSecretKey: worker.secretKey, apiUrl: emu.url, ttlSeconds: 120, refreshBeforeSeconds: 30, retryDelayMs: 5_000, tokenFormat: 'jwt', now: () => clock })
    const original = await provider.getToken()
    const before = await count('m2m_create')
    await emu.setFault('m2m_create', { type: 'status', status: 503 })
    clock += 100_000 // 20 s left: refresh due
    const during = await Promise.all(Array.from({ length: 50 }, () => provider.getToken()))
    expect(new Set(during)).toEqual(new Set([original]))
    expect(await count('m2m_create')).toBe(before + 1)
    // Inside the back-off: no new attempt.
    clock += 2_000
    expect(await provider.getToken()).toBe(original)
    expect(await count('m2m_create')).toBe(before + 1)
    // After it: one more attempt, still failing, still served.
    clock += 4_000
    expect(await provider.getToken()).toBe(original)
    expect(await count('m2m_create')).toBe(before + 2)
    expect(provider.stats()).toMatchObject({ failures: 2 })
    // The API recovers: the next attempt after the back-off gets a new token.
    await emu.clearFaults()
    clock += 6_000
    const renewed = await provider.getToken()
    expect(renewed).not.toBe(original)
    expect(await count('m2m_create')).toBe(before + 3)
    // Once no valid token is left, a failing refresh is an error.
    await emu.setFault('m2m_create', { type: 'status', status: 503 })
    clock += 200_000
    const err = await rejection(provider.getToken())
    expect(err).toBeInstanceOf(ClerkAPIResponseError)
    expect(err.status).toBe(503)
  })

  it('honours Retry-After, reads the key from CLERK_MACHINE_SECRET_KEY_<SERVICE>, validates its options', async () => {
    let clock = Date.now()
    const provider = createM2MTokenProvider({ service: 'worker', env: { CLERK_MACHINE_SECRET_KEY_WORKER: worker.secretKey, CLERK_API_URL: emu.url }, ttlSeconds: 60, refreshBeforeSeconds: 30, retryDelayMs: 10, now: () => clock })
    const original = await provider.getToken()
    await emu.setFault('m2m_create', { type: 'status', status: 429, retryAfter: 20 })
    clock += 35_000
    expect(await provider.getToken()).toBe(original)
    const before = await count('m2m_create')
    clock += 10_000 // past retryDelayMs, but not past Retry-After
    expect(await provider.getToken()).toBe(original)
    expect(await count('m2m_create')).toBe(before)

    expect(() => createM2MTokenProvider({ service: 'nobody', env: {} })).toThrow(/CLERK_MACHINE_SECRET_KEY_NOBODY is not set/)
    expect(() => createM2MTokenProvider({})).toThrow(/machineSecretKey/)
    expect(() => createM2MTokenProvider({ machineSecretKey: 'ak_x', ttlSeconds: 60, refreshBeforeSeconds: 60 })).toThrow(/less than ttlSeconds/)
    expect(() => createM2MTokenProvider({ machineSecretKey: 'ak_x', tokenFormat: 'paseto' })).toThrow(/tokenFormat/)
    expect(() => createM2MTokenProvider({ machineSecretKey: 'ak_x', ttlSeconds: Number.NaN })).toThrow(/ttlSeconds/)
  })
})
