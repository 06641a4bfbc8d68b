// createM2MClient over real HTTP against the emulator: create (opaque and JWT), list, verify,
// revoke with a machine secret key and with the instance key; credential precedence; errors;
// no retry on create; deadlines; and the same operations through @clerk/backend's own
// `createClerkClient(...).m2m`, which must give the same resources.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createRequire } from 'node:module'
import { createClerkClient } from '@clerk/backend'

const require = createRequire(import.meta.url)
const { createM2MClient, M2MToken } = require('../lib/m2m.js')
const { ClerkAPIResponseError, isClerkAPIResponseError, MachineTokenVerificationError, InvalidOptionsError } = require('../lib/errors.js')
const { startEmulator } = require('../lib/emulator.js')

let emu: any
let webhook: any
let trpc: any
let worker: any

beforeAll(async () => {
  emu = await startEmulator()
  ;({ webhook, trpc, worker } = emu.machines)
})

afterAll(async () => {
  await emu?.stop()
})

beforeEach(async () => {
  await emu.clearFaults()
})

function decodePart(part: string): any {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
}

async function lastRequest(route: string): Promise<any> {
  const all = await emu.requests()
  const matching = all.filter((r: any) => r.route === route)
  return matching[matching.length - 1]
}

async function count(route: string): Promise<number> {
  const c = await emu.counters()
  return c[route] ?? 0
}

const prefix = (s: string) => s.slice(0, 7)

/** A resource as plain data, for comparing ours with the reference's. */
const plain = (t: any) => JSON.parse(JSON.stringify({ ...t, token: undefined }))

describe('createToken', () => {
  it('creates an opaque token with claims and expiry, using the machine secret key', async () => {
    const client = createM2MClient({ machineSecretKey: webhook.secretKey, apiUrl: emu.url })
    const t = await client.createToken({ secondsUntilExpiration: 120, claims: { role: 'ingest', nested: { snake_key: 1 } } })
    expect(t).toBeInstanceOf(M2MToken)
    expect(t.id).toMatch(/^mt_/)
    expect(t.token).toMatch(/^mt_/)
    expect(t.subject).toBe(webhook.id)
    expect(t.scopes).toEqual([trpc.id])
    expect(t.claims).toEqual({ role: 'ingest', nested: { snake_key: 1 } })
    expect([t.revoked, t.revocationReason, t.expired]).toEqual([false, null, false])
    expect(t.expiration - t.createdAt).toBe(120_000)
    expect(t.updatedAt).toBe(t.createdAt)

    const r = await lastRequest('m2m_create')
    expect([r.method, r.path, r.query]).toEqual(['POST', '/m2m_tokens', null])
    expect(JSON.stringify(r.body)).toBe('{"seconds_until_expiration":120,"claims":{"role":"ingest","nested":{"snake_key":1}},"token_format":"opaque"}')
    expect([r.authorizationScheme, r.authorizationPrefix]).toEqual(['Bearer', prefix(webhook.secretKey)])
    expect(r.clerkApiVersion).toBe('2026-05-12')
  })

  it('sends the reference body for defaults (null expiry and claims, opaque) and for minRemainingTtlSeconds 0', async () => {
    const client = createM2MClient({ machineSecretKey: webhook.secretKey, apiUrl: emu.url })
    const t = await client.createToken()
    expect(t.expiration).toBeNull()
    expect(t.claims).toBeNull()
    expect(JSON.stringify((await lastRequest('m2m_create')).body)).toBe('{"seconds_until_expiration":null,"claims":null,"token_format":"opaque"}')
    await client.createToken({ secondsUntilExpiration: 600, minRemainingTtlSeconds: 0, tokenFormat: undefined })
    expect(JSON.stringify((await lastRequest('m2m_create')).body)).toBe('{"seconds_until_expiration":600,"claims":null,"min_remaining_ttl_seconds":0,"token_format":"opaque"}')
  })

  it('creates a JWT whose claims and expiry match the resource', async () => {
    const client = createM2MClient({ machineSecretKey: worker.secretKey, apiUrl: emu.url })
    const t = await client.createToken({ tokenFormat: 'jwt', secondsUntilExpiration: 300, claims: { job: 'nightly' } })
    const [h, p, sig] = t.token.split('.')
    expect(sig.length).toBeGreaterThan(100)
    const header = decodePart(h)
    const payload = decodePart(p)
    expect(header).toMatchObject({ alg: 'RS256', typ: 'JWT', cat: 'cl_B7d4PD333AAA' })
    expect(payload).toMatchObject({ sub: worker.id, jti: t.id, job: 'nightly' })
    expect(payload.exp - payload.iat).toBe(300)
    expect(payload.exp * 1000).toBe(t.expiration)
    expect(t.claims).toEqual({ job: 'nightly' })
  })

  it('is never retried: one 503 or one dropped connection is one request', async () => {
    const client = createM2MClient({ machineSecretKey: webhook.secretKey, apiUrl: emu.url })
    for (const fault of [{ type: 'status', status: 503 }, { type: 'drop' }]) {
      const before = await count('m2m_create')
      await emu.setFault('m2m_create', { ...fault, times: 1 })
      const err = await client.createToken({ secondsUntilExpiration: 60 }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(ClerkAPIResponseError)
      expect(await count('m2m_create')).toBe(before + 1)
    }
  })

  it('rejects options that cannot work before any request', async () => {
    expect(() => createM2MClient({ apiUrl: 'http://api.clerk.com' })).toThrow(InvalidOptionsError)
    expect(() => createM2MClient({ apiUrl: 'https://user:pw@api.clerk.com' })).toThrow(/credentials/)
    expect(() => createM2MClient({ timeoutMs: Number.NaN })).toThrow(InvalidOptionsError)
    expect(() => createM2MClient({ secretKey: 42 })).toThrow(/secretKey must be a string/)
    const client = createM2MClient({ machineSecretKey: webhook.secretKey, apiUrl: emu.url })
    await expect(client.createToken({ secondsUntilExpiration: '60' })).rejects.toThrow(/secondsUntilExpiration must be a number/)
    await expect(client.createToken({ claims: 'x' })).rejects.toThrow(/claims must be an object/)
  })
})

describe('list, verify, revoke', () => {
  it('works with a machine secret key (per-call receiver key for verify)', async () => {
    const client = createM2MClient({ machineSecretKey: webhook.secretKey, apiUrl: emu.url })
    const a = await client.createToken({ secondsUntilExpiration: 600 })
    const b = await client.createToken({ secondsUntilExpiration: 600, claims: { n: 2 } })

    const listed = await client.list({ subject: webhook.id, limit: 100 })
    expect(Object.keys(listed)).toEqual(['data', 'totalCount'])
    expect(listed.data.every((t: any) => t instanceof M2MToken && t.token === undefined)).toBe(true)
    expect(listed.data.map((t: any) => t.id)).toEqual(expect.arrayContaining([a.id, b.id]))
    expect(listed.totalCount).toBe(listed.data.length)
    const r = await lastRequest('m2m_list')
    expect(r.query).toBe(`subject=${webhook.id}&limit=100`)

    const verified = await client.verify({ token: b.token, machineSecretKey: trpc.secretKey })
    expect(verified).toBeInstanceOf(M2MToken)
    expect(plain(verified)).toEqual(plain(b))
    const vr = await lastRequest('m2m_verify')
    expect([vr.path, vr.authorizationPrefix, JSON.stringify(vr.body)]).toEqual(['/m2m_tokens/verify', prefix(trpc.secretKey), JSON.stringify({ token: b.token })])

    const revoked = await client.revokeToken({ m2mTokenId: a.id, revocationReason: 'rotated' })
    expect(revoked).toBeInstanceOf(M2MToken)
    expect([revoked.id, revoked.revoked, revoked.revocationReason]).toEqual([a.id, true, 'rotated'])
    const rr = await lastRequest('m2m_revoke')
    expect([rr.path, JSON.stringify(rr.body)]).toEqual([`/m2m_tokens/${a.id}/revoke`, '{"revocation_reason":"rotated"}'])

    // The API's flags are returned as they are (the reference's verify does not reject them).
    const after = await client.verify({ token: a.token })
    expect([after.revoked, after.revocationReason]).toEqual([true, 'rotated'])
    // Revoked tokens leave the default list and come back with revoked: true.
    expect((await client.list({ subject: webhook.id, limit: 100 })).data.map((t: any) => t.id)).not.toContain(a.id)
    expect((await client.list({ subject: webhook.id, revoked: true, limit: 100 })).data.map((t: any) => t.id)).toContain(a.id)
    expect((await lastRequest('m2m_list')).query).toBe(`subject=${webhook.id}&revoked=true&limit=100`)
  })

  it('works with the instance secret key', async () => {
    const minted = await createM2MClient({ machineSecretKey: worker.secretKey, apiUrl: emu.url }).createToken({ secondsUntilExpiration: 600, claims: { k: 'v' } })
    const client = createM2MClient({ secretKey: emu.secretKey, apiUrl: emu.url })
    const listed = await client.list({ subject: worker.id, limit: 100 })
    expect(listed.data.map((t: any) => t.id)).toContain(minted.id)
    expect((await lastRequest('m2m_list')).authorizationPrefix).toBe(prefix(emu.secretKey))
    const v = await client.verify({ token: minted.token })
    expect(plain(v)).toEqual(plain(minted))
    expect((await lastRequest('m2m_verify')).authorizationPrefix).toBe(prefix(emu.secretKey))
    const r = await client.revokeToken({ m2mTokenId: minted.id })
    expect([r.revoked, r.revocationReason]).toEqual([true, null])
    expect(JSON.stringify((await lastRequest('m2m_revoke')).body)).toBe('{"revocation_reason":null}')
  })

  it('verifies JWTs locally: with jwtKey no request at all, with secretKey through the JWKS', async () => {
    const t = await createM2MClient({ machineSecretKey: webhook.secretKey, apiUrl: emu.url }).createToken({ tokenFormat: 'jwt', secondsUntilExpiration: 600, claims: { a: 1 } })
    const before = await emu.counters()
    const pem = emu.instances[0].publicKeyPem
    const viaPem = await createM2MClient({ jwtKey: pem, apiUrl: 'https://unreachable.invalid' }).verify({ token: t.token })
    expect(viaPem).toBeInstanceOf(M2MToken)
    expect(viaPem).toMatchObject({ id: t.id, subject: webhook.id, scopes: [trpc.id], claims: { a: 1 }, revoked: false, expired: false, expiration: t.expiration })
    const after = await emu.counters()
    expect(after.m2m_verify).toBe(before.m2m_verify)
    expect(after.jwks).toBe(before.jwks)
    const viaJwks = await createM2MClient({ secretKey: emu.secretKey, apiUrl: emu.url }).verify({ token: t.token })
    expect(plain(viaJwks)).toEqual(plain(viaPem))
    expect((await emu.counters()).m2m_verify).toBe(before.m2m_verify)
  })

  it('throws the MachineTokenVerificationError for a bad JWT, as the reference does', async () => {
    const t = await createM2MClient({ machineSecretKey: webhook.secretKey, apiUrl: emu.url }).createToken({ tokenFormat: 'jwt', secondsUntilExpiration: 600 })
    const [h, p, s] = t.token.split('.')
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...decodePart(p), sub: worker.id })).toString('base64url')}.${s}`
    const client = createM2MClient({ jwtKey: emu.instances[0].publicKeyPem })
    const err = await client.verify({ token: forged }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MachineTokenVerificationError)
    expect(err.code).toBe('token-verification-failed')
    const none = await createM2MClient({}).verify({ token: t.token }).catch((e: unknown) => e)
    expect(none).toBeInstanceOf(MachineTokenVerificationError)
    expect(none.message).toBe('Failed to resolve JWK during verification.')
  })
})

describe('credentials and errors', () => {
  it('uses per-call machineSecretKey > client machineSecretKey > client secretKey > none', async () => {
    const token = (await createM2MClient({ machineSecretKey: webhook.secretKey, apiUrl: emu.url }).createToken({ secondsUntilExpiration: 60 })).token
    const both = createM2MClient({ secretKey: emu.secretKey, machineSecretKey: trpc.secretKey, apiUrl: emu.url })
    await both.verify({ token, machineSecretKey: webhook.secretKey })
    expect((await lastRequest('m2m_verify')).authorizationPrefix).toBe(prefix(webhook.secretKey))
    await both.verify({ token, machineSecretKey: '' })
    expect((await lastRequest('m2m_verify')).authorizationPrefix).toBe(prefix(trpc.secretKey))
    await createM2MClient({ secretKey: emu.secretKey, apiUrl: emu.url }).verify({ token })
    expect((await lastRequest('m2m_verify')).authorizationPrefix).toBe(prefix(emu.secretKey))
    const err = await createM2MClient({ apiUrl: emu.url }).verify({ token }).catch((e: unknown) => e)
    expect((await lastRequest('m2m_verify')).authorizationPresent).toBe(false)
    expect(err).toBeInstanceOf(ClerkAPIResponseError)
    expect([err.status, err.message]).toEqual([401, 'Unauthorized'])
  })

  it('rejects with a ClerkAPIResponseError carrying status, errors, clerkTraceId and retryAfter', async () => {
    const client = createM2MClient({ machineSecretKey: trpc.secretKey, apiUrl: emu.url })
    const err = await client.verify({ token: 'mt_does_not_exist' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ClerkAPIResponseError)
    expect(err).toBeInstanceOf(Error)
    expect(isClerkAPIResponseError(err)).toBe(true)
    expect([err.status, err.message, err.name, err.code, err.clerkError]).toEqual([404, 'Not Found', 'ClerkAPIResponseError', 'api_response_error', true])
    expect(err.clerkTraceId).toMatch(/.+/)
    expect(err.retryAfter).toBeUndefined()
    expect(err.errors).toHaveLength(1)
    expect(err.errors[0]).toMatchObject({ code: expect.any(String), message: expect.any(String), longMessage: expect.any(String) })
    expect(err.errors[0].meta).toBeTypeOf('object')

    await emu.setFault('m2m_verify', { type: 'status', status: 429, retryAfter: 7, times: 1 })
    const limited = await client.verify({ token: 'mt_whatever' }).catch((e: unknown) => e)
    expect([limited.status, limited.retryAfter, limited.message]).toEqual([429, 7, 'Too Many Requests'])
  })

  it('a hung server ends at the deadline; an unreachable one at once; neither has a status', async () => {
    await emu.setFault('m2m_verify', { type: 'hang' })
    const client = createM2MClient({ machineSecretKey: trpc.secretKey, apiUrl: emu.url, timeoutMs: 300 })
    const start = Date.now()
    const err = await client.verify({ token: 'mt_hang' }).catch((e: unknown) => e)
    const elapsed = Date.now() - start
    expect(elapsed).toBeGreaterThanOrEqual(250)
    expect(elapsed).toBeLessThan(1500)
    expect(err).toBeInstanceOf(ClerkAPIResponseError)
    expect([err.status, err.message, err.failureKind, err.errors[0].code]).toEqual([undefined, '', 'timeout', 'unexpected_error'])
    const refused = await createM2MClient({ apiUrl: 'http://127.0.0.1:9', timeoutMs: 2000 }).list({ subject: 'mch_x' }).catch((e: unknown) => e)
    expect([refused.status, refused.failureKind]).toEqual([undefined, 'connect'])
  })

  it('revokeToken: a falsy id throws before any request; ids are percent-encoded in the path', async () => {
    const client = createM2MClient({ secretKey: emu.secretKey, apiUrl: emu.url })
    const before = await count('m2m_revoke')
    for (const bad of [undefined, '', null, 0]) {
      await expect(client.revokeToken({ m2mTokenId: bad })).rejects.toThrow(new Error('A valid resource ID is required.'))
    }
    await expect(client.revokeToken({ m2mTokenId: '../machines/mch_x' })).rejects.toThrow(/path segments are not allowed/)
    expect(await count('m2m_revoke')).toBe(before)
    const err = await client.revokeToken({ m2mTokenId: 'mt_a/b?c#d' }).catch((e: unknown) => e)
    expect(err.status).toBe(404)
    expect((await lastRequest('m2m_revoke')).path).toBe('/m2m_tokens/mt_a%2Fb%3Fc%23d/revoke')
  })

  it('never puts a key or a token in an error', async () => {
    const canaryKey = 'ak_CANARY_machine_secret_0123456789'
    const canaryToken = 'mt_CANARY_token_0123456789abcdef'
    const errs = [
      await createM2MClient({ machineSecretKey: canaryKey, apiUrl: emu.url }).verify({ token: canaryToken }).catch((e: unknown) => e),
      await createM2MClient({ machineSecretKey: canaryKey, apiUrl: emu.url }).createToken({}).catch((e: unknown) => e),
      await createM2MClient({ secretKey: 'sk_test_CANARY_0123456789', apiUrl: 'http://127.0.0.1:9' }).verify({ token: canaryToken }).catch((e: unknown) => e),
    ]
    const { inspect } = require('node:util')
    for (const e of errs) {
      const text = `${e.message} ${e.stack} ${inspect(e, { depth: 5, showHidden: true })} ${JSON.stringify(e)} ${String(e)}`
      expect(text).not.toMatch(/CANARY/)
    }
  })
})

describe('parity with @clerk/backend createClerkClient(...).m2m against the emulator', () => {
  it('gives the same resources for create, list, verify and revoke', async () => {
    const ref = createClerkClient({ secretKey: emu.secretKey, apiUrl: emu.url }).m2m
    const ours = createM2MClient({ secretKey: emu.secretKey, apiUrl: emu.url })

    // Creation with a per-call machine key: same shape, same fields, same wire body.
    const refTok = await ref.createToken({ machineSecretKey: webhook.secretKey, secondsUntilExpiration: 900, claims: { p: 1 } })
    const refBody = JSON.stringify((await lastRequest('m2m_create')).body)
    const ourTok = await ours.createToken({ machineSecretKey: webhook.secretKey, secondsUntilExpiration: 900, claims: { p: 1 } })
    expect(JSON.stringify((await lastRequest('m2m_create')).body)).toBe(refBody)
    expect(Object.keys(ourTok)).toEqual(Object.keys(refTok))
    expect(ourTok.constructor.name).toBe(refTok.constructor.name.replace(/^_/, '')) // the reference's bundle renames classes to _M2MToken
    for (const k of ['subject', 'scopes', 'claims', 'revoked', 'revocationReason', 'expired']) expect(ourTok[k]).toEqual(refTok[k])
    expect(ourTok.expiration - ourTok.createdAt).toBe(refTok.expiration - refTok.createdAt)

    // Verify (opaque, API) of the same token through both: equal resources.
    expect(plain(await ours.verify({ token: refTok.token }))).toEqual(plain(await ref.verify({ token: refTok.token })))
    // Verify (JWT, local via JWKS) through both.
    const jwt = await ref.createToken({ machineSecretKey: webhook.secretKey, tokenFormat: 'jwt', secondsUntilExpiration: 900, claims: { j: true } })
    expect(plain(await ours.verify({ token: jwt.token }))).toEqual(plain(await ref.verify({ token: jwt.token })))

    // List: the same page.
    const refList = await ref.list({ subject: webhook.id, limit: 50 })
    const ourList = await ours.list({ subject: webhook.id, limit: 50 })
    expect(Object.keys(ourList)).toEqual(Object.keys(refList))
    expect(ourList.totalCount).toBe(refList.totalCount)
    expect(ourList.data.map(plain)).toEqual(refList.data.map(plain))

    // Revoke: ours revokes the reference's token and vice versa; resources agree field by field.
    const ourRevoked = await ours.revokeToken({ m2mTokenId: refTok.id, revocationReason: 'parity' })
    const refRevoked = await ref.revokeToken({ m2mTokenId: ourTok.id, revocationReason: 'parity' })
    expect(Object.keys(ourRevoked)).toEqual(Object.keys(refRevoked))
    expect([ourRevoked.revoked, ourRevoked.revocationReason]).toEqual([refRevoked.revoked, refRevoked.revocationReason])
    expect(plain(await ours.verify({ token: ourTok.token }))).toEqual(plain(await ref.verify({ token: ourTok.token })))

    // Errors: same class name, status, message and error entries (trace ids differ per request).
    const refErr: any = await ref.verify({ token: 'mt_nope' }).catch((e: unknown) => e)
    const ourErr: any = await ours.verify({ token: 'mt_nope' }).catch((e: unknown) => e)
    expect([ourErr.name, ourErr.status, ourErr.message, ourErr.code]).toEqual([refErr.name, refErr.status, refErr.message, refErr.code])
    expect(ourErr.errors.map((e: any) => [e.code, e.message, e.longMessage])).toEqual(refErr.errors.map((e: any) => [e.code, e.message, e.longMessage]))
    expect(typeof ourErr.clerkTraceId).toBe(typeof refErr.clerkTraceId)

    // Falsy id: the same synchronous-looking rejection.
    const refIdErr: any = await ref.revokeToken({ m2mTokenId: '' }).catch((e: unknown) => e)
    const ourIdErr: any = await ours.revokeToken({ m2mTokenId: '' }).catch((e: unknown) => e)
    expect(ourIdErr.message).toBe(refIdErr.message)
  })
})
