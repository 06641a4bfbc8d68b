// Overlapping verifications on worker threads (lib/offload.js, the core's offload.rs): the same
// answers as one at a time, in the same order; the offload path taken under overlap and never
// for a lone call (counted, not timed); the lane's bound; close() with work queued; a panic on
// a worker thread; a process that exits once its answers are in.
import { hooks } from './helpers/use-test-addon' // first: lib/ loads the test addon
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createM2MVerifier, verifyM2MToken, verifyMachineAuthToken } from '../lib/index.js'
import { startEmulator, type Emulator } from '../lib/emulator.js'
import { normalize, type Normalized } from './helpers/results'
import { testAddonEnv } from './helpers/test-addon'
import { generateKey, m2mHeader, m2mPayload, nowSec, signJwt, type TestKey } from './helpers/tokens'

// lib/offload.js as lib/index.js loads it (Node's require: the one instance the public functions use).
const { offloadStats } = createRequire(__filename)('../lib/offload.js') as {
  offloadStats(): { submitted: number; refused: number; delivered: number; inFlight: number; laneMax: number | null; threads: number | null; waiting: number }
}

type TestEmulator = Emulator & { importSigningKey(k: { privateKeyPem: string; kid: string }): Promise<unknown>; secretKey: string }

/**
 * A fresh event-loop iteration with nothing pending: the policy then sees no earlier call
 * (calls of the previous test may have run in this iteration, which counts as overlap).
 */
async function quiet() {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r))
  expect(offloadStats().waiting).toBe(0)
}

/** The results of `verify` on each token, one call after the other (no overlap: nothing offloaded). */
async function oneByOne(tokens: string[], verify: (token: string) => Promise<unknown>): Promise<Normalized[]> {
  const results: Normalized[] = []
  for (const t of tokens) results.push(await normalize(() => verify(t)))
  return results
}

/** Tokens that verify. */
const validTokens = (n: number) => Array.from({ length: n }, () => mixedTokens(1)[0])

let key: TestKey
let other: TestKey
let emu: TestEmulator

beforeAll(async () => {
  key = generateKey()
  other = generateKey(key.kid) // same kid, another key: a signature that does not verify
  emu = (await startEmulator()) as TestEmulator
  await emu.importSigningKey({ privateKeyPem: key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), kid: key.kid })
})
afterAll(async () => {
  await emu?.stop()
})

let serial = 0
/** Every kind of answer: valid, expired, not yet valid, wrong key, malformed, wrong type, unroutable. */
function mixedTokens(n: number): string[] {
  const out: string[] = []
  for (let i = 0; i < n; i++) {
    const jti = `mt_offload_${serial++}`
    switch (i % 8) {
      case 1:
        out.push(signJwt(m2mHeader(key), m2mPayload({ jti, exp: nowSec() - 120 }), key))
        break
      case 2:
        out.push(signJwt(m2mHeader(key), m2mPayload({ jti }), other))
        break
      case 3:
        out.push(signJwt(m2mHeader(key), m2mPayload({ jti, nbf: nowSec() + 600 }), key))
        break
      case 4:
        out.push('eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln')
        break
      case 5:
        out.push(i % 16 === 5 ? 'not_a_machine_token' : signJwt({ alg: 'RS256', typ: 'JWT', kid: key.kid }, { sub: 'user_1', exp: nowSec() + 60 }, key))
        break
      default:
        out.push(signJwt(m2mHeader(key), m2mPayload({ jti }), key))
    }
  }
  return out
}

const pemOptions = () => ({ jwtKey: key.publicPem })
const jwksOptions = () => ({ secretKey: emu.secretKey, apiUrl: emu.url })

describe.each([
  ['PEM', pemOptions],
  ['JWKS', jwksOptions],
])('overlapping calls (%s key)', (_name, optionsOf) => {
  it('answer as sequential calls do, in call order, for every kind of token and both drop-in functions', async () => {
    const options = optionsOf()
    // A first call warms the JWKS cache, so that the overlapping ones settle without the network.
    expect((await verifyMachineAuthToken(validTokens(1)[0], options)).errors).toBeUndefined()
    for (const fn of [verifyMachineAuthToken, verifyM2MToken]) {
      const tokens = mixedTokens(48)
      await quiet()
      const before = offloadStats().submitted
      const settledOrder: number[] = []
      const overlapping = await Promise.all(tokens.map((t, i) => normalize(() => fn(t, options).finally(() => settledOrder.push(i)))))
      expect(offloadStats().submitted - before).toBe(tokens.length - 1)
      expect(settledOrder).toEqual(tokens.map((_, i) => i))
      expect(overlapping).toEqual(await oneByOne(tokens, (t) => fn(t, options)))
      expect(overlapping.filter((r) => r.ok).length).toBeGreaterThan(0)
      expect(overlapping.filter((r) => r.threw).length).toBe(fn === verifyMachineAuthToken ? 3 : 0)
    }
  })
})

describe('the offload policy', () => {
  it('keeps a lone call and calls chained by await on the calling thread', async () => {
    const v = createM2MVerifier(pemOptions())
    await quiet()
    const [t] = validTokens(1)
    expect((await v.verify(t)).errors).toBeUndefined()
    for (const token of mixedTokens(12)) await v.verify(token).catch((e) => e)
    expect(v.stats().offloaded).toBe(0)
    expect(v.stats().local).toBe(13)
    v.close()
  })

  it('hands calls of one synchronous turn to worker threads, all but the first', async () => {
    const v = createM2MVerifier(pemOptions())
    await quiet()
    await Promise.all(mixedTokens(20).map((t) => v.verify(t).catch((e) => e)))
    expect(v.stats().offloaded).toBe(19)
    expect(v.stats().local).toBe(20)
    expect(offloadStats().inFlight).toBe(0)
    expect(offloadStats().waiting).toBe(0)
    v.close()
  })

  it('hands over a call from another callback of the same event-loop iteration (requests of a busy server)', async () => {
    const v = createM2MVerifier(pemOptions())
    const [a, b] = validTokens(2)
    await quiet()
    const results = await new Promise<unknown[]>((done) => {
      const out: Promise<unknown>[] = []
      setImmediate(() => out.push(v.verify(a)))
      setImmediate(() => {
        out.push(v.verify(b))
        done(Promise.all(out))
      })
    })
    expect(results.map((r: any) => r.errors)).toEqual([undefined, undefined])
    expect(v.stats().offloaded).toBe(1)
    v.close()
  })

  it('answers every call when more overlap than the lane holds: the rest verify on the calling thread', async () => {
    const v = createM2MVerifier(pemOptions())
    // The lane's bound is the core's LANE_MAX: learn it from a first offload.
    await Promise.all(mixedTokens(2).map((t) => v.verify(t).catch((e) => e)))
    const laneMax = offloadStats().laneMax!
    expect(laneMax).toBeGreaterThan(0)
    const refusedBefore = offloadStats().refused
    const tokens = mixedTokens(laneMax + 100)
    await quiet()
    const before = v.stats().offloaded
    const results = await Promise.all(tokens.map((t) => normalize(() => v.verify(t))))
    // One on the loop, then the lane fills (nothing drains inside one synchronous turn), then the rest refused.
    expect(v.stats().offloaded - before).toBe(laneMax)
    expect(offloadStats().refused - refusedBefore).toBe(99)
    expect(offloadStats().inFlight).toBe(0)
    expect(results).toEqual(await oneByOne(tokens, (t) => v.verify(t)))
    v.close()
  })

  it('settles every queued call after close(), and rejects later ones', async () => {
    const v = createM2MVerifier(pemOptions())
    const tokens = mixedTokens(40)
    await quiet()
    const pending = tokens.map((t) => normalize(() => v.verify(t)))
    expect(offloadStats().waiting).toBe(39)
    v.close()
    const results = await Promise.all(pending)
    await expect(v.verify(tokens[0])).rejects.toMatchObject({ code: 'verifier-closed' })
    expect(offloadStats().waiting).toBe(0)
    expect(offloadStats().inFlight).toBe(0)
    const fresh = createM2MVerifier(pemOptions())
    expect(results).toEqual(await oneByOne(tokens, (t) => fresh.verify(t)))
    fresh.close()
  })

  it('settles overlapping calls while the test suite fakes the timers', async () => {
    const v = createM2MVerifier(pemOptions())
    await quiet()
    vi.useFakeTimers()
    try {
      const results = await Promise.all(validTokens(6).map((t) => v.verify(t)))
      expect(results.map((r) => r.errors)).toEqual(Array(6).fill(undefined))
      expect(v.stats().offloaded).toBe(5)
    } finally {
      vi.useRealTimers()
    }
    v.close()
  })

  it('turns a panic on a worker thread into an error for that call alone', async () => {
    const v = createM2MVerifier(pemOptions())
    const tokens = validTokens(4)
    await quiet()
    hooks.__panicNextOffloads(1)
    const results = await Promise.allSettled(tokens.map((t) => v.verify(t)))
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled'])
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'GenericFailure' })
    expect((results[1] as PromiseRejectedResult).reason.message).not.toContain(tokens[1].slice(0, 40))
    // The pool still works.
    const again = await Promise.all(validTokens(3).map((t) => v.verify(t)))
    expect(again.map((r) => r.errors)).toEqual([undefined, undefined, undefined])
    v.close()
  })
})

describe('process lifetime', () => {
  it('keeps the process up until offloaded answers are in, and lets it exit after', () => {
    const tokens = mixedTokens(16).filter((_, i) => i % 8 === 0 || i % 8 === 6 || i % 8 === 7)
    const script = `
      const { verifyMachineAuthToken } = require(${JSON.stringify(resolve(__dirname, '..', 'lib', 'index.js'))})
      const options = { jwtKey: ${JSON.stringify(key.publicPem)} }
      Promise.all(${JSON.stringify(tokens)}.map((t) => verifyMachineAuthToken(t, options)))
        .then((rs) => console.log(JSON.stringify(rs.map((r) => r.data.subject))))`
    const child = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, ...testAddonEnv() }, encoding: 'utf8', timeout: 30_000 })
    expect(child.status).toBe(0)
    expect(JSON.parse(child.stdout)).toEqual(tokens.map(() => 'mch_2vYVtestTESTtestTESTtestTESTtest'))
  })
})
