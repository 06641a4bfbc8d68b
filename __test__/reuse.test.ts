// The reuse path of verification (lib/verify.js's reuse map and the native signature cache)
// against the reference, @clerk/backend@3.25.0, through time: key rotation under the same kid,
// a kid removed, expiry at the boundary for several skews, a clock stepped back.
//
// Time is virtual: the test addon's native clock and `Date.now` (which the reference, its JWKS
// cache and lib/verify.js all read) are frozen at the same instant and moved together, so a
// five-minute JWKS TTL takes no waiting and claim boundaries are exact to the millisecond.
import { hooks } from './helpers/use-test-addon' // first: lib/ loads the test addon
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createM2MVerifier, verifyMachineAuthToken } from '../lib/index.js'
import { startEmulator, type Emulator } from '../lib/emulator.js'
import { loadOracle, type OracleMachine } from './helpers/oracle'
import { normalize, type Normalized } from './helpers/results'
import { verifyInternals } from './helpers/internals'
import { generateKey, m2mHeader, m2mPayload, signJwt, type TestKey } from './helpers/tokens'

type TestEmulator = Emulator & {
  importSigningKey(k: { privateKeyPem: string; kid: string }): Promise<unknown>
  retireKey(kid: string): Promise<void>
}

let ref: OracleMachine
const T0 = Math.floor(Date.now() / 1000) * 1000
let now = T0

/** Moves the whole process (native clock and `Date.now`) to `ms`. */
function setClock(ms: number) {
  now = ms
  hooks.__freezeClock(ms)
}

beforeAll(async () => {
  ref = await loadOracle()
  vi.spyOn(Date, 'now').mockImplementation(() => now)
  setClock(T0)
})
afterAll(() => {
  hooks.__freezeClock(null)
  vi.restoreAllMocks()
})

const pkcs8 = (k: TestKey) => k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()

/** A fresh emulator whose JWKS serves `key` (under its kid). */
async function emulatorServing(key: TestKey): Promise<TestEmulator> {
  const emu = (await startEmulator()) as TestEmulator
  await emu.importSigningKey({ privateKeyPem: pkcs8(key), kid: key.kid })
  return emu
}

/** An emulator serving `key` for the tests of the enclosing describe block. */
function sharedEmulatorServing(key: TestKey): () => TestEmulator {
  let emu: TestEmulator
  beforeAll(async () => {
    emu = await emulatorServing(key)
  })
  afterAll(async () => {
    await emu?.stop()
  })
  return () => emu
}

/** Ours (the drop-in and a long-lived verifier) and the reference, on one token at the current instant. */
async function sighting(token: string, options: Record<string, unknown>, verifier: ReturnType<typeof createM2MVerifier>) {
  const theirs = await normalize(() => ref.verifyMachineAuthToken(token, { ...options }))
  const ours = await normalize(() => verifyMachineAuthToken(token, { ...options }))
  const long = await normalize(() => verifier.verify(token))
  return { theirs, ours, long }
}

function expectSame(r: { theirs: Normalized; ours: Normalized; long: Normalized }, what: string) {
  expect(r.ours, `${what} (drop-in)`).toEqual(r.theirs)
  expect(r.long, `${what} (createM2MVerifier)`).toEqual(r.theirs)
}

describe('rotation: every reused answer ends no later than the key that produced it', () => {
  let emu: TestEmulator
  afterEach(async () => {
    await emu?.stop()
  })

  async function scenario(change: (emu: TestEmulator, kid: string) => Promise<void>) {
    const original = generateKey('ins_reuse_rotation')
    emu = await emulatorServing(original)
    const options = { secretKey: emu.secretKey, apiUrl: emu.url }
    const verifier = createM2MVerifier(options)
    const token = signJwt(m2mHeader(original), m2mPayload({ jti: 'mt_reuse_rotation', iat: T0 / 1000 - 10, nbf: T0 / 1000 - 10, exp: T0 / 1000 + 3600 }), original)
    // t0: both fetch the JWKS; t0 + 290 s: the token seen again (a repeat, which may be kept for reuse).
    setClock(T0)
    expectSame(await sighting(token, options, verifier), 't0')
    setClock(T0 + 290_000)
    expectSame(await sighting(token, options, verifier), 't0 + 290 s')
    // t0 + 295 s: the JWKS changes; inside the TTL both still answer from their caches.
    await change(emu, original.kid)
    setClock(T0 + 295_000)
    expectSame(await sighting(token, options, verifier), 't0 + 295 s')
    // t0 + 310 s: the fetch expired; the next verification sees the new JWKS, and so do the ones after it.
    const after = []
    for (const at of [310_000, 310_001, 311_000]) {
      setClock(T0 + at)
      const r = await sighting(token, options, verifier)
      expectSame(r, `t0 + ${at} ms`)
      after.push(r.ours)
    }
    return after
  }

  it('K-02 the same kid re-served with another key after the JWKS TTL: "JWT signature is invalid." as the reference', async () => {
    const after = await scenario(async (e, kid) => {
      await e.importSigningKey({ privateKeyPem: pkcs8(generateKey(kid)), kid })
    })
    for (const r of after) expect([r.ok, r.code, r.message]).toEqual([false, 'token-verification-failed', 'JWT signature is invalid.'])
  })

  it('K-02 the kid removed from the JWKS: the reference\'s kid mismatch after the TTL', async () => {
    const after = await scenario(async (e, kid) => {
      await e.retireKey(kid)
    })
    for (const r of after) {
      expect([r.ok, r.code]).toEqual([false, 'token-verification-failed'])
      expect(r.message).toMatch(/^Unable to find a signing key in JWKS that matches the kid='ins_reuse_rotation'/)
    }
  })
})

describe('expiry at the boundary', () => {
  const key = generateKey('ins_reuse_expiry')
  const emulator = sharedEmulatorServing(key)

  // Each token is seen three times well before its expiry (so its outcome is kept), then three
  // times at each instant around `exp + skew`, where the reference starts rejecting it.
  for (const mode of ['pem', 'jwks'] as const) {
    for (const skew of [undefined, 0, 1, 1500, 30_000]) {
      it(`J-83 ${mode}, clockSkewInMs ${skew ?? 'default (5000)'}: every sighting around exp + skew is the reference's answer`, async () => {
        setClock(T0)
        const exp = T0 / 1000 + 120
        const base = mode === 'pem' ? { jwtKey: key.publicPem } : { secretKey: emulator().secretKey, apiUrl: emulator().url }
        const options = { ...base, clockSkewInMs: skew }
        const verifier = createM2MVerifier(options)
        const token = signJwt(m2mHeader(key), m2mPayload({ jti: `mt_expiry_${mode}_${skew}`, iat: T0 / 1000 - 10, nbf: T0 / 1000 - 10, exp }), key)
        for (let i = 0; i < 3; i++) expectSame(await sighting(token, options, verifier), 'before')
        const boundary = exp * 1000 + (skew ?? 5000)
        const seen: boolean[] = []
        for (const delta of [-60_000, -1001, -1000, -999, -1, 0, 1, 1000]) {
          setClock(boundary + delta)
          for (let i = 0; i < 3; i++) {
            const r = await sighting(token, options, verifier)
            expectSame(r, `exp + skew ${delta >= 0 ? '+' : ''}${delta} ms, sighting ${i + 1}`)
            if (i === 0) seen.push(r.theirs.ok as boolean)
          }
        }
        // The instants straddle the reference's boundary: valid until just before it, rejected from it on.
        expect(seen).toEqual([true, true, true, true, true, false, false, false])
        verifier.close()
      })
    }
  }
})

describe('a clock stepped back', () => {
  const key = generateKey('ins_reuse_clock')
  const emulator = sharedEmulatorServing(key)

  for (const mode of ['pem', 'jwks'] as const) {
    it(`J-88 ${mode}: a kept outcome is not served before the time it was stored; nbf/iat then fail as in the reference`, async () => {
      setClock(T0 + 1_000_000)
      const at = (T0 + 1_000_000) / 1000
      const options = mode === 'pem' ? { jwtKey: key.publicPem } : { secretKey: emulator().secretKey, apiUrl: emulator().url }
      const verifier = createM2MVerifier(options)
      const token = signJwt(m2mHeader(key), m2mPayload({ jti: `mt_clock_${mode}`, iat: at, nbf: at, exp: at + 3600 }), key)
      for (let i = 0; i < 3; i++) expectSame(await sighting(token, options, verifier), 'now')
      // One minute back: nbf and iat are in the future beyond the skew.
      setClock(T0 + 1_000_000 - 60_000)
      for (let i = 0; i < 3; i++) {
        const r = await sighting(token, options, verifier)
        expectSame(r, `stepped back, sighting ${i + 1}`)
        expect([r.ours.ok, r.ours.code]).toEqual([false, 'token-verification-failed'])
        expect(r.ours.message).toMatch(/^JWT cannot be used prior to not before date claim \(nbf\)/)
      }
      // Forward again: valid, as before.
      setClock(T0 + 1_000_000 + 1_000)
      for (let i = 0; i < 3; i++) expect((await sighting(token, options, verifier)).ours.ok).toBe(true)
      verifier.close()
    })
  }
})

describe('the reuse map: keyed by the token\'s tail, answering only the token itself, with new objects each time', () => {
  const key = generateKey('ins_reuse_tail')
  const options = { jwtKey: key.publicPem }

  it('a forged token ending with a remembered token\'s signature gets its own answer (the reference\'s), not the remembered one', async () => {
    setClock(T0)
    const verifier = createM2MVerifier(options)
    const genuine = signJwt(m2mHeader(key), m2mPayload({ jti: 'mt_tail_genuine' }), key)
    for (let i = 0; i < 3; i++) expectSame(await sighting(genuine, options, verifier), `genuine, sighting ${i + 1}`)
    expect(verifyInternals.verifierFor({ ...options }).holds(genuine, false)).toBe(true)
    const [header, , signature] = genuine.split('.')
    const forgedPayload = Buffer.from(JSON.stringify(m2mPayload({ jti: 'mt_tail_forged', scopes: 'mch_admin' }))).toString('base64url')
    const forged = `${header}.${forgedPayload}.${signature}`
    expect(forged.slice(-32)).toBe(genuine.slice(-32))
    const reusedBefore = verifier.stats().reused
    for (let i = 0; i < 3; i++) {
      const r = await sighting(forged, options, verifier)
      expectSame(r, `forged, sighting ${i + 1}`)
      expect([r.ours.ok, r.ours.code]).toEqual([false, 'token-verification-failed'])
    }
    expect(verifier.stats().reused).toBe(reusedBefore)
    // The genuine token's entry is still there and still answers for it alone.
    expect((await verifier.verify(genuine)).data?.id).toBe('mt_tail_genuine')
    expect(verifier.stats().reused).toBe(reusedBefore + 1)
    verifier.close()
  })

  it('answers from memory are new objects equal to the reference\'s, an own "__proto__" member included', async () => {
    setClock(T0)
    const verifier = createM2MVerifier(options)
    const proto = JSON.parse('{"b": [1, {"__proto__": {"polluted": true}, "c": 2.5}]}')
    const token = signJwt(m2mHeader(key), m2mPayload({ jti: 'mt_tail_copy', ...proto }), key)
    const seen: any[] = []
    for (let i = 0; i < 4; i++) {
      const r = await sighting(token, options, verifier)
      expectSame(r, `sighting ${i + 1}`)
      seen.push(await verifier.verify(token))
    }
    expect(verifier.stats().reused).toBeGreaterThanOrEqual(5)
    const [a, b] = seen.slice(-2)
    expect(a.data).not.toBe(b.data)
    expect(a.data.claims).not.toBe(b.data.claims)
    expect(a.data.claims.b).not.toBe(b.data.claims.b)
    a.data.claims.b[1].c = 'mutated by a caller'
    a.data.scopes.push('mch_extra')
    const c = await verifier.verify(token)
    expect(c.data.claims.b[1].c).toBe(2.5)
    expect(c.data.scopes).not.toContain('mch_extra')
    expect(Object.getPrototypeOf(c.data.claims)).toBe(Object.prototype)
    const theirs = await ref.verifyMachineAuthToken(token, { ...options })
    const theirNested = (theirs as any).data.claims.b[1]
    expect(Object.getOwnPropertyDescriptor(theirNested, '__proto__')?.value).toEqual({ polluted: true })
    expect(Object.getOwnPropertyDescriptor(c.data.claims.b[1], '__proto__')?.value).toEqual({ polluted: true })
    expect(Object.getPrototypeOf(c.data.claims.b[1])).toBe(Object.prototype)
    expect(Object.keys(c.data.claims.b[1])).toEqual(Object.keys(theirNested))
    expect(Object.keys(c.data.claims)).toEqual(Object.keys((theirs as any).data.claims))
    expect(({} as any).polluted).toBeUndefined()
    verifier.close()
  })

  it('copyParsed copies what JSON.parse gives exactly: key order (integer keys first), nesting, own "__proto__"', () => {
    const text = '{"z":1,"2":"two","a":{"__proto__":[null,true,"s",1.5e300]},"0":[[],{}],"__proto__":null}'
    const parsed = JSON.parse(text)
    const copy = verifyInternals.copyParsed(parsed)
    expect(JSON.stringify(copy)).toBe(JSON.stringify(parsed))
    expect(Object.keys(copy)).toEqual(['0', '2', 'z', 'a', '__proto__'])
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype)
    expect(Object.getPrototypeOf(copy.a)).toBe(Object.prototype)
    expect(Object.getOwnPropertyDescriptor(copy.a, '__proto__')?.value).toEqual([null, true, 's', 1.5e300])
    expect(copy.a).not.toBe(parsed.a)
    expect(copy['0'][0]).not.toBe(parsed['0'][0])
  })
})
