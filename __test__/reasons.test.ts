// Failure reasons as codes across the boundary: every rejection of the drop-in functions carries
// the core's reason (`errors[0].reason`, not enumerable), a Backend API or JWKS that could not
// answer puts what failed in `errors[0].cause` (a ClerkTransportError), and the reference's
// fields stay exactly as @clerk/backend@3.25.0 has them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inspect } from 'node:util'
import { createServer } from 'node:net'
import { ClerkTransportError, MachineTokenVerificationError, verifyM2MToken, verifyMachineAuthToken } from '../lib/index.js'
import { startEmulator, type Emulator } from '../lib/emulator.js'
import { loadOracle, type OracleMachine } from './helpers/oracle'
import { generateKey, m2mHeader, m2mPayload, nowSec, signJwt } from './helpers/tokens'

const key = generateKey('ins_reasons')
let ref: OracleMachine
let emu: Emulator
let closedUrl: string

beforeAll(async () => {
  ref = await loadOracle()
  emu = await startEmulator()
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  closedUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  await new Promise<void>((r) => server.close(() => r()))
})
afterAll(async () => {
  await emu?.stop()
})

type Err = MachineTokenVerificationError & { reason?: string; cause?: unknown }
const first = (r: { errors?: unknown[] }) => (r.errors as Err[] | undefined)?.[0] as Err

/**
 * Ours and the reference's first error agree on every field the reference has. (`cause` is left
 * out of the key lists: the reference's is enumerable for its first errors in a process and not
 * after, a V8 quirk when a class field redefines the `cause` that `Error` installed; ours always is.)
 */
function sameFields(ours: Err, theirs: Err) {
  const keys = (e: Err) => Object.keys(e).filter((k) => k !== 'cause')
  expect(keys(ours)).toEqual(keys(theirs))
  expect(Object.prototype.hasOwnProperty.call(ours, 'cause')).toBe(Object.prototype.hasOwnProperty.call(theirs, 'cause'))
  for (const k of Object.keys(theirs).filter((k) => k !== 'cause')) expect((ours as any)[k], k).toEqual((theirs as any)[k])
  expect(ours.message).toBe(theirs.message)
}

describe('reasons of rejected tokens', () => {
  const pem = () => ({ jwtKey: key.publicPem })
  const cases: Array<[string, () => string, string]> = [
    ['expired', () => signJwt(m2mHeader(key), m2mPayload({ exp: nowSec() - 100 }), key), 'expired'],
    ['nbf in the future', () => signJwt(m2mHeader(key), m2mPayload({ nbf: nowSec() + 100 }), key), 'not-yet-valid'],
    ['iat in the future', () => signJwt(m2mHeader(key), m2mPayload({ iat: nowSec() + 100 }), key), 'not-yet-valid'],
    ['another key\'s signature', () => signJwt(m2mHeader(key), m2mPayload(), generateKey('ins_reasons_other')), 'signature'],
    ['session category', () => signJwt(m2mHeader(key, { cat: 'cl_B7d4PD111AAA' }), m2mPayload(), key), 'category'],
    ['HS256', () => signJwt(m2mHeader(key, { alg: 'HS256' }), m2mPayload(), key), 'algorithm'],
    ['undecodable', () => 'abc.def.ghi', 'malformed'],
    ['typ at+jwt with an M2M subject', () => signJwt(m2mHeader(key, { typ: 'at+jwt' }), m2mPayload(), key), 'claims'],
    ['exp not a number', () => signJwt(m2mHeader(key), m2mPayload({ exp: 'soon' }), key), 'claims'],
    ['a session JWT', () => signJwt({ alg: 'RS256', typ: 'JWT', kid: key.kid }, { sub: 'user_1' }, key), 'wrong-type'],
  ]
  for (const [what, token, reason] of cases) {
    it(`${what}: reason ${reason}, the reference's fields unchanged`, async () => {
      const t = token()
      const ours = first(await verifyMachineAuthToken(t, pem()))
      const theirs = first(await ref.verifyMachineAuthToken(t, pem()))
      expect(ours.reason).toBe(reason)
      expect(ours.cause).toBeUndefined()
      sameFields(ours, theirs)
      // Not enumerable: the reference's shape in JSON (undefined fields drop out) and inspect.
      expect(JSON.stringify(ours)).toBe(JSON.stringify(theirs))
      expect(inspect(ours)).not.toContain(`reason: '${reason}'`)
    })
  }

  it('verifyM2MToken: another token type is wrong-type, an oversized one too-large; no key is no-key', async () => {
    expect(first(await verifyM2MToken('oat_abc', pem())).reason).toBe('wrong-type')
    expect(first(await verifyM2MToken(`mt_${'a'.repeat(20_000)}`, pem())).reason).toBe('too-large')
    expect(first(await verifyM2MToken(signJwt(m2mHeader(key), m2mPayload(), key), {})).reason).toBe('no-key')
  })
})

describe('an Unexpected error carries the transport reason in cause', () => {
  const opaque = (extra: Record<string, unknown> = {}) => ({ apiUrl: emu.url, machineSecretKey: emu.machines.trpc.secretKey, ...extra })

  it('connection refused: cause is a ClerkTransportError `connect` naming the host, never the key or the token', async () => {
    const options = { apiUrl: closedUrl, machineSecretKey: 'ak_CANARY_reason_secret', timeoutMs: 1000 }
    const token = 'mt_CANARY_reason_token'
    const ours = first(await verifyMachineAuthToken(token, options))
    const theirs = first(await ref.verifyMachineAuthToken(token, options))
    sameFields(ours, theirs)
    expect([ours.code, ours.message, ours.reason]).toEqual(['unexpected-error', 'Unexpected error', 'unavailable'])
    expect(ours.cause).toBeInstanceOf(ClerkTransportError)
    const cause = ours.cause as ClerkTransportError
    expect([cause.code, cause.status]).toEqual(['connect', undefined])
    expect(cause.attempts).toBeGreaterThanOrEqual(1)
    expect(cause.message).toContain(closedUrl.replace('http://', ''))
    for (const text of [inspect(ours), cause.message, JSON.stringify(ours), cause.stack ?? '']) expect(text).not.toContain('CANARY')
  })

  it('a lasting 503 is `status` with the status and the attempts; a 429 is `rate-limited` with Retry-After; a hang is `timeout`', async () => {
    const { token } = await (await fetch(`${emu.url}/m2m_tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${emu.machines.webhook.secretKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ seconds_until_expiration: 600 }),
    })).json()
    try {
      await emu.setFault('m2m_verify', { type: 'status', status: 503 })
      let e = first(await verifyMachineAuthToken(token, opaque()))
      expect([e.code, e.status, e.reason]).toEqual(['unexpected-error', 503, 'unavailable'])
      let cause = e.cause as ClerkTransportError
      expect([cause.code, cause.status, cause.attempts]).toEqual(['status', 503, 3])
      await emu.setFault('m2m_verify', { type: 'status', status: 429, retryAfter: 7 })
      e = first(await verifyMachineAuthToken(token, opaque()))
      cause = e.cause as ClerkTransportError
      expect([e.status, cause.code, cause.status, cause.retryAfter]).toEqual([429, 'rate-limited', 429, 7])
      expect(cause.message).toContain('retry after 7 s')
      await emu.setFault('m2m_verify', { type: 'hang' })
      e = first(await verifyMachineAuthToken(token, opaque({ timeoutMs: 300 })))
      cause = e.cause as ClerkTransportError
      expect([e.status, cause.code]).toEqual([undefined, 'timeout'])
      expect(cause.message).toMatch(/timed out after 300 ms/)
    } finally {
      await emu.clearFaults()
    }
  })

  it('answers that are not transport failures have a reason and no cause: credentials, not-found', async () => {
    let e = first(await verifyMachineAuthToken('mt_unknown_reason_000000000000', opaque()))
    expect([e.code, e.reason, e.cause]).toEqual(['token-invalid', 'not-found', undefined])
    e = first(await verifyMachineAuthToken('mt_unknown_reason_000000000000', opaque({ machineSecretKey: 'ak_wrong_reason' })))
    expect([e.code, e.reason, e.cause]).toEqual(['secret-key-invalid', 'credentials', undefined])
  })

  it('a JWKS that answers 502: the reference\'s message, reason unavailable, cause `status` 502', async () => {
    const e2 = await startEmulator()
    try {
      await e2.setFault('jwks', { type: 'status', status: 502 })
      const t = signJwt(m2mHeader(key), m2mPayload(), key)
      const options = { secretKey: e2.secretKey, apiUrl: e2.url, timeoutMs: 2000 }
      const e = first(await verifyMachineAuthToken(t, options))
      expect([e.code, e.message, e.reason]).toEqual(['token-verification-failed', `Error loading Clerk JWKS from ${e2.url}/v1/jwks with code=502`, 'unavailable'])
      expect([(e.cause as ClerkTransportError).code, (e.cause as ClerkTransportError).status]).toEqual(['status', 502])
    } finally {
      await e2.stop()
    }
  })
})
