// The cases every framework adapter must answer exactly (issue 14, item 4), run against a real app
// of each framework over real HTTP on 127.0.0.1 (the Next.js wrapper through the Fetch
// Request/Response contract), with the emulator as the Backend API. A framework test file builds
// its app from `AppOptions` and calls `defineAdapterSuite`.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { request as httpRequest } from 'node:http'
import { inspect } from 'node:util'
import { createRequire } from 'node:module'
import { receiverEnv, mintToken } from './emulator'
import { createCanaries, leaksOf } from './canaries'

const require = createRequire(import.meta.url)
const { startEmulator } = require('../../lib/emulator.js')
const { createM2MClient } = require('../../lib/m2m.js')

export interface Reply {
  status: number
  headers: Record<string, string | undefined>
  body: any
  ms: number
}

/** Sends `GET path`; a header given as a list is sent as several header lines. */
export type Send = (path: string, headers?: Record<string, string | string[]>) => Promise<Reply>

export interface AppOptions {
  /** Where the app reads its CLERK_* variables. */
  env: Record<string, string>
  timeoutMs: number
  /** Passed as the adapter's `onError`: the app's "log". */
  onError: (error: any, request: unknown) => void
}

/**
 * An app with three routes:
 * - `/m2m`: M2M tokens of the `webhook` machine only (`allow: ['webhook']`), receiver `trpc`;
 * - `/apikey`: API keys only (`acceptsToken: 'api_key'`);
 * - `/auth` (when the adapter has a non-rejecting form): `{ isAuthenticated, tokenType, machineId, code }`.
 * A route answers `{ machine }` when it lets the request through.
 */
export interface App {
  send: Send
  hasAuthRoute: boolean
  /** Whether `/auth` authenticates API keys too (Fastify's plugin verifies what any route accepts). */
  authAcceptsApiKeys?: boolean
  /** The counters of the verifier behind a route. */
  stats(route: 'm2m' | 'apikey'): { local: number; remote: number }
  close(): Promise<void>
}

/** `GET url` over node:http (fetch would fold several Authorization headers into one line). */
export function httpSend(baseUrl: string): Send {
  return (path, headers = {}) =>
    new Promise((resolve, reject) => {
      const started = Date.now()
      const req = httpRequest(`${baseUrl}${path}`, { method: 'GET', headers, agent: false }, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (d) => (text += d))
        res.on('end', () => {
          const h: Record<string, string | undefined> = {}
          for (const [k, v] of Object.entries(res.headers)) h[k] = Array.isArray(v) ? v.join(', ') : v
          let body: unknown = text
          try {
            body = JSON.parse(text)
          } catch {}
          resolve({ status: res.statusCode ?? 0, headers: h, body, ms: Date.now() - started })
        })
      })
      req.on('error', reject)
      req.end()
    })
}

/** A Fetch Request for `path` (several values of a header are appended, as a Fetch client would). */
export function fetchRequest(path: string, headers: Record<string, string | string[]> = {}): Request {
  const h = new Headers()
  for (const [k, v] of Object.entries(headers)) for (const value of [v].flat()) h.append(k, value)
  return new Request(`http://127.0.0.1${path}`, { headers: h })
}

/** A Fetch Response as a Reply. */
export async function replyOf(res: Response, started: number): Promise<Reply> {
  const text = await res.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {}
  return { status: res.status, headers: Object.fromEntries(res.headers), body, ms: Date.now() - started }
}

const REALM = 'Bearer realm="api"'
const invalidToken = (description: string) => `Bearer realm="api", error="invalid_token", error_description="${description}"`
const insufficientScope = (description: string) => `Bearer realm="api", error="insufficient_scope", error_description="${description}"`

/** The exact answer to a failure: status, the two headers, the body. */
function expectAnswer(r: Reply, status: number, wwwAuthenticate: string | undefined, retryAfter: string | undefined, code: string, message: string) {
  expect({ status: r.status, wwwAuthenticate: r.headers['www-authenticate'], retryAfter: r.headers['retry-after'], body: r.body }).toEqual({
    status,
    wwwAuthenticate,
    retryAfter,
    body: { error: { code, message } },
  })
  expect(r.headers['cache-control']).toBe('no-store')
  expect(r.headers['content-type']).toMatch(/^application\/json/)
}

export function defineAdapterSuite(name: string, build: (options: AppOptions) => Promise<App>): void {
  describe(`${name}: every case of the answer table`, () => {
    let emu: any
    let env: Record<string, string>
    let app: App
    let misconfigured: App
    const logged: any[] = []
    const tokens: Record<string, string> = {}
    const TIMEOUT_MS = 1000

    beforeAll(async () => {
      emu = await startEmulator()
      env = receiverEnv(emu)
      const onError = (error: any) => logged.push(error)
      app = await build({ env, timeoutMs: TIMEOUT_MS, onError })
      // No key at all: the Backend API refuses to verify opaque tokens for this receiver.
      misconfigured = await build({ env: { CLERK_API_URL: emu.url }, timeoutMs: TIMEOUT_MS, onError })

      tokens.opaque = (await mintToken(emu, 'webhook', { seconds_until_expiration: 3600 })).token
      tokens.jwt = (await mintToken(emu, 'webhook', { token_format: 'jwt', seconds_until_expiration: 3600 })).token
      tokens.worker = (await mintToken(emu, 'worker', { seconds_until_expiration: 3600 })).token
      const webhookClient = createM2MClient({ machineSecretKey: emu.machines.webhook.secretKey, apiUrl: emu.url })
      const revoked = await webhookClient.createToken({ secondsUntilExpiration: 3600 })
      await webhookClient.revokeToken({ m2mTokenId: revoked.id, revocationReason: 'test' })
      tokens.revoked = revoked.token
      await emu.setClockOffset(-7_200_000)
      tokens.expired = (await mintToken(emu, 'webhook', { token_format: 'jwt', seconds_until_expiration: 60 })).token
      await emu.setClockOffset(0)
      // A machine whose tokens are scoped to another receiver.
      await emu.createMachine({ name: 'reports' })
      const rogue = await emu.createMachine({ name: 'rogue', scopedTo: ['reports'] })
      tokens.rogue = (await createM2MClient({ machineSecretKey: rogue.secretKey, apiUrl: emu.url }).createToken({ tokenFormat: 'jwt', secondsUntilExpiration: 3600 })).token
      tokens.apiKey = (await emu.seedApiKey({ subject: 'user_2adapters', scopes: ['jobs:read'] })).secret
    })

    afterAll(async () => {
      await app?.close()
      await misconfigured?.close()
      await emu?.stop()
    })

    afterEach(async () => {
      await emu.clearFaults()
    })

    const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

    it('a valid M2M JWT and a valid opaque token pass, and the handler sees the machine', async () => {
      for (const token of [tokens.jwt, tokens.opaque]) {
        const r = await app.send('/m2m', bearer(token))
        expect(r.status).toBe(200)
        expect(r.body.machine).toMatchObject({ tokenType: 'm2m_token', machineId: emu.machines.webhook.id, subject: emu.machines.webhook.id, scopes: [emu.machines.trpc.id], service: 'webhook' })
        expect(JSON.stringify(r.body)).not.toContain(token)
      }
    })

    it('no Authorization header: 401, a bare Bearer challenge (RFC 6750 §3.1)', async () => {
      expectAnswer(await app.send('/m2m'), 401, REALM, undefined, 'missing', 'A Bearer token is required.')
    })

    it('a malformed header: "Bearer" alone and "Basic …" are no credential; two tokens or two headers are invalid', async () => {
      expectAnswer(await app.send('/m2m', { authorization: 'Bearer' }), 401, REALM, undefined, 'missing', 'A Bearer token is required.')
      expectAnswer(await app.send('/m2m', { authorization: `Basic ${Buffer.from('webhook:secret').toString('base64')}` }), 401, REALM, undefined, 'missing', 'A Bearer token is required.')
      const malformed = invalidToken('The Authorization header is malformed.')
      expectAnswer(await app.send('/m2m', { authorization: `Bearer ${tokens.jwt} ${tokens.opaque}` }), 401, malformed, undefined, 'invalid', 'The Authorization header is malformed.')
      expectAnswer(await app.send('/m2m', { authorization: [`Bearer ${tokens.jwt}`, `Bearer ${tokens.opaque}`] }), 401, malformed, undefined, 'invalid', 'The Authorization header is malformed.')
    })

    it('an expired token, a revoked opaque token, a forged one: 401 invalid_token', async () => {
      expectAnswer(await app.send('/m2m', bearer(tokens.expired)), 401, invalidToken('The token has expired.'), undefined, 'expired', 'The token has expired.')
      expectAnswer(await app.send('/m2m', bearer(tokens.revoked)), 401, invalidToken('The token has been revoked.'), undefined, 'revoked', 'The token has been revoked.')
      expectAnswer(await app.send('/m2m', bearer('mt_unknown_token_value')), 401, invalidToken('The token is invalid.'), undefined, 'invalid', 'The token is invalid.')
    })

    it('a machine not in `allow`, a receiver not in the token\'s scopes: 403 insufficient_scope', async () => {
      expectAnswer(await app.send('/m2m', bearer(tokens.worker)), 403, insufficientScope('This machine may not make this request.'), undefined, 'wrong-machine', 'This machine may not make this request.')
      expectAnswer(await app.send('/m2m', bearer(tokens.rogue)), 403, insufficientScope("The token's scopes do not cover this request."), undefined, 'not-in-scope', "The token's scopes do not cover this request.")
    })

    it('an API key where only M2M tokens are accepted: 401; accepted with acceptsToken: "api_key" (and an M2M token is not)', async () => {
      const notAccepted = 'This type of token is not accepted here.'
      expectAnswer(await app.send('/m2m', bearer(tokens.apiKey)), 401, invalidToken(notAccepted), undefined, 'invalid', notAccepted)
      const r = await app.send('/apikey', bearer(tokens.apiKey))
      expect(r.status).toBe(200)
      expect(r.body.machine).toMatchObject({ tokenType: 'api_key', subject: 'user_2adapters', machineId: null, scopes: ['jobs:read'] })
      expectAnswer(await app.send('/apikey', bearer(tokens.jwt)), 401, invalidToken(notAccepted), undefined, 'invalid', notAccepted)
    })

    it('the Backend API rate limits: 429 with its Retry-After', async () => {
      await emu.setFault('m2m_verify', { type: 'status', status: 429, retryAfter: 7 })
      expectAnswer(await app.send('/m2m', bearer(tokens.opaque)), 429, undefined, '7', 'rate-limited', 'Machine authentication is rate limited; retry later.')
    })

    it('the Backend API is unavailable: 503, with Retry-After when it gave one', async () => {
      const message = 'Machine authentication is temporarily unavailable; retry later.'
      await emu.setFault('m2m_verify', { type: 'status', status: 503, retryAfter: 3 })
      expectAnswer(await app.send('/m2m', bearer(tokens.opaque)), 503, undefined, '3', 'unavailable', message)
      await emu.setFault('m2m_verify', { type: 'status', status: 502 })
      expectAnswer(await app.send('/m2m', bearer(tokens.opaque)), 503, undefined, undefined, 'unavailable', message)
    })

    it('a hung Backend API: 503 within timeoutMs', async () => {
      await emu.setFault('m2m_verify', { type: 'hang' })
      const r = await app.send('/m2m', bearer(tokens.opaque))
      expectAnswer(r, 503, undefined, undefined, 'unavailable', 'Machine authentication is temporarily unavailable; retry later.')
      expect(r.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50)
      expect(r.ms).toBeLessThan(TIMEOUT_MS + 2000)
    })

    it('a misconfigured receiver (no key in the environment): 500 without details; onError hears why', async () => {
      logged.length = 0
      expectAnswer(await misconfigured.send('/m2m', bearer(tokens.opaque)), 500, undefined, undefined, 'internal', 'Internal server error.')
      expect(logged.map((e) => [e.name, e.code, e.reason])).toEqual([['M2MAuthError', 'unavailable', 'misconfigured']])
      expect(logged[0].message).toMatch(/CLERK_MACHINE_SECRET_KEY_<RECEIVER> or CLERK_SECRET_KEY/)
    })

    it('descriptions are safe for logs: a token header with line breaks and 4 KiB of text stays one bounded line', async () => {
      logged.length = 0
      const header = { alg: 'RS256', typ: 'JWT', kid: `ins_x\r\nX-Injected: yes\u2028${'k'.repeat(4096)}`, cat: 'cl_B7d4PD333AAA' }
      const payload = { sub: emu.machines.webhook.id, exp: Math.floor(Date.now() / 1000) + 600, iat: Math.floor(Date.now() / 1000) - 5 }
      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
      const forged = `${b64(header)}.${b64(payload)}.${Buffer.from('sig').toString('base64url')}`
      const r = await app.send('/m2m', bearer(forged))
      expectAnswer(r, 401, invalidToken('The token is invalid.'), undefined, 'invalid', 'The token is invalid.')
      expect(logged).toHaveLength(1)
      expect(logged[0].message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/)
      expect(logged[0].message.length).toBeLessThanOrEqual(300)
      expect(logged[0].message).toMatch(/^The token is invalid: /)
    })

    it('the verifier is built once per adapter instance: its counters grow across requests', async () => {
      const total = (s: { local: number; remote: number }) => s.local + s.remote
      // Distinct tokens: a repeated JWT is answered by lib/verify.js's reuse map without reaching the counters.
      const jwts = await Promise.all(Array.from({ length: 5 }, () => mintToken(emu, 'webhook', { token_format: 'jwt', seconds_until_expiration: 600 })))
      const opaque = await mintToken(emu, 'webhook', { seconds_until_expiration: 600 })
      const before = app.stats('m2m')
      for (const t of [...jwts, opaque]) expect((await app.send('/m2m', bearer(t.token))).status).toBe(200)
      const after = app.stats('m2m')
      expect(total(after) - total(before)).toBe(6)
      expect(after.local - before.local).toBe(5) // the JWTs, with the JWKS fetched before
      expect(after.remote - before.remote).toBe(1) // the opaque token
    })

    it('the non-rejecting form records the result and lets every request through', async () => {
      if (!app.hasAuthRoute) return
      expect((await app.send('/auth', bearer(tokens.jwt))).body).toEqual({ isAuthenticated: true, tokenType: 'm2m_token', machineId: emu.machines.webhook.id, code: null })
      expect((await app.send('/auth')).body).toEqual({ isAuthenticated: false, tokenType: null, machineId: null, code: 'missing' })
      const apiKey = app.authAcceptsApiKeys ? { isAuthenticated: true, tokenType: 'api_key', machineId: null, code: null } : { isAuthenticated: false, tokenType: 'api_key', machineId: null, code: 'invalid' }
      expect((await app.send('/auth', bearer(tokens.apiKey))).body).toEqual(apiKey)
    })

    it('canary secrets never appear in any response or log line', async () => {
      const canaries = createCanaries()
      const logs: string[] = []
      const onError = (error: any) => logs.push(`${error.code} ${error.reason} ${error.message}`, inspect(error, { showHidden: true, depth: Infinity }), JSON.stringify(error))
      const canaryEnv = {
        CLERK_API_URL: emu.url,
        CLERK_SECRET_KEY: canaries.secretKey.value,
        CLERK_MACHINE_SECRET_KEY_TRPC: canaries.machineSecretKey.value,
        CLERK_M2M_MACHINE_ID_TRPC: emu.machines.trpc.id,
        CLERK_M2M_MACHINE_ID_WEBHOOK: emu.machines.webhook.id,
      }
      // Anything the framework or the package prints while this runs is a log line too.
      const printed: string[] = []
      const writes = [process.stdout, process.stderr].map((stream) => {
        const original = stream.write.bind(stream)
        stream.write = ((chunk: any, ...rest: any[]) => {
          printed.push(String(chunk))
          return original(chunk, ...rest)
        }) as typeof stream.write
        return () => (stream.write = original)
      })
      const canaryApp = await build({ env: canaryEnv, timeoutMs: TIMEOUT_MS, onError })
      const replies: Reply[] = []
      try {
        const c = canaries
        const headerSets: Array<Record<string, string | string[]>> = [
          bearer(c.opaqueToken.value),
          bearer(c.jwt.value),
          bearer(c.machineSecretKey.value),
          bearer(c.secretKey.value),
          { authorization: `Basic ${c.opaqueToken.value}` },
          { authorization: `Bearer ${c.opaqueToken.value} ${c.jwt.value}` },
          { authorization: [`Bearer ${c.opaqueToken.value}`, `Bearer ${c.jwt.value}`] },
          bearer(tokens.opaque), // a real token, refused credentials (the canary keys): 500
        ]
        for (const path of ['/m2m', '/apikey', ...(canaryApp.hasAuthRoute ? ['/auth'] : [])]) {
          for (const headers of headerSets) replies.push(await canaryApp.send(path, headers))
        }
      } finally {
        await canaryApp.close()
        for (const restore of writes) restore()
      }
      expect(replies.map((r) => r.status)).toContain(500)
      expect(logs.length).toBeGreaterThan(10)
      const problems = [...replies.flatMap((r) => [JSON.stringify(r.headers), JSON.stringify(r.body)]), ...logs, ...printed].flatMap((t) => leaksOf(canaries, t))
      expect(problems).toEqual([])
    })
  })
}
