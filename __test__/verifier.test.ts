// createM2MVerifier: the reusable verifier, its batch API and its counters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createM2MVerifier, verifyMachineAuthToken } from '../lib/index.js'
import { startEmulator, type Emulator } from '../lib/emulator.js'
import { mintToken } from './helpers/emulator'
import { generateKey, m2mHeader, m2mPayload, signJwt, nowSec } from './helpers/tokens'
import { verifyInternals } from './helpers/internals'

const key = generateKey('ins_verifier_test')
let emu: Emulator
let opaque: string

beforeAll(async () => {
  emu = await startEmulator()
  opaque = (await mintToken(emu, 'webhook', { seconds_until_expiration: 600 })).token
})
afterAll(async () => {
  await emu?.stop()
})

const plain = (r: any) => JSON.parse(JSON.stringify({ ...r, errors: r.errors?.map((e: any) => ({ code: e.code, message: e.message, status: e.status })) }))

describe('createM2MVerifier', () => {
  it('verify() answers exactly as verifyMachineAuthToken, without a thread hop for local work', async () => {
    const options = { jwtKey: key.publicPem, apiUrl: emu.url, machineSecretKey: emu.machines.trpc.secretKey }
    const v = createM2MVerifier(options)
    const tokens = [
      signJwt(m2mHeader(key), m2mPayload(), key),
      signJwt(m2mHeader(key), m2mPayload({ exp: nowSec() - 100 }), key),
      signJwt(m2mHeader(key, { cat: 'cl_B7d4PD111AAA' }), m2mPayload(), key),
      'abc.def.ghi',
      opaque,
    ]
    for (const t of tokens) {
      expect(plain(await v.verify(t))).toEqual(plain(await verifyMachineAuthToken(t, options)))
    }
    const stats = v.stats()
    expect(stats.local).toBe(4)
    expect(stats.remote).toBe(1)
    await expect(v.verify('xx_abc')).rejects.toThrow('Unknown machine token type')
  })

  it('verifyMany() returns one result per token, in order, local and networked mixed', async () => {
    const options = { jwtKey: key.publicPem, apiUrl: emu.url, machineSecretKey: emu.machines.trpc.secretKey }
    const v = createM2MVerifier(options)
    const tokens: string[] = []
    for (let i = 0; i < 64; i++) {
      if (i % 16 === 5) tokens.push(opaque)
      else if (i % 16 === 9) tokens.push('xx_unroutable')
      else tokens.push(signJwt(m2mHeader(key), m2mPayload({ jti: `mt_batch_${i}` }), key))
    }
    const results = await v.verifyMany(tokens)
    expect(results).toHaveLength(64)
    for (let i = 0; i < 64; i++) {
      const r = results[i] as any
      if (i % 16 === 9) {
        expect(r).toBeInstanceOf(Error)
        expect(r.message).toBe('Unknown machine token type')
      } else if (i % 16 === 5) {
        expect(r.errors).toBeUndefined()
        expect(r.data.subject).toBe(emu.machines.webhook.id)
      } else {
        expect(r.errors).toBeUndefined()
        expect(r.data.id).toBe(`mt_batch_${i}`)
      }
    }
    expect(await v.verifyMany([])).toEqual([])
    await expect(v.verifyMany('x' as any)).rejects.toBeInstanceOf(TypeError)
    await expect(v.verifyMany([1] as any)).rejects.toBeInstanceOf(TypeError)
  })

  it('m2mOnly behaves like verifyM2MToken', async () => {
    const v = createM2MVerifier({ jwtKey: key.publicPem, m2mOnly: true })
    const r = await v.verify('oat_abc')
    expect(r.tokenType).toBe('m2m_token')
    expect(r.errors?.[0].code).toBe('token-invalid')
  })

  it('tokenCache: false gives the same answers', async () => {
    const t = signJwt(m2mHeader(key), m2mPayload(), key)
    const a = createM2MVerifier({ jwtKey: key.publicPem })
    const b = createM2MVerifier({ jwtKey: key.publicPem, tokenCache: false })
    for (let i = 0; i < 3; i++) expect(plain(await a.verify(t))).toEqual(plain(await b.verify(t)))
    const tampered = t.slice(0, -4) + (t.endsWith('AAAA') ? 'BBBB' : 'AAAA')
    for (let i = 0; i < 2; i++) expect(plain(await a.verify(tampered))).toEqual(plain(await b.verify(tampered)))
  })

  it('a closed verifier refuses work, and bad options throw at creation', async () => {
    const v = createM2MVerifier({ jwtKey: key.publicPem })
    v.close()
    await expect(v.verify('mt_x')).rejects.toThrow('closed')
    expect(() => createM2MVerifier({ apiUrl: 'http://example.com' })).toThrow(/https/)
  })

  it('a mutated options object is noticed by the drop-in functions', async () => {
    const t = signJwt(m2mHeader(key), m2mPayload(), key)
    const options: Record<string, unknown> = { jwtKey: key.publicPem }
    expect((await verifyMachineAuthToken(t, options)).errors).toBeUndefined()
    options.jwtKey = generateKey('ins_other_verifier').publicPem
    expect((await verifyMachineAuthToken(t, options)).errors?.[0].message).toBe('JWT signature is invalid.')
  })
})

describe('opaque answers', () => {
  it('concurrent identical opaque verifications make one Backend API call', async () => {
    await emu.setFault('m2m_verify', { type: 'delay', ms: 200 })
    await emu.resetCounters()
    const v = createM2MVerifier({ apiUrl: emu.url, machineSecretKey: emu.machines.trpc.secretKey })
    const results = await Promise.all(Array.from({ length: 50 }, () => v.verify(opaque)))
    await emu.clearFaults()
    expect(results.every((r) => !r.errors)).toBe(true)
    expect((await emu.counters()).m2m_verify).toBe(1)
  })

  it('the opt-in result cache reuses answers, and is off by default', async () => {
    await emu.resetCounters()
    const off = createM2MVerifier({ apiUrl: emu.url, machineSecretKey: emu.machines.trpc.secretKey })
    await off.verify(opaque)
    await off.verify(opaque)
    expect((await emu.counters()).m2m_verify).toBe(2)
    const on = createM2MVerifier({ apiUrl: emu.url, machineSecretKey: emu.machines.trpc.secretKey, opaqueCacheTtlMs: 30_000 })
    await on.verify(opaque)
    await on.verify(opaque)
    await on.verify(opaque)
    expect((await emu.counters()).m2m_verify).toBe(3)
    expect(() => createM2MVerifier({ opaqueCacheTtlMs: 120_000 })).toThrow(/opaqueCacheTtlMs/)
  })
})

describe('reused JWT outcomes', () => {
  it('a repeated JWT gets identical, independent results, per mode', async () => {
    const t = signJwt(m2mHeader(key), m2mPayload({ jti: 'mt_reuse', role: 'x' }), key)
    const options = { jwtKey: key.publicPem }
    const first = await verifyMachineAuthToken(t, options)
    const second = await verifyMachineAuthToken(t, options)
    expect(plain(second)).toEqual(plain(first))
    expect(second.data).not.toBe(first.data)
    ;(first.data as any).claims.role = 'mutated'
    expect(((await verifyMachineAuthToken(t, options)).data as any).claims.role).toBe('x')
    const oauth = signJwt({ alg: 'RS256', typ: 'at+jwt', kid: key.kid }, { sub: 'user_1', exp: nowSec() + 60 }, key)
    const v = createM2MVerifier(options)
    expect((await v.verify(oauth)).errors).toBeUndefined()
    const m2mOnly = createM2MVerifier({ ...options, m2mOnly: true })
    expect((await m2mOnly.verify(oauth)).errors?.[0].code).toBe('token-invalid')
  })

  it('a token is answered from memory from its third sighting on (distinct tokens cost nothing)', async () => {
    const t = signJwt(m2mHeader(key), m2mPayload({ jti: 'mt_sightings' }), key)
    const v = createM2MVerifier({ jwtKey: key.publicPem })
    for (let i = 0; i < 5; i++) expect((await v.verify(t)).errors).toBeUndefined()
    expect(v.stats().local).toBe(2)
  })

  it('all reuse maps share one process-wide bound, keep their live entries, and tokens beyond it still verify natively', async () => {
    const { verifierFor, reuseStats } = verifyInternals
    const options = { jwtKey: key.publicPem, clockSkewInMs: 4999 } // an option set of its own
    const inner = verifierFor(options)
    // ~7.5 KB of token and outcome text each: the byte bound (8 MiB) is reached after ~1,100.
    const pad = 'p'.repeat(3000)
    const tokens = Array.from({ length: 1_300 }, (_, i) => signJwt(m2mHeader(key), m2mPayload({ jti: `mt_bound_${i}`, pad }), key))
    for (let round = 0; round < 2; round++) for (const t of tokens) expect((await inner.verify(t, false)).errors).toBeUndefined()
    const s = reuseStats()
    const entry = tokens[0].length * 2
    expect(s.bytes).toBeLessThanOrEqual(s.maxBytes)
    expect(s.bytes).toBeGreaterThan(s.maxBytes - entry) // full: the next entry did not fit
    expect(s.entries).toBeLessThanOrEqual(s.maxEntries)
    expect(inner.holds(tokens[0], false)).toBe(true) // the first repeats; no live entry was evicted for the rest
    expect(inner.holds(tokens[1_299], false)).toBe(false)
    const before = inner.native.stats().local
    expect((await inner.verify(tokens[0], false)).data?.id).toBe('mt_bound_0') // from memory
    expect((await inner.verify(tokens[1_299], false)).data?.id).toBe('mt_bound_1299') // native
    expect(inner.native.stats().local - before).toBe(1)
    // A closed verifier gives its share back at once.
    const v = createM2MVerifier({ jwtKey: key.publicPem, clockSkewInMs: 4998 })
    const t = signJwt(m2mHeader(key), m2mPayload({ jti: 'mt_bound_closed' }), key)
    inner.clear()
    const empty = reuseStats().entries
    for (let i = 0; i < 3; i++) await v.verify(t)
    expect(reuseStats().entries).toBe(empty + 1)
    v.close()
    expect(reuseStats().entries).toBe(empty)
    await expect(v.verify(t)).rejects.toThrow('closed')
  })

  it('a token about to expire is not reused past its expiry', async () => {
    // Seen three times (the third from the reuse map), then again once it has expired.
    const exp = nowSec() + 3
    const t = signJwt(m2mHeader(key), m2mPayload({ jti: 'mt_short', exp }), key)
    const v = createM2MVerifier({ jwtKey: key.publicPem, clockSkewInMs: 0 })
    for (let i = 0; i < 3; i++) expect((await v.verify(t)).errors).toBeUndefined()
    expect(v.stats().local).toBe(2) // the third sighting was answered from memory
    await new Promise((r) => setTimeout(r, exp * 1000 - Date.now() + 50))
    for (let i = 0; i < 3; i++) {
      const r = await v.verify(t)
      expect(r.errors?.[0].code).toBe('token-verification-failed')
      expect(r.errors?.[0].message).toMatch(/^JWT is expired\./)
    }
    expect(v.stats().local).toBe(5)
  })
})
