// Observability (lib/observe/): the verify TracingChannel, the http channel fed by native code,
// token-provider events, per-verifier stats(), processStats(), metricsText() read back by a real
// Prometheus text parser, the NODE_DEBUG log — and that no token or secret reaches any of them.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import dc from 'node:diagnostics_channel'
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { createM2MVerifier, verifyMachineAuthToken, verifyM2MToken, processStats, metricsText, diagnosticsChannels } from '../lib/index.js'
import { createM2MTokenProvider } from '../lib/console.js'
import { startEmulator, type Emulator } from '../lib/emulator.js'
import { mintToken } from './helpers/emulator'
import { createCanaries, leaksOf } from './helpers/canaries'
import { generateKey, m2mHeader, m2mPayload, signJwt, nowSec } from './helpers/tokens'

const require = createRequire(__filename)
const parsePrometheusTextFormat: (text: string) => any[] = require('parse-prometheus-text-format')
const root = join(__dirname, '..')

const key = generateKey('ins_observe_test')
let emu: Emulator

beforeAll(async () => {
  emu = await startEmulator()
})
afterAll(async () => {
  await emu?.stop()
})

type Event = { kind: string; ctx: any }

/** Subscribes to every channel; `stop()` unsubscribes. Contexts are recorded by reference and as JSON at each event. */
function record() {
  const events: Event[] = []
  const http: any[] = []
  const provider: any[] = []
  const texts: string[] = []
  const snap = (v: any) => JSON.stringify(v, (k, x) => (k === 'verify' ? x && x.fingerprint : x instanceof Error ? { name: x.name, message: x.message, code: (x as any).code } : x))
  const handlers: any = {}
  for (const kind of ['start', 'end', 'asyncStart', 'asyncEnd', 'error']) {
    handlers[kind] = (ctx: any) => {
      events.push({ kind, ctx })
      texts.push(snap(ctx))
    }
  }
  const onHttp = (m: any) => {
    http.push(m)
    texts.push(snap(m))
  }
  const onProvider = (m: any) => {
    provider.push(m)
    texts.push(snap(m))
  }
  const verify = dc.tracingChannel(diagnosticsChannels.verify)
  verify.subscribe(handlers)
  dc.subscribe(diagnosticsChannels.http, onHttp)
  dc.subscribe(diagnosticsChannels.tokenProvider, onProvider)
  return {
    events,
    http,
    provider,
    texts,
    settled: () => events.filter((e) => e.kind === 'asyncEnd').map((e) => e.ctx),
    stop() {
      verify.unsubscribe(handlers)
      dc.unsubscribe(diagnosticsChannels.http, onHttp)
      dc.unsubscribe(diagnosticsChannels.tokenProvider, onProvider)
    },
  }
}

let rec: ReturnType<typeof record> | null = null
afterEach(() => {
  rec?.stop()
  rec = null
})

describe('clerk-m2m-native:verify', () => {
  it('local, then reuse: source, kid, fingerprint, machine id, in start/end/asyncStart/asyncEnd order', async () => {
    rec = record()
    const v = createM2MVerifier({ jwtKey: key.publicPem })
    const token = signJwt(m2mHeader(key), m2mPayload({ sub: 'mch_observe' }), key)
    for (let i = 0; i < 3; i++) expect((await v.verify(token)).errors).toBeUndefined()
    const ctxs = rec.settled()
    expect(ctxs.map((c) => c.source)).toEqual(['local', 'local', 'reuse'])
    for (const c of ctxs) {
      expect(c).toMatchObject({ mode: 'machine', tokenType: 'm2m_token', outcome: 'verified', kid: 'ins_observe_test', machineId: 'mch_observe', code: undefined, httpRequests: 0 })
      expect(c.fingerprint).toMatch(/^[0-9a-f]{12}$/)
      expect(c.durationMs).toBeGreaterThanOrEqual(0)
      expect(rec.events.filter((e) => e.ctx === c).map((e) => e.kind)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd'])
    }
    expect(new Set(ctxs.map((c) => c.fingerprint)).size).toBe(1)
    expect(v.stats()).toEqual({ reused: 1, local: 2, remote: 0, offloaded: 0, outcomes: { m2m_token: { ok: 2 } } })
    v.close()
  })

  it('overlapping calls: the first settles on the loop (local), the rest on worker threads (offload), each with its own context', async () => {
    rec = record()
    const v = createM2MVerifier({ jwtKey: key.publicPem })
    const tokens = [1, 2, 3, 4].map((i) => signJwt(m2mHeader(key), m2mPayload({ sub: `mch_overlap${i}` }), key))
    const expired = signJwt(m2mHeader(key), m2mPayload({ sub: 'mch_overlap5', exp: nowSec() - 100 }), key)
    const results = await Promise.all([...tokens, expired].map((t) => v.verify(t)))
    expect(results.slice(0, 4).map((r) => r.data?.subject)).toEqual(['mch_overlap1', 'mch_overlap2', 'mch_overlap3', 'mch_overlap4'])
    expect(results[4].errors?.[0].code).toBe('token-verification-failed')
    const ctxs = rec.settled()
    expect(ctxs.map((c) => c.source)).toEqual(['local', 'offload', 'offload', 'offload', 'offload'])
    expect(ctxs.map((c) => c.machineId)).toEqual(['mch_overlap1', 'mch_overlap2', 'mch_overlap3', 'mch_overlap4', undefined])
    expect(ctxs[4]).toMatchObject({ outcome: 'rejected', code: 'token-verification-failed', reason: 'expired' })
    for (const c of ctxs) expect(rec.events.filter((e) => e.ctx === c).map((e) => e.kind)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd'])
    // Offloaded answers are counted like the calling thread's (outcomes by type × code).
    expect(v.stats()).toMatchObject({ local: 5, offloaded: 4, outcomes: { m2m_token: { ok: 4, 'token-verification-failed': 1 } } })
    v.close()
  })

  it('a rejection carries its code and reason; an unroutable token goes to the error channel', async () => {
    rec = record()
    const expired = signJwt(m2mHeader(key), m2mPayload({ exp: nowSec() - 100 }), key)
    const r = await verifyM2MToken(expired, { jwtKey: key.publicPem })
    expect(r.errors?.[0].code).toBe('token-verification-failed')
    await expect(verifyMachineAuthToken('xx_not_a_token', { jwtKey: key.publicPem })).rejects.toThrow('Unknown machine token type')
    const [rejected, unroutable] = rec.settled()
    expect(rejected).toMatchObject({ mode: 'm2m', source: 'local', outcome: 'rejected', code: 'token-verification-failed', reason: 'expired', tokenType: 'm2m_token' })
    expect(unroutable).toMatchObject({ source: 'local', outcome: 'unroutable', code: 'unroutable' })
    expect(rec.events.filter((e) => e.ctx === unroutable).map((e) => e.kind)).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd'])
    expect(unroutable.error).toBeInstanceOf(Error)
  })

  it('remote: an opaque token gets one http message (POST /m2m_tokens/verify) linked to its verification', async () => {
    const { token } = await mintToken(emu, 'webhook', { seconds_until_expiration: 600 })
    rec = record()
    const r = await verifyMachineAuthToken(token, { secretKey: emu.secretKey, apiUrl: emu.url })
    expect(r.errors).toBeUndefined()
    const [ctx] = rec.settled()
    expect(ctx).toMatchObject({ source: 'remote', outcome: 'verified', tokenType: 'm2m_token', machineId: emu.machines.webhook.id, kid: undefined, httpRequests: 1 })
    expect(rec.http).toHaveLength(1)
    expect(rec.http[0]).toMatchObject({ method: 'POST', route: '/m2m_tokens/verify', status: 200, attempts: 1, error: undefined, verify: ctx })
    expect(rec.http[0].durationMs).toBeGreaterThan(0)
    expect(Math.abs(rec.http[0].startedAt - Date.now())).toBeLessThan(60_000)
  })

  it('remote: a JWT whose key is not cached reports its JWKS fetch (GET /v1/jwks)', async () => {
    const { token } = await emu.mintToken({ machine: 'webhook', format: 'jwt', secondsUntilExpiration: 600 })
    rec = record()
    const before = processStats().jwks.fetches
    const r = await verifyMachineAuthToken(token, { secretKey: emu.secretKey, apiUrl: emu.url })
    expect(r.errors).toBeUndefined()
    const [ctx] = rec.settled()
    expect(ctx).toMatchObject({ source: 'remote', outcome: 'verified', httpRequests: 1 })
    expect(ctx.kid).toMatch(/^ins_/)
    expect(rec.http).toEqual([expect.objectContaining({ method: 'GET', route: '/v1/jwks', status: 200, attempts: 1, verify: ctx })])
    expect(processStats().jwks.fetches).toBe(before + 1)
  })

  it('retries and timeouts: attempts, status, the transport reason, on both channels', async () => {
    const { token } = await mintToken(emu, 'webhook', { seconds_until_expiration: 600 })
    const options = { secretKey: emu.secretKey, apiUrl: emu.url, timeoutMs: 3000 }
    rec = record()
    await emu.setFault('m2m_verify', { type: 'status', status: 503, times: 3 })
    const r = await verifyMachineAuthToken(token, options)
    expect(r.errors?.[0].code).toBe('unexpected-error')
    await emu.setFault('m2m_verify', { type: 'hang' })
    const t = await verifyMachineAuthToken(token, { ...options, timeoutMs: 300 })
    await emu.clearFaults()
    expect(t.errors?.[0].code).toBe('unexpected-error')
    const [unavailable, timedOut] = rec.settled()
    expect(unavailable).toMatchObject({ outcome: 'rejected', code: 'unexpected-error', reason: 'unavailable', httpRequests: 1 })
    expect(rec.http[0]).toMatchObject({ route: '/m2m_tokens/verify', status: 503, attempts: 3, error: undefined, verify: unavailable })
    expect(timedOut).toMatchObject({ outcome: 'rejected', reason: 'unavailable', transport: 'timeout' })
    expect(rec.http[1]).toMatchObject({ route: '/m2m_tokens/verify', status: undefined, error: 'timeout', verify: timedOut })
    expect(rec.http[1].durationMs).toBeGreaterThanOrEqual(290)
  })

  it('under concurrency every verification gets exactly one start and one asyncEnd, and its own http messages', async () => {
    const opaque = await Promise.all([0, 1, 2, 3, 4].map(() => mintToken(emu, 'worker', { seconds_until_expiration: 600 })))
    const jwts = Array.from({ length: 20 }, (_, i) => signJwt(m2mHeader(key), m2mPayload({ jti: `mt_c${i}` }), key))
    rec = record()
    const local = createM2MVerifier({ jwtKey: key.publicPem })
    const remote = createM2MVerifier({ secretKey: emu.secretKey, apiUrl: emu.url })
    await Promise.all([...jwts.map((t) => local.verify(t)), ...opaque.map((o) => remote.verify(o.token)), local.verify('xx_bad').catch(() => null)])
    const starts = rec.events.filter((e) => e.kind === 'start').map((e) => e.ctx)
    const ends = rec.settled()
    expect(starts).toHaveLength(26)
    expect(new Set(ends)).toEqual(new Set(starts))
    expect(ends).toHaveLength(26)
    const remotes = ends.filter((c) => c.source === 'remote')
    expect(remotes).toHaveLength(5)
    for (const c of remotes) expect(rec.http.filter((m) => m.verify === c)).toHaveLength(1)
    expect(rec.http).toHaveLength(5)
    local.close()
    remote.close()
  })

  it('verifyMany: one context per token, source batch', async () => {
    rec = record()
    const v = createM2MVerifier({ jwtKey: key.publicPem })
    const good = signJwt(m2mHeader(key), m2mPayload(), key)
    const out = await v.verifyMany([good, 'xx_bad', good])
    expect(out[1]).toBeInstanceOf(Error)
    const ctxs = rec.settled()
    expect(ctxs.map((c) => [c.source, c.outcome])).toEqual([
      ['batch', 'verified'],
      ['batch', 'unroutable'],
      ['batch', 'verified'],
    ])
    v.close()
  })

  it('with no subscriber, the network path is the untraced one', async () => {
    const { NativeVerifier } = require('../lib/native.js')
    const proto = NativeVerifier.prototype
    const original = proto.verifyRemoteTraced
    let traced = 0
    proto.verifyRemoteTraced = function (...args: any[]) {
      traced += 1
      return original.apply(this, args)
    }
    try {
      const { token } = await mintToken(emu, 'webhook', { seconds_until_expiration: 600 })
      expect((await verifyMachineAuthToken(token, { secretKey: emu.secretKey, apiUrl: emu.url })).errors).toBeUndefined()
      expect(traced).toBe(0)
      rec = record()
      expect((await verifyMachineAuthToken(token, { secretKey: emu.secretKey, apiUrl: emu.url })).errors).toBeUndefined()
      expect(traced).toBe(1)
    } finally {
      proto.verifyRemoteTraced = original
    }
  })
})

describe('clerk-m2m-native:token-provider', () => {
  it('refresh, refresh-failed and stale, with fingerprints and codes only', async () => {
    let clock = Date.now()
    rec = record()
    const provider = createM2MTokenProvider({ machineSecretKey: emu.machines.worker.secretKey, apiUrl: emu.url, ttlSeconds: 120, refreshBeforeSeconds: 60, now: () => clock })
    const token = await provider.getToken()
    clock += 61_000
    await emu.setFault('m2m_create', { type: 'status', status: 503 })
    expect(await provider.getToken()).toBe(token)
    expect(await provider.getToken()).toBe(token)
    await emu.clearFaults()
    expect(rec.provider.map((m) => m.event)).toEqual(['refresh', 'refresh-failed', 'stale', 'stale'])
    // The M2M client's requests are http messages too, named by their operation.
    expect(rec.http.map((m) => [m.method, m.route, m.status, m.operation, m.verify])).toEqual([
      ['POST', '/m2m_tokens', 200, 'createToken', undefined],
      ['POST', '/m2m_tokens', 503, 'createToken', undefined],
    ])
    expect(rec.provider[0]).toMatchObject({ fingerprint: expect.stringMatching(/^[0-9a-f]{12}$/), durationMs: expect.any(Number) })
    expect(rec.provider[1]).toMatchObject({ status: 503 })
    expect(rec.texts.join('\n')).not.toContain(token)
  })
})

describe('metrics', () => {
  it('processStats() and metricsText() count what was done, and the text parses as Prometheus exposition', async () => {
    const parse = () => parsePrometheusTextFormat(metricsText())
    const value = (families: any[], name: string, labels: Record<string, string> = {}) => {
      const f = families.find((x) => x.name === name)
      const m = f?.metrics.find((x: any) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v))
      return m ? Number(m.value ?? m.count) : 0
    }
    const before = parse()
    const v = createM2MVerifier({ jwtKey: key.publicPem })
    const token = signJwt(m2mHeader(key), m2mPayload(), key)
    for (let i = 0; i < 4; i++) await v.verify(token) // local, local (repeat), reuse, reuse
    await v.verify(signJwt(m2mHeader(key), m2mPayload({ exp: nowSec() - 10 }), key))
    const { token: opaque } = await mintToken(emu, 'webhook', { seconds_until_expiration: 600 })
    await verifyMachineAuthToken(opaque, { secretKey: emu.secretKey, apiUrl: emu.url })
    const after = parse()
    const delta = (name: string, labels?: Record<string, string>) => value(after, name, labels) - value(before, name, labels)
    expect(delta('clerk_m2m_verifications_total', { token_type: 'm2m_token', code: 'ok' })).toBe(3)
    expect(delta('clerk_m2m_verifications_total', { token_type: 'm2m_token', code: 'token-verification-failed' })).toBe(1)
    expect(delta('clerk_m2m_reused_answers_total')).toBe(2)
    expect(delta('clerk_m2m_signature_cache_hits_total')).toBeGreaterThanOrEqual(1)
    expect(delta('clerk_m2m_http_requests_total', { route: '/m2m_tokens/verify', result: '2xx' })).toBe(1)
    const hist = after.find((f) => f.name === 'clerk_m2m_http_request_duration_seconds')
    expect(hist.type).toBe('HISTOGRAM')
    expect(Object.keys(hist.metrics[0].buckets)).toContain('+Inf')
    // The parser folds a labelled histogram into one entry: the per-route series are read from the text.
    const text = metricsText()
    const series = (suffix: string) => [...text.matchAll(new RegExp(`^clerk_m2m_http_request_duration_seconds_${suffix}\\{route="/m2m_tokens/verify"(?:,le="([^"]+)")?\\} (\\S+)$`, 'gm'))]
    const buckets = series('bucket').map((m) => Number(m[2]))
    expect(buckets.length).toBe(12)
    expect([...buckets].sort((a, b) => a - b)).toEqual(buckets)
    expect(buckets.at(-1)).toBe(Number(series('count')[0][2]))
    expect(Number(series('sum')[0][2])).toBeGreaterThan(0)
    for (const f of after) expect(['COUNTER', 'GAUGE', 'HISTOGRAM']).toContain(f.type)

    const s = processStats()
    expect(s.signatureCache.capacity).toBeGreaterThan(0)
    expect(s.reuse.hits).toBeGreaterThanOrEqual(2)
    expect(s.http.find((r) => r.route === '/m2m_tokens/verify')?.latency.bucketsMs.length).toBeGreaterThan(5)
    expect(v.stats()).toEqual({ reused: 2, local: 3, remote: 0, offloaded: 0, outcomes: { m2m_token: { ok: 2, 'token-verification-failed': 1 } } })
    v.close()
  })
})

describe('secrets stay out', () => {
  it('no canary token or secret in any channel message, stats, metrics or span-able field', async () => {
    const canaries = createCanaries()
    rec = record()
    const options = { secretKey: canaries.secretKey.value, machineSecretKey: canaries.machineSecretKey.value, apiUrl: emu.url, timeoutMs: 2000 }
    for (const t of [canaries.opaqueToken.value, canaries.jwt.value, `oat_${canaries.opaqueToken.value}`, `ak_${canaries.opaqueToken.value}`]) {
      await verifyMachineAuthToken(t, options)
      await verifyM2MToken(t, options)
    }
    const v = createM2MVerifier(options)
    await v.verifyMany([canaries.opaqueToken.value, canaries.jwt.value])
    const provider = createM2MTokenProvider({ machineSecretKey: canaries.machineSecretKey.value, apiUrl: emu.url })
    await provider.getToken().catch(() => null)
    expect(rec.settled().length).toBeGreaterThanOrEqual(10)
    expect(rec.http.length).toBeGreaterThanOrEqual(4)
    const everything = [...rec.texts, JSON.stringify(v.stats()), JSON.stringify(processStats()), metricsText()]
    expect(everything.flatMap((t) => leaksOf(canaries, t))).toEqual([])
    v.close()
  })
})

describe('NODE_DEBUG=clerk-m2m-native', () => {
  const script = (opaque: string, jwt: string) => `
    const { verifyMachineAuthToken } = require('./lib/index.js')
    ;(async () => {
      await verifyMachineAuthToken(${JSON.stringify(opaque)}, { secretKey: ${JSON.stringify(emu.secretKey)}, apiUrl: ${JSON.stringify(emu.url)} })
      await verifyMachineAuthToken(${JSON.stringify(jwt)}, { secretKey: ${JSON.stringify(emu.secretKey)}, apiUrl: ${JSON.stringify(emu.url)} })
    })()`

  it('prints one line per verification and per request, without tokens or keys; nothing when off', async () => {
    const { token: opaque } = await mintToken(emu, 'webhook', { seconds_until_expiration: 600 })
    const jwt = (await emu.mintToken({ machine: 'webhook', format: 'jwt', secondsUntilExpiration: 600 })).token
    const env = { ...process.env, NODE_DEBUG: 'clerk-m2m-native' }
    const on = spawnSync(process.execPath, ['-e', script(opaque, jwt)], { cwd: root, env, encoding: 'utf8' })
    expect(on.status).toBe(0)
    const lines = on.stderr.split('\n').filter((l) => l.startsWith('CLERK-M2M-NATIVE'))
    expect(lines.filter((l) => / verify /.test(l))).toHaveLength(2)
    expect(lines.filter((l) => / http /.test(l))).toEqual([expect.stringContaining('http POST /m2m_tokens/verify status=200'), expect.stringContaining('http GET /v1/jwks status=200')])
    expect(lines[1]).toMatch(/verify machine type=m2m_token source=remote kid=- fp=[0-9a-f]{12} ok machine=mch_/)
    for (const secret of [opaque, jwt, emu.secretKey, opaque.slice(3, 15), jwt.split('.')[2].slice(0, 16)]) expect(on.stderr).not.toContain(secret)
    const { NODE_DEBUG: _, ...quiet } = process.env
    const off = spawnSync(process.execPath, ['-e', script(opaque, jwt)], { cwd: root, env: quiet, encoding: 'utf8' })
    expect([off.status, off.stderr]).toEqual([0, ''])
  })
})
