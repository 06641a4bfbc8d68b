// The framework-free core of request authentication (lib/request-auth.js, lib/machine-auth.js,
// lib/auth-response.js): the one answer table, acceptsToken over every machine token type, allow
// and requireScope across types, an authenticator's one verifier, and log-safe descriptions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRequire } from 'node:module'
import { receiverEnv, mintToken } from './helpers/emulator'

const require = createRequire(import.meta.url)
const { M2MAuthError, authenticateMachineRequest, authenticateM2MRequest, createMachineAuthenticator, machineAuthErrorResponse } = require('../lib/console.js')
const { startEmulator } = require('../lib/emulator.js')

// RFC 6750 §3: the characters of a quoted value (realm, error, error_description).
const QUOTED = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/

describe('machineAuthErrorResponse: the one table', () => {
  const e = (code: string, extra: Record<string, unknown> = {}) => new M2MAuthError(code, 'details that must not reach the client: mch_secretive', extra)
  const cases: Array<[string, any, number, string | undefined, string | undefined, string, string]> = [
    ['missing', e('missing'), 401, 'Bearer realm="api"', undefined, 'missing', 'A Bearer token is required.'],
    ['invalid', e('invalid', { reason: 'signature' }), 401, 'Bearer realm="api", error="invalid_token", error_description="The token is invalid."', undefined, 'invalid', 'The token is invalid.'],
    ['wrong type', e('invalid', { reason: 'wrong-type' }), 401, 'Bearer realm="api", error="invalid_token", error_description="This type of token is not accepted here."', undefined, 'invalid', 'This type of token is not accepted here.'],
    ['two headers', e('invalid', { reason: 'duplicate-header' }), 401, 'Bearer realm="api", error="invalid_token", error_description="The Authorization header is malformed."', undefined, 'invalid', 'The Authorization header is malformed.'],
    ['expired', e('expired'), 401, 'Bearer realm="api", error="invalid_token", error_description="The token has expired."', undefined, 'expired', 'The token has expired.'],
    ['revoked', e('revoked'), 401, 'Bearer realm="api", error="invalid_token", error_description="The token has been revoked."', undefined, 'revoked', 'The token has been revoked.'],
    ['wrong machine', e('wrong-machine'), 403, 'Bearer realm="api", error="insufficient_scope", error_description="This machine may not make this request."', undefined, 'wrong-machine', 'This machine may not make this request.'],
    ['not in scope', e('not-in-scope'), 403, 'Bearer realm="api", error="insufficient_scope", error_description="The token\'s scopes do not cover this request."', undefined, 'not-in-scope', "The token's scopes do not cover this request."],
    ['429 with Retry-After', e('unavailable', { apiStatus: 429, retryAfter: 7, reason: 'rate-limited' }), 429, undefined, '7', 'rate-limited', 'Machine authentication is rate limited; retry later.'],
    ['429 without: a default', e('unavailable', { apiStatus: 429, reason: 'rate-limited' }), 429, undefined, '5', 'rate-limited', 'Machine authentication is rate limited; retry later.'],
    ['503, fractional Retry-After rounded up', e('unavailable', { apiStatus: 503, retryAfter: 1.2, reason: 'server-error' }), 503, undefined, '2', 'unavailable', 'Machine authentication is temporarily unavailable; retry later.'],
    ['timeout', e('unavailable', { reason: 'timeout' }), 503, undefined, undefined, 'unavailable', 'Machine authentication is temporarily unavailable; retry later.'],
    ['misconfigured', e('unavailable', { reason: 'misconfigured' }), 500, undefined, undefined, 'internal', 'Internal server error.'],
    ['internal', e('unavailable', { reason: 'internal' }), 500, undefined, undefined, 'internal', 'Internal server error.'],
    ['not an M2MAuthError', new Error('boom sk_test_secret'), 500, undefined, undefined, 'internal', 'Internal server error.'],
  ]
  for (const [name, error, status, www, retryAfter, code, message] of cases) {
    it(`${name}: ${status}`, () => {
      const r = machineAuthErrorResponse(error)
      expect(r).toEqual({
        status,
        headers: { 'Cache-Control': 'no-store', ...(www ? { 'WWW-Authenticate': www } : {}), ...(retryAfter ? { 'Retry-After': retryAfter } : {}) },
        body: { error: { code, message } },
      })
      expect(JSON.stringify(r)).not.toMatch(/secretive|sk_test/)
      for (const v of Object.values(r.headers)) {
        expect(v).toMatch(/^[\x20-\x7e]+$/)
        for (const [, quoted] of v.matchAll(/="([^"]*)"/g)) expect(quoted).toMatch(QUOTED)
      }
    })
  }

  it('takes a realm, and refuses one that cannot be a quoted string', () => {
    expect(machineAuthErrorResponse(new M2MAuthError('missing', 'm'), { realm: 'orders-api' }).headers['WWW-Authenticate']).toBe('Bearer realm="orders-api"')
    for (const realm of ['a"b', 'a\\b', 'line\nbreak', '', 'x'.repeat(129), 5]) {
      expect(() => machineAuthErrorResponse(new M2MAuthError('missing', 'm'), { realm })).toThrow(TypeError)
    }
  })
})

describe('M2MAuthError messages are safe for logs', () => {
  it('control characters and line separators become spaces; at most 300 characters', () => {
    const e = new M2MAuthError('invalid', `kid='a\r\nX-Forged: 1\u0000\u001b[31m\u2028\u2029\u0085'${'x'.repeat(1000)}`)
    expect(e.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/)
    expect(e.message.length).toBe(300)
    expect(e.message.endsWith('…')).toBe(true)
    expect(e.message.startsWith("kid='a  X-Forged: 1")).toBe(true)
  })
})

describe('authenticateMachineRequest against the emulator', () => {
  let emu: any
  let env: Record<string, string>
  let m2m: string
  let apiKey: string
  let oauth: string
  let oauthJwt: string
  const opts = (extra: Record<string, unknown> = {}) => ({ env, receiver: 'trpc', timeoutMs: 2000, ...extra })
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` })

  beforeAll(async () => {
    emu = await startEmulator()
    env = receiverEnv(emu)
    m2m = (await mintToken(emu, 'webhook', { seconds_until_expiration: 600 })).token
    apiKey = (await emu.seedApiKey({ subject: 'user_2key', scopes: ['read'], claims: { plan: 'pro' } })).secret
    oauth = (await emu.seedOAuthToken({ subject: 'user_2oauth', scopes: ['email'] })).secret
    const now = Math.floor(Date.now() / 1000)
    oauthJwt = await emu.signJwt(
      { alg: 'RS256', typ: 'at+jwt', kid: emu.instances[0].kid },
      { sub: 'user_2oauthjwt', client_id: 'client_x', jti: 'oat_jwt1', scope: 'email profile', iat: now - 5, nbf: now - 5, exp: now + 600, iss: emu.instances[0].issuer },
    )
  })
  afterAll(async () => {
    await emu?.stop()
  })

  it('acceptsToken: M2M only by default; each type, a list, and "any"; tokenType on every result', async () => {
    const byDefault = await authenticateMachineRequest(bearer(apiKey), opts())
    expect([byDefault.isAuthenticated, byDefault.tokenType, byDefault.error.code, byDefault.error.reason]).toEqual([false, 'api_key', 'invalid', 'wrong-type'])

    const key = await authenticateMachineRequest(bearer(apiKey), opts({ acceptsToken: 'api_key' }))
    expect(key).toEqual({ isAuthenticated: true, tokenType: 'api_key', id: expect.stringMatching(/^ak_/), subject: 'user_2key', machineId: null, scopes: ['read'], claims: { plan: 'pro' }, expiration: null, service: null, error: null })

    const o = await authenticateMachineRequest(bearer(oauth), opts({ acceptsToken: 'oauth_token' }))
    expect(o).toMatchObject({ isAuthenticated: true, tokenType: 'oauth_token', subject: 'user_2oauth', machineId: null, scopes: ['email'], claims: null })
    const oj = await authenticateMachineRequest(bearer(oauthJwt), opts({ acceptsToken: 'oauth_token' }))
    expect(oj).toMatchObject({ isAuthenticated: true, tokenType: 'oauth_token', subject: 'user_2oauthjwt', id: 'oat_jwt1' })

    const list = ['m2m_token', 'api_key']
    expect((await authenticateMachineRequest(bearer(m2m), opts({ acceptsToken: list }))).tokenType).toBe('m2m_token')
    expect((await authenticateMachineRequest(bearer(apiKey), opts({ acceptsToken: list }))).isAuthenticated).toBe(true)
    const notListed = await authenticateMachineRequest(bearer(oauth), opts({ acceptsToken: list }))
    expect([notListed.tokenType, notListed.error.code]).toEqual(['oauth_token', 'invalid'])
    for (const t of [m2m, apiKey, oauth, oauthJwt]) expect((await authenticateMachineRequest(bearer(t), opts({ acceptsToken: 'any' }))).isAuthenticated).toBe(true)

    const none = await authenticateMachineRequest({}, opts({ acceptsToken: 'any' }))
    expect([none.tokenType, none.error.code]).toEqual([null, 'missing'])
    const unknown = await authenticateMachineRequest(bearer('sk_test_not_a_machine_token'), opts({ acceptsToken: 'any' }))
    expect([unknown.tokenType, unknown.error.code, unknown.error.reason]).toEqual([null, 'invalid', 'wrong-type'])
  })

  it('options that cannot work are a misconfigured receiver, never a throw', async () => {
    for (const bad of [{ acceptsToken: 'session_token' }, { acceptsToken: [] }, { acceptsToken: 'jwt' }, { allow: 5 }, { requireScope: [1] }, { expectedService: [2] }]) {
      const r = await authenticateMachineRequest(bearer(m2m), opts(bad))
      expect([JSON.stringify(bad), r.isAuthenticated, r.error.code, r.error.reason]).toEqual([JSON.stringify(bad), false, 'unavailable', 'misconfigured'])
    }
  })

  it('allow: a list names machines (API keys never match it); a predicate sees every type; requireScope', async () => {
    const listed = await authenticateMachineRequest(bearer(m2m), opts({ allow: ['worker', 'webhook'] }))
    expect([listed.isAuthenticated, listed.service]).toEqual([true, 'webhook'])
    const byId = await authenticateMachineRequest(bearer(m2m), opts({ allow: emu.machines.webhook.id }))
    expect([byId.isAuthenticated, byId.service]).toEqual([true, null])
    const key = await authenticateMachineRequest(bearer(apiKey), opts({ acceptsToken: 'any', allow: ['webhook'] }))
    expect([key.isAuthenticated, key.error.code]).toEqual([false, 'wrong-machine'])
    const seen: string[] = []
    const predicate = (m: any) => {
      seen.push(m.tokenType)
      return m.subject === 'user_2key'
    }
    expect((await authenticateMachineRequest(bearer(apiKey), opts({ acceptsToken: 'any', allow: predicate }))).isAuthenticated).toBe(true)
    expect((await authenticateMachineRequest(bearer(m2m), opts({ acceptsToken: 'any', allow: predicate }))).error.code).toBe('wrong-machine')
    expect(seen).toEqual(['api_key', 'm2m_token'])
    const throwing = await authenticateMachineRequest(bearer(m2m), opts({ allow: () => { throw new Error('bug') } }))
    expect([throwing.error.code, throwing.error.reason]).toEqual(['unavailable', 'misconfigured'])
    expect((await authenticateMachineRequest(bearer(m2m), opts({ requireScope: 'trpc' }))).isAuthenticated).toBe(true)
    expect((await authenticateMachineRequest(bearer(m2m), opts({ requireScope: ['trpc', 'worker'] }))).error.code).toBe('not-in-scope')
    const unknownService = await authenticateMachineRequest(bearer(m2m), opts({ allow: ['inngest'] }))
    expect([unknownService.error.code, unknownService.error.reason]).toEqual(['unavailable', 'misconfigured'])
  })

  it('authenticateM2MRequest keeps the first version\'s result shape', async () => {
    const r = await authenticateM2MRequest(bearer(m2m), opts({ expectedService: 'webhook' }))
    expect(Object.keys(r)).toEqual(['isAuthenticated', 'tokenType', 'id', 'machineId', 'subject', 'scopes', 'claims', 'expiration', 'error'])
    const k = await authenticateM2MRequest(bearer(apiKey), opts({ acceptsToken: 'any' }))
    expect([k.isAuthenticated, k.tokenType, k.error.code]).toEqual([false, 'm2m_token', 'invalid'])
  })

  it('createMachineAuthenticator: one verifier, built at the first request from the environment as it is then', async () => {
    const lateEnv: Record<string, string> = {}
    const auth = createMachineAuthenticator({ env: lateEnv, receiver: 'trpc', timeoutMs: 2000 })
    Object.assign(lateEnv, env)
    const jwts = await Promise.all([1, 2, 3].map(() => mintToken(emu, 'webhook', { token_format: 'jwt', seconds_until_expiration: 600 })))
    for (const t of jwts) expect((await auth.authenticate(bearer(t.token))).isAuthenticated).toBe(true)
    expect(await auth.verifyToken(m2m)).toMatchObject({ tokenType: 'm2m_token', machineId: emu.machines.webhook.id })
    await expect(auth.verifyToken('mt_nope')).rejects.toMatchObject({ name: 'M2MAuthError', code: 'invalid' })
    const s = auth.stats()
    expect(s.local + s.remote).toBe(5)
    // Its own outcomes (process-wide counters, JWKS fetches among them, are processStats()).
    expect(s.outcomes).toEqual({ m2m_token: { ok: 4, 'token-invalid': 1 } })
    auth.close()
    const after = await auth.authenticate(bearer(jwts[0].token))
    expect([after.isAuthenticated, after.error.reason]).toEqual([false, 'internal'])
    expect(() => createMachineAuthenticator({ acceptsToken: 'session_token' })).toThrow(/session tokens/)
  })

  it('Node requests: a second Authorization header is seen through headersDistinct', async () => {
    const req = { headers: { authorization: `Bearer ${m2m}` }, headersDistinct: { authorization: [`Bearer ${m2m}`, 'Bearer other'] } }
    const r = await authenticateMachineRequest(req, opts())
    expect([r.error.code, r.error.reason]).toEqual(['invalid', 'duplicate-header'])
  })
})
