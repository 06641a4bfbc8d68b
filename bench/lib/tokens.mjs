// Benchmark key material and token pools. One RSA-2048 key is generated per run;
// pools of distinct, valid M2M JWTs are signed on worker threads (one per core),
// because RSA signing costs ~30× a verification and would otherwise dominate the
// set-up time. Every token differs in `jti` (and so in signature).
import { generateKeyPairSync, sign, createPublicKey, createPrivateKey } from 'node:crypto'
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'

export const M2M_CATEGORY = 'cl_B7d4PD333AAA'
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

const b64u = (s) => Buffer.from(s).toString('base64url')

/** A 27-character id suffix, distinct per (salt, n < 62^6): base62 digits of n after a run tag. */
function idSuffix(n, salt) {
  let digits = ''
  let x = n
  do {
    digits = ALPHABET[x % 62] + digits
    x = Math.floor(x / 62)
  } while (x > 0)
  // Fixed width: digits left-padded with the zero digit, so (salt, n) ↦ id is injective.
  return `${salt}`.padEnd(21, 'x').slice(0, 21) + digits.padStart(6, ALPHABET[0])
}

/** Header and payload of a realistic Clerk M2M JWT (same shape as the emulator mints). */
export function m2mClaims({ kid, index, salt = 1, nowSec, ttlSec = 3 * 3600, extra = {} }) {
  const header = { alg: 'RS256', typ: 'JWT', kid, cat: M2M_CATEGORY }
  const payload = {
    iss: 'https://bench.clerk.example.test/instances/ins_2benchBENCHbenchBENCHbench',
    sub: 'mch_2benchWEBHOOKbenchWEBHOOKbe',
    aud: ['mch_2benchTRPCbenchTRPCbenchTRP'],
    scopes: 'mch_2benchTRPCbenchTRPCbenchTRP',
    jti: `mt_${idSuffix(index, salt)}`,
    iat: nowSec - 5,
    nbf: nowSec - 10,
    exp: nowSec + ttlSec,
    ...extra,
  }
  return { header, payload }
}

export function signClaims(header, payload, privateKey) {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`
  return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`
}

export function generateBenchKey(kid = 'ins_bench_harness_key') {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return {
    kid,
    privateKey,
    publicKey,
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  }
}

/**
 * Signs `count` distinct tokens (indices start..start+count-1) on up to
 * `availableParallelism()` worker threads. Returns them in index order.
 */
export async function signPool({ key, start, count, nowSec, salt = 1 }) {
  const workers = Math.max(1, Math.min(availableParallelism(), Math.ceil(count / 200)))
  const per = Math.ceil(count / workers)
  const parts = []
  for (let w = 0; w < workers; w++) {
    const from = start + w * per
    const n = Math.min(per, start + count - from)
    if (n <= 0) break
    parts.push(
      new Promise((resolve, reject) => {
        const worker = new Worker(fileURLToPath(import.meta.url), {
          workerData: { privatePem: key.privatePem, kid: key.kid, from, n, nowSec, salt },
        })
        worker.once('message', resolve)
        worker.once('error', reject)
        worker.once('exit', (code) => code !== 0 && reject(new Error(`signing worker exited with ${code}`)))
      }),
    )
  }
  return (await Promise.all(parts)).flat()
}

/** A copy of `token` with one payload character changed (signature no longer matches). */
export function tamperPayload(token) {
  const [h, p, s] = token.split('.')
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString())
  payload.sub = `${payload.sub.slice(0, -1)}${payload.sub.endsWith('x') ? 'y' : 'x'}`
  return `${h}.${b64u(JSON.stringify(payload))}.${s}`
}

/** A copy of `token` with its signature's first byte flipped. */
export function tamperSignature(token) {
  const i = token.lastIndexOf('.')
  const sig = Buffer.from(token.slice(i + 1), 'base64url')
  sig[0] ^= 0xff
  return `${token.slice(0, i)}.${sig.toString('base64url')}`
}

/** The pre-split signing input and signature bytes the crypto floor verifies. */
export function splitForFloor(token) {
  const i = token.lastIndexOf('.')
  return { data: Buffer.from(token.slice(0, i)), sig: Buffer.from(token.slice(i + 1), 'base64url') }
}

export function publicKeyFromPem(pem) {
  return createPublicKey(pem)
}

if (!isMainThread && workerData?.privatePem) {
  const { privatePem, kid, from, n, nowSec, salt } = workerData
  const privateKey = createPrivateKey(privatePem)
  const out = []
  for (let i = from; i < from + n; i++) {
    const { header, payload } = m2mClaims({ kid, index: i, salt, nowSec })
    out.push(signClaims(header, payload, privateKey))
  }
  parentPort.postMessage(out)
}
