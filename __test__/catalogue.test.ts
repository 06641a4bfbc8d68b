// The security catalogue (docs/SECURITY.md), JS side: the rows that cross
// the napi boundary or involve the JS surface (rejected promises, JS objects and prototypes,
// option validation in lib/, child processes). The core's semantics are tested row by row in
// crates/clerk-m2m-core/tests/catalogue.rs (and J-73 in tests/wycheproof.rs); RSS, event-loop
// and lifecycle rows are in resources.bounds.test.ts, the secret canaries in canary.test.ts.
//
// Every test name starts with its row id(s). The catalogue census (scripts/census.mjs, the last
// step of scripts/test.sh) counts a row as covered only by tests carrying its id that ran and
// asserted, here and in the Rust suites.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync, readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { spawnSync } from 'node:child_process'
import { createServer } from 'node:net'
import { inspect } from 'node:util'
import { createPublicKey, generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto'
import { verifyMachineAuthToken, verifyM2MToken, InvalidOptionsError, MachineTokenVerificationError, M2MToken, createM2MClient, ClerkAPIResponseError } from '../lib/index.js'
import { authenticateM2MRequest } from '../lib/console.js'
import { startEmulator, type Emulator } from '../lib/emulator.js'
import { loadOracle } from './helpers/oracle'
import { testAddonEnv } from './helpers/test-addon'

const root = resolve(__dirname, '..')

// ---------------------------------------------------------------------------
// Keys and tokens (self-contained: Node's crypto, real signatures)

interface Key {
  privateKey: KeyObject
  publicPem: string
  jwk: Record<string, unknown>
}

function makeKey(kid: string, modulusLength = 2048, publicExponent = 0x10001): Key {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength, publicExponent })
  return {
    privateKey,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    jwk: { use: 'sig', kty: 'RSA', kid, alg: 'RS256', ...publicKey.export({ format: 'jwk' }) },
  }
}

const b64u = (s: string | Uint8Array) => Buffer.from(s).toString('base64url')
const HASH: Record<string, string> = { RS256: 'sha256', RS384: 'sha384', RS512: 'sha512' }

function signRaw(header: string | Uint8Array, payload: string | Uint8Array, key: Key, alg = 'RS256'): string {
  const input = `${b64u(header)}.${b64u(payload)}`
  return `${input}.${b64u(cryptoSign(HASH[alg], Buffer.from(input), key.privateKey))}`
}

const tok = (h: object, p: object, key: Key = A, alg = 'RS256') => signRaw(JSON.stringify(h), JSON.stringify(p), key, alg)
const now = () => Math.floor(Date.now() / 1000)
const KID = 'ins_js_catalogue_A'
const h0 = (extra: Record<string, unknown> = {}) => ({ alg: 'RS256', typ: 'JWT', kid: KID, cat: 'cl_B7d4PD333AAA', ...extra })
const p0 = (extra: Record<string, unknown> = {}) => ({ sub: 'mch_x', jti: 'mt_x', iat: now() - 10, nbf: now() - 10, exp: now() + 3600, ...extra })

let A: Key
let closedUrl: string
let pem: Record<string, unknown>

async function closedPortUrl(): Promise<string> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((r) => server.close(() => r()))
  return `http://127.0.0.1:${port}`
}

beforeAll(async () => {
  A = makeKey(KID)
  closedUrl = await closedPortUrl()
  pem = { jwtKey: A.publicPem, apiUrl: closedUrl }
})

type Result = Awaited<ReturnType<typeof verifyMachineAuthToken>>

function firstError(r: Result) {
  expect(r.errors, JSON.stringify(r)).toBeDefined()
  const e = (r.errors as unknown[])[0] as MachineTokenVerificationError
  expect(e).toBeInstanceOf(MachineTokenVerificationError)
  return e
}

/** The reference throws `Error('Unknown machine token type')`; verifyM2MToken answers token-invalid. */
async function expectUnroutable(token: string, options: Record<string, unknown> = pem) {
  const err = await verifyMachineAuthToken(token, options).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(Error)
  expect((err as Error).constructor).toBe(Error)
  expect((err as Error).message).toBe('Unknown machine token type')
  const r = await verifyM2MToken(token, options)
  expect(r.tokenType).toBe('m2m_token')
  expect(firstError(r).code).toBe('token-invalid')
}

// ---------------------------------------------------------------------------
// Rows whose answer is a rejected promise (THROW)

describe('unroutable tokens reject the promise exactly like the reference', () => {
  it('J-01 alg none with an empty signature', async () => {
    await expectUnroutable(`${b64u(JSON.stringify(h0({ alg: 'none' })))}.${b64u(JSON.stringify(p0()))}.`)
  })

  it('J-53 a hundred thousand dots, in linear time', async () => {
    const start = performance.now()
    await expectUnroutable(Array(100_001).fill('a').join('.'))
    expect(performance.now() - start).toBeLessThan(1000)
  })

  it('J-60 padding on any segment', async () => {
    const parts = tok(h0(), p0()).split('.')
    for (let i = 0; i < 3; i++) await expectUnroutable(parts.map((s, j) => (j === i ? `${s}=` : s)).join('.'))
  })

  it('J-61 the standard base64 alphabet', async () => {
    let t = ''
    for (let i = 0; !/[-_]/.test(t); i++) t = tok(h0(), p0({ jti: `mt_${i}` }))
    await expectUnroutable(t.replace(/-/g, '+').replace(/_/g, '/'))
  })

  it('J-62 whitespace around or inside', async () => {
    const t = tok(h0(), p0())
    for (const bad of [` ${t}`, `${t}\n`, `${t.slice(0, 10)} ${t.slice(10)}`, `\u00a0${t}`]) await expectUnroutable(bad)
  })

  it('J-65 empty segments', async () => {
    const [h, p, s] = tok(h0(), p0()).split('.')
    for (const bad of [`..${s}`, `.${p}.${s}`, `${h}..${s}`]) await expectUnroutable(bad)
  })

  it('J-132 degenerate strings', async () => {
    for (const bad of ['', '.', '..', 'a.b.c.d', 'a.b.c.d.e']) await expectUnroutable(bad)
  })

  it('J-133 look-alike opaque prefixes', async () => {
    for (const bad of ['MT_x', '\uff4dt_x', ' mt_x', 'Mt_x', 'sk_test_x']) await expectUnroutable(bad)
  })

  it('J-130 surrounding whitespace: the core throws, the request helper trims', async () => {
    const t = tok(h0(), p0())
    for (const bad of [` ${t}`, `${t}\n`, `\t${t}`]) await expectUnroutable(bad)
    for (const header of [`Bearer ${t}`, `  Bearer ${t}\t`, `Bearer \t ${t} `]) {
      const r = await authenticateM2MRequest({ authorization: header }, pem)
      expect(r.isAuthenticated, `${JSON.stringify(header.slice(0, 12))}: ${r.error?.message}`).toBe(true)
      expect(r.subject).toBe('mch_x')
    }
  })

  it('J-131 a scheme left on: the core throws, the helper strips it case-insensitively and refuses others', async () => {
    const t = tok(h0(), p0())
    for (const bad of [`Bearer ${t}`, 'Bearer mt_x', `bearer ${t}`]) await expectUnroutable(bad)
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) {
      const r = await authenticateM2MRequest({ authorization: `${scheme} ${t}` }, pem)
      expect(r.isAuthenticated, scheme).toBe(true)
    }
    for (const header of [`Basic ${t}`, `Token ${t}`, t, `Bearer ${t} ${t}`]) {
      const r = await authenticateM2MRequest({ authorization: header }, pem)
      expect(r.isAuthenticated).toBe(false)
      expect(['missing', 'invalid']).toContain(r.error?.code)
      expect(r.error?.message ?? '').not.toContain(t.slice(7, 40))
    }
  })
})

// ---------------------------------------------------------------------------
// The reference's crash paths answer ordinary results across the boundary

describe('crash paths of the reference resolve with structured errors', () => {
  it('J-33 a null payload', async () => {
    const r = await verifyMachineAuthToken(signRaw(JSON.stringify(h0()), 'null', A), pem)
    expect(r.tokenType).toBe('oauth_token')
    const e = firstError(r)
    expect(e.code).toBe('token-verification-failed')
    expect(e.message).toMatch(/^Invalid JWT type: JWT\. /)
  })

  it('J-35 a null header', async () => {
    const r = await verifyMachineAuthToken(signRaw('null', JSON.stringify(p0()), A), pem)
    expect(r.tokenType).toBe('m2m_token')
    expect(firstError(r).message).toBe('Invalid JWT algorithm undefined. Supported: RS256,RS384,RS512.')
  })

  it('J-43 scopes: 5 is an error, a string aud comes back as a JS string', async () => {
    for (const scopes of [5, ['a'], {}]) {
      const r = await verifyMachineAuthToken(tok(h0(), p0({ scopes })), pem)
      expect(firstError(r).code).toBe('token-verification-failed')
      expect(firstError(r).message).toMatch(/^Invalid M2M JWT scopes claim \(scopes\)/)
    }
    const r = await verifyMachineAuthToken(tok(h0(), p0({ aud: 'mch_x' })), pem)
    expect(r.errors).toBeUndefined()
    expect(r.data).toBeInstanceOf(M2MToken)
    expect(typeof (r.data as M2MToken).scopes).toBe('string')
    expect((r.data as M2MToken).scopes).toBe('mch_x')
  })
})

describe('J-42 prototype pollution through custom claims', () => {
  it('J-42 a __proto__ claim is dropped: claims is null and no prototype changes', async () => {
    const payload = `{"sub":"mch_x","jti":"mt_x","exp":${now() + 60},"__proto__":{"role":"admin","polluted":true}}`
    const r = await verifyMachineAuthToken(signRaw(JSON.stringify(h0()), payload, A), pem)
    expect(r.errors).toBeUndefined()
    const data = r.data as M2MToken & Record<string, unknown>
    expect(data.claims).toBeNull()
    expect(Object.getPrototypeOf(data)).toBe(M2MToken.prototype)
    expect(data.role).toBeUndefined()
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('J-42 next to other claims, only own plain members survive', async () => {
    const payload = `{"sub":"mch_x","exp":${now() + 60},"team":"a","__proto__":{"role":"admin"},"constructor":{"prototype":{"polluted":1}},"toString":"x"}`
    const r = await verifyMachineAuthToken(signRaw(JSON.stringify(h0()), payload, A), pem)
    const claims = (r.data as M2MToken).claims as Record<string, unknown>
    expect(Object.getPrototypeOf(claims)).toBe(Object.prototype)
    expect(Object.keys(claims).sort()).toEqual(['constructor', 'team', 'toString'])
    expect(claims.role).toBeUndefined()
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.prototype.hasOwnProperty.call(claims, '__proto__')).toBe(false)
  })
})

// ---------------------------------------------------------------------------
// Size ceiling, options, keys — through the JS surface

describe('rows about limits and options on the JS surface', () => {
  let emu: Emulator
  beforeAll(async () => {
    emu = await startEmulator()
  })
  afterAll(async () => {
    await emu?.stop()
  })

  it('J-50 J-51 J-52 oversized tokens are refused locally, with no request', async () => {
    await emu.resetCounters()
    const opts = { secretKey: emu.secretKey, apiUrl: emu.url }
    const cases: Array<[string, string]> = [
      ['J-50', tok(h0(), p0({ pad: 'a'.repeat(2_000_000) }))],
      ['J-51', `mt_${'a'.repeat(1_000_000)}`],
      ['J-52', tok(h0({ pad: 'h'.repeat(1_000_000) }), p0())],
    ]
    for (const [row, t] of cases) {
      for (const fn of [verifyMachineAuthToken, verifyM2MToken]) {
        const start = performance.now()
        const r = await fn(t, opts)
        expect(performance.now() - start, row).toBeLessThan(250)
        expect(r.tokenType, row).toBe('m2m_token')
        expect(firstError(r).code, row).toBe('token-invalid')
        expect(firstError(r).message, row).toMatch(/larger than 16384 bytes/)
      }
    }
    const counters = await emu.counters()
    expect(Object.values(counters).reduce((a, b) => a + b, 0)).toBe(0)
  })

  it('J-90 clockSkewInMs: 0 honoured, negative shrinks, non-numbers and non-finite refused as options', async () => {
    const justExpired = tok(h0(), p0({ exp: now() - 1 }))
    expect(firstError(await verifyMachineAuthToken(justExpired, { ...pem, clockSkewInMs: 0 })).message).toMatch(/^JWT is expired\./)
    expect((await verifyMachineAuthToken(justExpired, pem)).errors).toBeUndefined()
    expect((await verifyMachineAuthToken(justExpired, { ...pem, clockSkewInMs: null })).errors).toBeUndefined()
    expect(firstError(await verifyMachineAuthToken(tok(h0(), p0()), { ...pem, clockSkewInMs: -1e9 })).message).toMatch(/^JWT is expired\./)
    expect((await verifyMachineAuthToken(tok(h0(), p0({ exp: 1 })), { ...pem, clockSkewInMs: 1e308 })).errors).toBeUndefined()
    // Divergence (SECURITY.md): the reference silently uses 5000 ms for these.
    for (const bad of [NaN, Infinity, -Infinity, '5000', {}, true]) {
      const err = await verifyMachineAuthToken(justExpired, { ...pem, clockSkewInMs: bad }).then(() => undefined, (e) => e)
      expect(err, String(bad)).toBeInstanceOf(InvalidOptionsError)
      expect((err as InvalidOptionsError & { code: string }).code).toBe('invalid-options')
    }
  })

  it('J-142 e=3 and 3072/4096-bit PEMs verify (real SPKI parsing)', async () => {
    for (const [bits, e] of [[2048, 3], [3072, 0x10001], [4096, 0x10001]]) {
      const k = makeKey(KID, bits, e)
      const r = await verifyMachineAuthToken(tok(h0(), p0(), k), { jwtKey: k.publicPem, apiUrl: closedUrl })
      expect(r.errors, `${bits}/${e}: ${JSON.stringify(r.errors)}`).toBeUndefined()
      expect(firstError(await verifyMachineAuthToken(tok(h0(), p0(), k), pem)).message).toBe('JWT signature is invalid.')
    }
  })

  it('J-143 a 1024-bit PEM with a matching signature is refused', async () => {
    const k = makeKey(KID, 1024)
    const r = await verifyMachineAuthToken(tok(h0(), p0(), k), { jwtKey: k.publicPem, apiUrl: closedUrl })
    expect(firstError(r).message).toBe('Error verifying JWT signature. Error: Unsupported RSA key size: 1024 bits. Keys must be 2048 to 8192 bits.')
  })

  it('K-13 1024- and 16,384-bit JWKs served by the JWKS endpoint are refused, with tokens those keys signed', async () => {
    // A fresh 1024-bit key, and the fixture's 1024- and 16,384-bit keys (too slow to generate
    // here) with the tokens they signed; node:crypto confirms each signature matches its key.
    const fixture = JSON.parse(readFileSync(join(root, 'crates', 'clerk-m2m-core', 'tests', 'fixtures', 'k13-keys.json'), 'utf8')) as { keys: Array<{ bits: number; jwk: Record<string, string>; token: string }> }
    const fresh = makeKey(KID, 1024)
    const cases = [
      { bits: 1024, jwk: fresh.jwk, token: tok(h0(), p0(), fresh) },
      ...fixture.keys.map((k) => ({ bits: k.bits, jwk: k.jwk as Record<string, unknown>, token: k.token })),
    ]
    expect(cases.map((c) => c.bits)).toEqual([1024, 1024, 16384])
    for (const { bits, jwk, token } of cases) {
      const [h, p, sig] = token.split('.')
      const publicKey = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })
      expect(publicKey.asymmetricKeyDetails?.modulusLength).toBe(bits)
      expect(cryptoVerify('sha256', Buffer.from(`${h}.${p}`), publicKey, Buffer.from(sig, 'base64url')), `${bits}-bit signature`).toBe(true)
      const e2 = await startEmulator()
      try {
        await e2.setFault('jwks', { type: 'status', status: 200, body: JSON.stringify({ keys: [jwk] }), contentType: 'application/json' })
        for (const fn of [verifyMachineAuthToken, verifyM2MToken]) {
          const r = await fn(token, { secretKey: e2.secretKey, apiUrl: e2.url })
          const e = firstError(r)
          expect([e.code, e.message], `${bits}`).toEqual(['token-verification-failed', `Error verifying JWT signature. Error: Unsupported RSA key size: ${bits} bits. Keys must be 2048 to 8192 bits.`])
          expect((e as MachineTokenVerificationError & { reason?: string }).reason).toBe('key-unusable')
        }
        expect((await e2.counters()).jwks).toBe(1)
      } finally {
        await e2.stop()
      }
    }
  })

  it('K-17 skipJwksCache: three verifications are three JWKS fetches, as in the reference, each bounded by timeoutMs', async () => {
    const e2 = await startEmulator()
    try {
      const ref = await loadOracle()
      const k = makeKey(KID)
      await e2.setFault('jwks', { type: 'status', status: 200, body: JSON.stringify({ keys: [k.jwk] }), contentType: 'application/json' })
      const t = tok(h0(), p0(), k)
      const options = { secretKey: e2.secretKey, apiUrl: e2.url, skipJwksCache: true }
      for (let i = 0; i < 3; i++) expect((await verifyMachineAuthToken(t, { ...options })).errors).toBeUndefined()
      expect((await e2.counters()).jwks).toBe(3)
      for (let i = 0; i < 3; i++) expect((await ref.verifyMachineAuthToken(t, { ...options })).errors).toBeUndefined()
      expect((await e2.counters()).jwks).toBe(6) // the reference: the same three
      // A JWKS endpoint that answers only after 2 s: each of the three fetches ends at the deadline.
      await e2.setFault('jwks', { type: 'delay', ms: 2_000 })
      await e2.resetCounters()
      for (let i = 0; i < 3; i++) {
        const start = performance.now()
        const r = await verifyMachineAuthToken(t, { ...options, timeoutMs: 300 })
        const took = performance.now() - start
        expect(took).toBeGreaterThanOrEqual(250)
        expect(took).toBeLessThan(300 + MARGIN_MS)
        const e = firstError(r)
        expect(e.code).toBe('token-verification-failed')
        expect((e.cause as { code?: string } | undefined)?.code).toBe('timeout')
      }
      expect((await e2.counters()).jwks).toBe(3)
    } finally {
      await e2.stop()
    }
  })

  it('K-19 hostile apiUrl / apiVersion are option errors before any request', async () => {
    for (const apiUrl of ['http://169.254.169.254', 'file:///etc/passwd', 'http://evil.test', 'https://user:hunter2@api.clerk.com', 'javascript:alert(1)']) {
      const err = await verifyMachineAuthToken('mt_x', { secretKey: 'sk_test_k19', apiUrl }).then(() => undefined, (e) => e)
      expect(err, apiUrl).toBeInstanceOf(InvalidOptionsError)
      expect(inspect(err)).not.toContain('hunter2')
    }
    for (const apiVersion of ['../x', 'v1/../../x', 'v1?x=1']) {
      const err = await verifyMachineAuthToken('mt_x', { secretKey: 'sk_test_k19', apiUrl: emu.url, apiVersion }).then(() => undefined, (e) => e)
      expect(err, apiVersion).toBeInstanceOf(InvalidOptionsError)
    }
  })
})

// ---------------------------------------------------------------------------
// Fault injection through the JS surface (issue 7 item 4): each call ends within its timeout

const MARGIN_MS = 750

describe('hung Backend API through verifyMachineAuthToken with timeoutMs', () => {
  it('K-09 a hung JWKS endpoint ends within timeoutMs + margin with token-verification-failed', async () => {
    const e = await startEmulator()
    try {
      await e.setFault('jwks', { type: 'hang' })
      const t = await e.signJwt(h0({ kid: e.instances[0].kid }), p0())
      for (const fn of [verifyMachineAuthToken, verifyM2MToken]) {
        const start = performance.now()
        const r = await fn(t, { secretKey: e.secretKey, apiUrl: e.url, timeoutMs: 1000 })
        const took = performance.now() - start
        expect(took).toBeGreaterThanOrEqual(900)
        expect(took).toBeLessThan(1000 + MARGIN_MS)
        expect(r.tokenType).toBe('m2m_token')
        expect(firstError(r).code).toBe('token-verification-failed')
        expect(firstError(r).message).toMatch(/timed out after 1000 ms/)
      }
    } finally {
      await e.stop()
    }
  })

  it('O-06 a hung opaque verify ends within timeoutMs + margin with unexpected-error', async () => {
    const e = await startEmulator()
    try {
      await e.setFault('m2m_verify', { type: 'hang' })
      for (const fn of [verifyMachineAuthToken, verifyM2MToken]) {
        const start = performance.now()
        const r = await fn('mt_hung_verify', { machineSecretKey: e.machines.trpc.secretKey, apiUrl: e.url, timeoutMs: 800 })
        const took = performance.now() - start
        expect(took).toBeGreaterThanOrEqual(700)
        expect(took).toBeLessThan(800 + MARGIN_MS)
        const err = firstError(r)
        expect([err.code, err.message, err.status]).toEqual(['unexpected-error', 'Unexpected error', undefined])
      }
    } finally {
      await e.stop()
    }
  })
})

describe('the M2M client under a hung Backend API (issue 7 item 4, JS level)', () => {
  it('O-06 O-13 create, revoke, list and verify end within timeoutMs + margin; create and revoke are sent once, list and verify are not retried past the deadline', async () => {
    const e = await startEmulator()
    try {
      for (const route of ['m2m_create', 'm2m_revoke', 'm2m_list', 'm2m_verify'] as const) await e.setFault(route, { type: 'hang' })
      const client = createM2MClient({ machineSecretKey: e.machines.webhook.secretKey, apiUrl: e.url, timeoutMs: 700 })
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['m2m_create', () => client.createToken({ secondsUntilExpiration: 60 })],
        ['m2m_revoke', () => client.revokeToken({ m2mTokenId: `mt_${'2'.repeat(27)}` })],
        ['m2m_list', () => client.list({ subject: e.machines.webhook.id })],
        ['m2m_verify', () => client.verify({ token: 'mt_hung_client' })],
      ]
      for (const [route, call] of calls) {
        const start = performance.now()
        const err = await call().then(() => undefined, (x) => x)
        const took = performance.now() - start
        expect(took, route).toBeGreaterThanOrEqual(600)
        expect(took, route).toBeLessThan(700 + MARGIN_MS)
        expect(err, route).toBeInstanceOf(ClerkAPIResponseError)
        expect((err as ClerkAPIResponseError).status, route).toBeUndefined()
        expect((err as { failureKind?: string }).failureKind, route).toBe('timeout')
      }
      const counters = await e.counters()
      // A hung request is never answered, so even the idempotent ones have no time to retry.
      expect([counters.m2m_create, counters.m2m_revoke, counters.m2m_list, counters.m2m_verify]).toEqual([1, 1, 1, 1])
    } finally {
      await e.stop()
    }
  })
})

// ---------------------------------------------------------------------------
// Findings outside the catalogue, kept as regression tests

describe('option handling', () => {
  it('options fast path: an audience array mutated in place takes effect (found by this suite, fixed in lib/verify.js)', async () => {
    // The verifier cached per options object is reused while every option is `===` its snapshot,
    // so `options.audience.splice(…)` (same array) keeps the old audience: a removed audience is
    // still accepted (fail-open). The reference reads the options on every call.
    const h = { alg: 'RS256', typ: 'at+jwt', kid: KID }
    const p = { sub: 'user_1', client_id: 'client_1', aud: ['x'], exp: now() + 600, iat: now() - 5 }
    const options = { jwtKey: A.publicPem, apiUrl: closedUrl, audience: ['x'] }
    expect((await verifyMachineAuthToken(tok(h, p), options)).errors).toBeUndefined()
    options.audience.splice(0, 1, 'y')
    const r = await verifyMachineAuthToken(tok(h, p), options)
    expect(r.errors?.[0]?.message).toBe('OAuth audience mismatch. Verification expected audience ["y"], but incoming token has aud ["x"].')
  })
})

// ---------------------------------------------------------------------------
// Native-addon rows (N): junk, panics, binaries, arithmetic, redaction, depth

function runChild(script: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['-e', script], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 })
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr }
}

describe('native addon rows', () => {
  it('N-01 junk arguments to every export and every method of what they create: structured errors, never a crash', () => {
    // The calls are made in a child process (__test__/fixtures/junk-every-export.js): an abort
    // would show as a signal. Every export of lib/index.js, lib/console.js, lib/m2m.js,
    // lib/trpc.js and the binding (index.js), with one and two junk arguments, and every method
    // of a verifier, an M2M client, a token provider and the native classes.
    const r = spawnSync(process.execPath, [join(root, '__test__', 'fixtures', 'junk-every-export.js')], { cwd: root, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 })
    expect(r.signal, r.stderr).toBeNull()
    expect(r.status, r.stderr).toBe(0)
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l)) as Array<{ where: string; outcome: string; kind?: string; class?: string; code?: unknown; message?: string }>
    expect(rows.length).toBeGreaterThan(2000)
    for (const m of ['lib/index.js', 'lib/console.js', 'lib/m2m.js', 'lib/trpc.js', 'index.js', 'createM2MVerifier()', 'createM2MClient()', 'createM2MTokenProvider()', 'NativeVerifier()', 'NativeM2MClient()', 'createM2MContext()']) {
      expect(rows.some((x) => x.where.includes(m)), m).toBe(true)
    }
    // Errors the reference throws exactly so, without a code (parity), and the caller's own
    // exception passed through (a throwing Proxy).
    const REFERENCE_PLAIN = ['Unknown machine token type', 'A valid resource ID is required.', 'ClerkAPIResponseError type guard requires an error object']
    // Error and resource classes are constructed as the reference's (and Error itself) are: a junk
    // message or body is the language's TypeError, as there.
    const DATA_CLASSES = /\bnew (MachineTokenVerificationError|ClerkAPIError|ClerkAPIResponseError|ClerkTransportError|InvalidOptionsError|M2MAuthError|M2MConfigError)\(/
    let failures = 0
    for (const row of rows.filter((x) => x.outcome === 'threw' || x.outcome === 'rejected')) {
      failures += 1
      const what = `${row.where}: ${row.class} ${String(row.code)} ${row.message}`
      expect(row.kind, what).toBe('error')
      if (row.message === 'trap' || REFERENCE_PLAIN.includes(row.message as string)) continue
      if (DATA_CLASSES.test(row.where) && row.class === 'TypeError') continue
      expect(typeof row.code, what).toBe('string')
      expect(['TypeError', 'InvalidOptionsError', 'Error', 'RangeError', 'M2MConfigError', 'M2MAuthError', 'ClerkAPIResponseError', 'MachineTokenVerificationError'], what).toContain(row.class)
    }
    expect(failures).toBeGreaterThan(500)
    // Bad options are InvalidOptionsError with code 'invalid-options' everywhere.
    for (const row of rows.filter((x) => x.class === 'InvalidOptionsError')) expect(row.code).toBe('invalid-options')
    // A closed verifier says so with a code.
    expect(rows.find((x) => x.where === 'createM2MVerifier().verify after close')).toMatchObject({ outcome: 'rejected', code: 'verifier-closed' })
  })

  it('N-02 a forced panic in a sync and an async export becomes a JS Error and the process exits 0', () => {
    const r = runChild(
      // The probes exist only in the test addon (cargo feature `test-hooks`).
      `const n = require(process.env.NAPI_RS_NATIVE_LIBRARY_PATH)
       let sync
       try { n.__panicProbeSync(); sync = 'no-throw' } catch (e) { sync = e instanceof Error && /panic probe/.test(e.message) }
       n.__panicProbeAsync().then(() => console.log('resolved'), (e) => console.log(JSON.stringify({ sync, async: e instanceof Error && /panic probe/.test(e.message) })))`,
      testAddonEnv(),
    )
    expect(r.signal).toBeNull()
    expect(r.status).toBe(0)
    expect(JSON.parse(r.stdout.trim().split('\n').pop() as string)).toEqual({ sync: true, async: true })
  })

  const binaries = readdirSync(root).filter((f) => f.endsWith('.node'))
  const hostBinary = `clerk-m2m-native.${process.platform === 'linux' ? 'linux-x64-gnu' : `${process.platform}-${process.arch}`}.node`

  it('N-03 the built binary verifies once in a fresh process (no crypto-provider panic)', () => {
    expect(binaries).toContain(hostBinary)
    for (const bin of binaries) {
      const k = makeKey(KID)
      const t = tok(h0(), p0(), k)
      const r = runChild(
        `const native = require('./${bin}')
         const v = new native.NativeVerifier({ jwtKey: ${JSON.stringify(k.publicPem)}, apiUrl: 'http://127.0.0.1:9' })
         console.log(v.verifyLocal(${JSON.stringify(t)}, false))`,
      )
      expect(r.signal, r.stderr).toBeNull()
      expect(r.status, r.stderr).toBe(0)
      // A verified M2M JWT crosses the boundary in the compact form: ["m2m", id, …].
      expect(JSON.parse(r.stdout)[0], r.stdout).toBe('m2m')
    }
  })

  // N-03 for the other published binaries (darwin, win32, linux-arm64, musl) is not run here: they are not
  // built on this machine. .github/workflows/release.yml smoke-tests each target's binary in its own job.

  it('N-04 arithmetic edges in options never panic', () => {
    const script = `
      const lib = require('./lib/index.js')
      const values = [1e308, -1e308, NaN, Infinity, -Infinity, 2 ** 64, -0, 0.5, Number.MAX_SAFE_INTEGER + 2, 2 ** 53, 1e-320]
      const out = []
      const pending = []
      for (const name of ['clockSkewInMs', 'timeoutMs', 'maxTokenBytes']) {
        for (const v of values) {
          pending.push(lib.verifyMachineAuthToken('mt_x', { [name]: v, apiUrl: 'http://127.0.0.1:9' }).then(
            (r) => out.push([name, String(v), 'resolved', r.errors ? r.errors[0].code : 'ok']),
            (e) => out.push([name, String(v), 'rejected', e.constructor.name])))
        }
      }
      Promise.all(pending).then(() => process.stdout.write(JSON.stringify(out)))
    `
    const r = runChild(script)
    expect(r.signal, r.stderr).toBeNull()
    expect(r.status, r.stderr).toBe(0)
    const rows = JSON.parse(r.stdout) as string[][]
    expect(rows).toHaveLength(33)
    for (const row of rows) {
      if (row[2] === 'rejected') expect(row[3], row.join(' ')).toBe('InvalidOptionsError')
      else expect(row[3], row.join(' ')).toBe('unexpected-error')
    }
  })

  it('N-05 multi-byte characters at the redaction cut never crash nor leak', async () => {
    // A non-ASCII secret cannot be sent as a header (refused before any request); an ASCII one
    // reaches the (closed) port. Both fail with unexpected-error.
    for (const secret of ['ak_\u00e9\u{1F600}CANARY_N05_SECRET', 'ak_CANARY_N05_ascii_secret']) {
    for (const t of ['mt_\u00e9\u00e9\u{1F600}CANARY_N05', 'mt_abc\u{1F600}CANARY_N05', 'mt_\u{1F600}\u{1F600}\u{1F600}\u{1F600}CANARY_N05', 'mt_abcd\u0301\u0301CANARY_N05']) {
      const r = await verifyMachineAuthToken(t, { machineSecretKey: secret, apiUrl: closedUrl, timeoutMs: 500 })
      const e = firstError(r)
      expect(e.code).toBe('unexpected-error')
      for (const text of [e.message, e.stack ?? '', inspect(e), JSON.stringify(e), JSON.stringify(r), e.getFullMessage()]) {
        expect(text).not.toContain('CANARY')
      }
    }
    }
  })

  it('N-10 a 5000-deep JSON bomb is token-invalid, in both modes of the JS surface', async () => {
    const payload = `{"sub":"mch_1","exp":${now() + 60},"x":${'['.repeat(5000)}${']'.repeat(5000)}}`
    const t = signRaw(JSON.stringify(h0()), payload, A)
    for (const fn of [verifyMachineAuthToken, verifyM2MToken]) {
      const r = await fn(t, pem)
      expect(r.tokenType).toBe('m2m_token')
      expect([firstError(r).code, firstError(r).message]).toEqual(['token-invalid', 'Invalid JWT form. The header, payload, or signature could not be decoded.'])
    }
  })
})
