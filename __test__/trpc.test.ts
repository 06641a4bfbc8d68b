// clerk-m2m-native/trpc with @trpc/server v11 against the emulator: the context factory never
// throws, and requireMachine maps every failure to the right tRPC code, through a caller and
// through the fetch adapter over real HTTP statuses.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createRequire } from 'node:module'
import { initTRPC, TRPCError } from '@trpc/server'
import { fetchRequestHandler } from '@trpc/server/adapters/fetch'

import { createM2MContext, requireMachine, trpcErrorFor } from '../lib/trpc.mjs'

const require = createRequire(import.meta.url)
const { M2MAuthError } = require('../lib/console.js')
const { createM2MClient } = require('../lib/m2m.js')
const { startEmulator } = require('../lib/emulator.js')
import { receiverEnv } from './helpers/emulator'

let emu: any
let webhook: any
let trpc: any
let worker: any
let env: Record<string, string>
let tokens: { webhook: string; worker: string; webhookJwt: string }

beforeAll(async () => {
  emu = await startEmulator()
  ;({ webhook, trpc, worker } = emu.machines)
  env = receiverEnv(emu)
  const wh = createM2MClient({ machineSecretKey: webhook.secretKey, apiUrl: emu.url })
  tokens = {
    webhook: (await wh.createToken({ secondsUntilExpiration: 3600, claims: { source: 'stripe' } })).token,
    worker: (await createM2MClient({ machineSecretKey: worker.secretKey, apiUrl: emu.url }).createToken({ secondsUntilExpiration: 3600 })).token,
    webhookJwt: (await wh.createToken({ tokenFormat: 'jwt', secondsUntilExpiration: 3600 })).token,
  }
})

afterAll(async () => {
  await emu?.stop()
})

afterEach(async () => {
  await emu.clearFaults()
})

function buildRouter(contextOptions: Record<string, unknown> = {}) {
  const createContext = createM2MContext({ receiver: 'trpc', env, timeoutMs: 1500, ...contextOptions })
  const t = initTRPC.context<Awaited<ReturnType<typeof createContext>>>().create()
  const router = t.router({
    open: t.procedure.query(({ ctx }) => ({ machine: ctx.machine ?? null })),
    webhookOnly: t.procedure.use(requireMachine({ allow: ['webhook'] })).query(({ ctx }) => ({ service: ctx.machine.service, machineId: ctx.machine.machineId, claims: ctx.machine.claims })),
    senders: t.procedure.use(requireMachine({ allow: ['webhook', 'worker'] })).query(({ ctx }) => ctx.machine.service),
    byId: t.procedure.use(requireMachine({ allow: [worker.id] })).query(({ ctx }) => ctx.machine.service),
    anyMachine: t.procedure.use(requireMachine()).query(({ ctx }) => ctx.machine.machineId),
    predicate: t.procedure.use(requireMachine({ allow: (m: any) => m.claims?.source === 'stripe' })).query(() => 'ok'),
    scoped: t.procedure.use(requireMachine({ requireScope: ['trpc'] })).query(() => 'ok'),
    scopedElsewhere: t.procedure.use(requireMachine({ requireScope: worker.id })).query(() => 'ok'),
    notConfigured: t.procedure.use(requireMachine({ allow: ['inngest'] })).query(() => 'ok'),
  })
  return { createContext, router, caller: t.createCallerFactory(router) }
}

const bearer = (token?: string) => new Request('http://api.local/trpc', { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } })

async function call(built: ReturnType<typeof buildRouter>, path: string, token?: string): Promise<any> {
  const ctx = await built.createContext({ req: bearer(token) })
  const caller: any = built.caller(ctx)
  try {
    return { ok: await caller[path]() }
  } catch (e) {
    return { error: e }
  }
}

async function code(built: ReturnType<typeof buildRouter>, path: string, token?: string): Promise<string> {
  const r = await call(built, path, token)
  return r.error ? r.error.code : 'OK'
}

describe('createM2MContext', () => {
  it('never throws, whatever the adapter passes', async () => {
    const createContext = createM2MContext({ receiver: 'trpc', env })
    const throwing = {
      get req(): never {
        throw new Error('boom')
      },
    }
    const inputs: unknown[] = [undefined, null, {}, { req: undefined }, { req: null }, { req: { headers: 5 } }, { req: bearer() }, bearer('mt_nope'), new Headers(), { req: { headers: { authorization: 'Bearer ' } } }, throwing]
    for (const input of inputs) {
      const ctx = await createContext(input as any)
      expect(ctx.machine).toBeNull()
      expect(ctx.m2mError).toBeInstanceOf(M2MAuthError)
      expect(typeof ctx.m2m.authenticate).toBe('function')
    }
  })

  it('describes the calling machine for a Fetch Request, a Node-style { req: { headers } } and headers', async () => {
    const createContext = createM2MContext({ receiver: 'trpc', env })
    const expected = { tokenType: 'm2m_token', machineId: webhook.id, subject: webhook.id, scopes: [trpc.id], claims: { source: 'stripe' }, service: null }
    for (const input of [{ req: bearer(tokens.webhook) }, { req: { headers: { authorization: `Bearer ${tokens.webhook}` } }, res: {} }, bearer(tokens.webhook), new Headers({ Authorization: `Bearer ${tokens.webhook}` })]) {
      const ctx = await createContext(input)
      expect(ctx.m2mError).toBeNull()
      expect(ctx.machine).toMatchObject(expected)
      expect(JSON.stringify(ctx.machine)).not.toContain(tokens.webhook)
    }
  })

  it('lazy: public procedures cost nothing, protected ones verify once', async () => {
    const built = buildRouter({ lazy: true })
    const before = (await emu.counters()).m2m_verify
    expect((await call(built, 'open', tokens.webhook)).ok).toEqual({ machine: null })
    expect((await emu.counters()).m2m_verify).toBe(before)
    const ctx = await built.createContext({ req: bearer(tokens.webhook) })
    expect([ctx.machine, ctx.m2mError]).toEqual([undefined, undefined])
    const caller: any = built.caller(ctx)
    expect(await caller.webhookOnly()).toMatchObject({ service: 'webhook' })
    expect(await caller.senders()).toBe('webhook')
    expect((await emu.counters()).m2m_verify).toBe(before + 1)
  })
})

describe('requireMachine', () => {
  it('lets the allowed machines through, with ctx.machine narrowed and service named', async () => {
    const built = buildRouter()
    expect((await call(built, 'webhookOnly', tokens.webhook)).ok).toEqual({ service: 'webhook', machineId: webhook.id, claims: { source: 'stripe' } })
    expect((await call(built, 'webhookOnly', tokens.webhookJwt)).ok).toMatchObject({ service: 'webhook' })
    expect((await call(built, 'senders', tokens.worker)).ok).toBe('worker')
    expect((await call(built, 'byId', tokens.worker)).ok).toBeNull()
    expect((await call(built, 'anyMachine', tokens.worker)).ok).toBe(worker.id)
    expect((await call(built, 'predicate', tokens.webhook)).ok).toBe('ok')
    expect((await call(built, 'scoped', tokens.webhook)).ok).toBe('ok')
  })

  it('UNAUTHORIZED for a missing, forged, unknown, revoked or expired token', async () => {
    const built = buildRouter()
    expect(await code(built, 'webhookOnly')).toBe('UNAUTHORIZED')
    expect(await code(built, 'webhookOnly', 'mt_forged_token_value')).toBe('UNAUTHORIZED')
    const [h, p, s] = tokens.webhookJwt.split('.')
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString())
    expect(await code(built, 'webhookOnly', `${h}.${Buffer.from(JSON.stringify({ ...payload, exp: payload.exp + 9999 })).toString('base64url')}.${s}`)).toBe('UNAUTHORIZED')
    const wh = createM2MClient({ machineSecretKey: webhook.secretKey, apiUrl: emu.url })
    const doomed = await wh.createToken({ secondsUntilExpiration: 600 })
    await wh.revokeToken({ m2mTokenId: doomed.id })
    const r = await call(built, 'webhookOnly', doomed.token)
    expect([r.error.code, r.error.cause.code]).toEqual(['UNAUTHORIZED', 'revoked'])
    await emu.setClockOffset(-7_200_000)
    const old = await wh.createToken({ tokenFormat: 'jwt', secondsUntilExpiration: 60 })
    await emu.setClockOffset(0)
    const x = await call(built, 'webhookOnly', old.token)
    expect([x.error.code, x.error.cause.code]).toEqual(['UNAUTHORIZED', 'expired'])
  })

  it('FORBIDDEN for another machine, a failed predicate, a missing scope, or a token for another receiver', async () => {
    const built = buildRouter()
    expect(await code(built, 'webhookOnly', tokens.worker)).toBe('FORBIDDEN')
    expect(await code(built, 'byId', tokens.webhook)).toBe('FORBIDDEN')
    expect(await code(built, 'predicate', tokens.worker)).toBe('FORBIDDEN')
    expect(await code(built, 'scopedElsewhere', tokens.webhook)).toBe('FORBIDDEN')
    const other = await emu.createMachine({ name: 'reports' })
    const rogue = await emu.createMachine({ name: 'rogue', scopedTo: ['reports'] })
    expect(other.id).toMatch(/^mch_/)
    const jwt = await createM2MClient({ machineSecretKey: rogue.secretKey, apiUrl: emu.url }).createToken({ tokenFormat: 'jwt', secondsUntilExpiration: 600 })
    const r = await call(built, 'anyMachine', jwt.token)
    expect([r.error.code, r.error.cause.code]).toEqual(['FORBIDDEN', 'not-in-scope'])
  })

  it('TOO_MANY_REQUESTS for a 429, SERVICE_UNAVAILABLE for 5xx and a hung API (within the timeout)', async () => {
    const built = buildRouter()
    await emu.setFault('m2m_verify', { type: 'status', status: 429, retryAfter: 7 })
    let r = await call(built, 'webhookOnly', tokens.webhook)
    expect([r.error.code, r.error.cause.retryAfter]).toEqual(['TOO_MANY_REQUESTS', 7])
    await emu.setFault('m2m_verify', { type: 'status', status: 500 })
    expect(await code(built, 'webhookOnly', tokens.webhook)).toBe('SERVICE_UNAVAILABLE')
    await emu.setFault('m2m_verify', { type: 'hang' })
    const start = Date.now()
    r = await call(buildRouter({ timeoutMs: 400 }), 'webhookOnly', tokens.webhook)
    expect(Date.now() - start).toBeLessThan(2000)
    expect([r.error.code, r.error.cause.reason]).toEqual(['SERVICE_UNAVAILABLE', 'timeout'])
  })

  it('INTERNAL_SERVER_ERROR when the receiver is misconfigured or the context is not ours', async () => {
    const built = buildRouter()
    expect(await code(built, 'notConfigured', tokens.webhook)).toBe('INTERNAL_SERVER_ERROR')
    const noKeys = createM2MContext({ receiver: 'trpc', env: { CLERK_API_URL: emu.url } })
    const t = initTRPC.context<any>().create()
    const router = t.router({ p: t.procedure.use(requireMachine()).query(() => 'ok') })
    const r = await (t.createCallerFactory(router)(await noKeys({ req: bearer(tokens.webhook) })) as any).p().catch((e: any) => e)
    expect([r.code, r.cause.reason]).toEqual(['INTERNAL_SERVER_ERROR', 'misconfigured'])
    const bare = await (t.createCallerFactory(router)({}) as any).p().catch((e: any) => e)
    expect(bare.code).toBe('INTERNAL_SERVER_ERROR')
    expect(() => requireMachine({ allow: 5 })).toThrow(TypeError)
  })

  it('acceptsToken: the context verifies API keys when asked; a procedure admits them only with its own acceptsToken', async () => {
    const apiKey = (await emu.seedApiKey({ subject: 'user_2trpc', scopes: ['jobs'] })).secret
    const build = (acceptsToken?: any) => {
      const createContext = createM2MContext({ receiver: 'trpc', env, acceptsToken })
      const t = initTRPC.context<Awaited<ReturnType<typeof createContext>>>().create()
      const router = t.router({
        m2mOnly: t.procedure.use(requireMachine()).query(({ ctx }) => ctx.machine.tokenType),
        keys: t.procedure.use(requireMachine({ acceptsToken: 'api_key' })).query(({ ctx }) => [ctx.machine.tokenType, ctx.machine.subject, ctx.machine.machineId]),
      })
      return { createContext, caller: t.createCallerFactory(router) }
    }
    const run = async (built: ReturnType<typeof build>, path: 'm2mOnly' | 'keys', token: string) => {
      const ctx = await built.createContext({ req: bearer(token) })
      try {
        return { ok: await (built.caller(ctx) as any)[path](), ctx }
      } catch (e: any) {
        return { error: [e.code, e.cause.code, e.cause.reason], ctx }
      }
    }
    const both = build(['m2m_token', 'api_key'])
    expect((await run(both, 'keys', apiKey)).ok).toEqual(['api_key', 'user_2trpc', null])
    expect((await run(both, 'm2mOnly', apiKey)).error).toEqual(['UNAUTHORIZED', 'invalid', 'wrong-type'])
    expect((await run(both, 'm2mOnly', tokens.webhook)).ok).toBe('m2m_token')
    expect((await run(both, 'keys', tokens.webhook)).error).toEqual(['UNAUTHORIZED', 'invalid', 'wrong-type'])
    // The default context verifies M2M tokens only: an API key leaves machine null.
    const m2mContext = await run(build(), 'keys', apiKey)
    expect(m2mContext.error).toEqual(['UNAUTHORIZED', 'invalid', 'wrong-type'])
    expect([m2mContext.ctx.machine, m2mContext.ctx.m2mError.code]).toEqual([null, 'invalid'])
    expect(() => createM2MContext({ acceptsToken: 'session_token' as any })).toThrow(/session tokens/)
    expect(() => requireMachine({ acceptsToken: ['nope'] as any })).toThrow(/acceptsToken/)
  })

  it('trpcErrorFor maps each M2MAuthError code', () => {
    const cases: Array<[any, string]> = [
      [new M2MAuthError('missing', 'm'), 'UNAUTHORIZED'],
      [new M2MAuthError('invalid', 'm'), 'UNAUTHORIZED'],
      [new M2MAuthError('expired', 'm'), 'UNAUTHORIZED'],
      [new M2MAuthError('revoked', 'm'), 'UNAUTHORIZED'],
      [new M2MAuthError('wrong-machine', 'm'), 'FORBIDDEN'],
      [new M2MAuthError('not-in-scope', 'm'), 'FORBIDDEN'],
      [new M2MAuthError('unavailable', 'm', { apiStatus: 429, retryAfter: 3 }), 'TOO_MANY_REQUESTS'],
      [new M2MAuthError('unavailable', 'm', { apiStatus: 503 }), 'SERVICE_UNAVAILABLE'],
      [new M2MAuthError('unavailable', 'm', { reason: 'timeout' }), 'SERVICE_UNAVAILABLE'],
      [new M2MAuthError('unavailable', 'm', { reason: 'misconfigured' }), 'INTERNAL_SERVER_ERROR'],
    ]
    for (const [err, expected] of cases) {
      const e = trpcErrorFor(err)
      expect(e).toBeInstanceOf(TRPCError) // the ESM entry throws the ESM build's class
      expect(e.name).toBe('TRPCError')
      expect([err.code, e.code]).toEqual([err.code, expected])
      expect(e.cause).toBe(err)
      expect(e.message).not.toBe(err.message)
    }
  })
})

describe('over HTTP with the fetch adapter', () => {
  it('answers 200/401/403/429/503 and never echoes the token or the reason', async () => {
    const { router, createContext } = buildRouter()
    const fetchCall = async (path: string, token?: string) => {
      const req = new Request(`http://api.local/trpc/${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} })
      const res = await fetchRequestHandler({ endpoint: '/trpc', req, router, createContext })
      return { status: res.status, body: await res.text() }
    }
    expect((await fetchCall('webhookOnly', tokens.webhook)).status).toBe(200)
    const none = await fetchCall('webhookOnly')
    expect(none.status).toBe(401)
    const forbidden = await fetchCall('webhookOnly', tokens.worker)
    expect(forbidden.status).toBe(403)
    expect(forbidden.body).not.toContain(tokens.worker)
    expect(forbidden.body).not.toContain(worker.id)
    await emu.setFault('m2m_verify', { type: 'status', status: 429, retryAfter: 2 })
    expect((await fetchCall('webhookOnly', tokens.webhook)).status).toBe(429)
    await emu.setFault('m2m_verify', { type: 'status', status: 503 })
    expect((await fetchCall('webhookOnly', tokens.webhook)).status).toBe(503)
    expect((await fetchCall('open')).status).toBe(200)
  })
})
