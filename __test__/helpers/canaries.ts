// Secret canaries: a secret key, a machine secret key, an opaque token and a signed JWT, each
// unique to the run, and a search for any 8-character window of one that reaches past its common
// prefix (what may legitimately appear: `sk_test_`, `ak_`, `mt_`, a JWT's header segment).
import { randomBytes, generateKeyPairSync, sign as cryptoSign } from 'node:crypto'

const rand = () => randomBytes(10).toString('hex')
const b64u = (s: string | Uint8Array) => Buffer.from(s).toString('base64url')

export interface Canary {
  value: string
  common: number
}

export type Canaries = Record<'secretKey' | 'machineSecretKey' | 'opaqueToken' | 'jwt', Canary>

/** A fresh set of canaries; the JWT is an M2M-looking RS256 token signed by a key nobody knows. */
export function createCanaries(): Canaries {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const header = b64u(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: 'ins_canary' }))
  const payload = b64u(JSON.stringify({ sub: 'mch_canary', jti: `mt_canary${rand()}`, exp: Math.floor(Date.now() / 1000) + 600 }))
  const input = `${header}.${payload}`
  return {
    secretKey: { value: `sk_test_CANARY${rand()}SK`, common: 'sk_test_'.length },
    machineSecretKey: { value: `ak_CANARY${rand()}AK`, common: 'ak_'.length },
    opaqueToken: { value: `mt_CANARY${rand()}MT`, common: 'mt_'.length },
    jwt: { value: `${input}.${b64u(cryptoSign('sha256', Buffer.from(input), privateKey))}`, common: header.length + 1 },
  }
}

/** Every 8-character window of `canary` that reaches past its common prefix. */
function windows(canary: string, common: number): string[] {
  const out: string[] = []
  for (let i = Math.max(0, common - 7); i + 8 <= canary.length; i++) out.push(canary.slice(i, i + 8))
  return out
}

/** The canaries `text` leaks, as `name (…window…)`. */
export function leaksOf(canaries: Canaries, text: unknown): string[] {
  const found: string[] = []
  if (typeof text !== 'string') return found
  for (const [name, { value, common }] of Object.entries(canaries)) {
    const w = windows(value, common).find((x) => text.includes(x))
    if (w) found.push(`${name} (…${w}…)`)
  }
  return found
}
