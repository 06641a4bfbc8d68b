// Real keys and real signatures for tests: RS256/384/512 JWTs built from raw
// header/payload text so that tests can craft duplicates, odd JSON and bytes.
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto'

export interface TestKey {
  privateKey: KeyObject
  publicKey: KeyObject
  publicPem: string
  jwk: Record<string, unknown>
  kid: string
}

export function b64u(input: string | Uint8Array): string {
  return Buffer.from(input).toString('base64url')
}

export function generateKey(kid = `ins_test_${Math.random().toString(36).slice(2, 10)}`, bits = 2048): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits })
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }
  return { privateKey, publicKey, publicPem, jwk, kid }
}

const HASH: Record<string, string> = { RS256: 'sha256', RS384: 'sha384', RS512: 'sha512' }

/** Signs raw header/payload bytes (strings are UTF-8) with `key`. */
export function signRaw(header: string | Uint8Array, payload: string | Uint8Array, key: TestKey, alg = 'RS256'): string {
  const input = `${b64u(header)}.${b64u(payload)}`
  const sig = sign(HASH[alg] ?? 'sha256', Buffer.from(input), key.privateKey)
  return `${input}.${b64u(sig)}`
}

/** Signs JSON header/payload objects. */
export function signJwt(header: unknown, payload: unknown, key: TestKey, alg = 'RS256'): string {
  return signRaw(JSON.stringify(header), JSON.stringify(payload), key, alg)
}

export const nowSec = () => Math.floor(Date.now() / 1000)

export function m2mHeader(key: TestKey, extra: Record<string, unknown> = {}) {
  return { alg: 'RS256', typ: 'JWT', kid: key.kid, cat: 'cl_B7d4PD333AAA', ...extra }
}

export function m2mPayload(extra: Record<string, unknown> = {}) {
  const now = nowSec()
  return {
    iss: 'https://clerk.m2m.example.test',
    sub: 'mch_2vYVtestTESTtestTESTtestTESTtest',
    aud: ['mch_1xxxxx', 'mch_2xxxxx'],
    scopes: 'mch_1xxxxx mch_2xxxxx',
    jti: 'mt_2xKa9Bgv7NxMRDFyQw8LpZ3cTmU1vHjE',
    iat: now - 10,
    nbf: now - 10,
    exp: now + 3600,
    ...extra,
  }
}
