// The implementations under test, each as { name, family, sync?, verify(input),
// ok(result), prepare?(tokens), verifyBatch?(inputs), checksExp }. Every JWT
// implementation does the equivalent work: RS256 signature and `exp` (and
// whatever else its defaults check: nbf, iat, typ, cat). The floor checks the
// signature only, by definition. `assertHonest` proves each accepts a valid token
// and rejects a tampered or expired one before anything is timed.
import diagnosticsChannel from 'node:diagnostics_channel'
import { createPublicKey, verify as cryptoVerify } from 'node:crypto'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { splitForFloor } from './tokens.mjs'

const ALGORITHMS = ['RS256']
const SKEW_MS = 5000

const okClerk = (r) => r !== null && typeof r === 'object' && r.errors === undefined && r.data != null
const okPayload = (r) => r !== null && typeof r === 'object' && typeof r.sub === 'string'
const okJose = (r) => r !== null && typeof r === 'object' && typeof r.payload?.sub === 'string'
const okTrue = (r) => r === true

export async function loadLibraries(root) {
  const require = createRequire(join(root, 'package.json'))
  const versionOf = (name) => require(`${name}/package.json`).version
  return {
    jose: await import('jose'),
    fastJwt: require('fast-jwt'),
    jsonwebtoken: require('jsonwebtoken'),
    versions: { jose: versionOf('jose'), 'fast-jwt': versionOf('fast-jwt'), jsonwebtoken: versionOf('jsonwebtoken') },
  }
}

/** The hand-written JS verifier: split, JSON.parse, Clerk's claim rules, crypto.verify. */
function handwritten(keyFor) {
  return (token) => {
    const a = token.indexOf('.')
    const b = token.indexOf('.', a + 1)
    if (a < 1 || b < 0 || token.indexOf('.', b + 1) !== -1) throw new Error('malformed')
    const header = JSON.parse(Buffer.from(token.slice(0, a), 'base64url').toString())
    if (header.alg !== 'RS256') throw new Error('alg')
    if (header.typ !== undefined && header.typ !== 'JWT') throw new Error('typ')
    if (header.cat !== undefined && header.cat !== 'cl_B7d4PD333AAA') throw new Error('cat')
    const key = keyFor(header.kid)
    if (!cryptoVerify('sha256', Buffer.from(token.slice(0, b)), key, Buffer.from(token.slice(b + 1), 'base64url'))) {
      throw new Error('signature')
    }
    const payload = JSON.parse(Buffer.from(token.slice(a + 1, b), 'base64url').toString())
    if (typeof payload.sub !== 'string') throw new Error('sub')
    const now = Date.now()
    if (typeof payload.exp !== 'number' || payload.exp * 1000 <= now - SKEW_MS) throw new Error('exp')
    if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf * 1000 > now + SKEW_MS)) throw new Error('nbf')
    if (payload.iat !== undefined && (typeof payload.iat !== 'number' || payload.iat * 1000 > now + SKEW_MS)) throw new Error('iat')
    return payload
  }
}

/** Raw `crypto.verify` on the pre-split signing input: the floor inside Node. */
function floor(keyFor, kid) {
  const key = keyFor(kid)
  return {
    name: 'node:crypto verify (floor)',
    family: 'floor',
    sync: true,
    checksExp: false,
    note: 'signature only, on pre-split input',
    prepare: (tokens) => tokens.map(splitForFloor),
    verify: (x) => cryptoVerify('sha256', x.data, key, x.sig),
    ok: okTrue,
  }
}

/** The same floor through `crypto.verify`'s callback form, which runs on the libuv pool (every core). */
function floorAsync(keyFor, kid) {
  const key = keyFor(kid)
  return {
    name: 'node:crypto verify, libuv pool (floor)',
    family: 'floor',
    checksExp: false,
    note: 'signature only, callback form on the threadpool',
    prepare: (tokens) => tokens.map(splitForFloor),
    verify: (x) =>
      new Promise((resolve, reject) => cryptoVerify('sha256', x.data, key, x.sig, (err, ok) => (err ? reject(err) : resolve(ok)))),
    ok: okTrue,
  }
}

/**
 * This package. `options` is the option bag shared with the reference. When the
 * package exports `createM2MVerifier`, its reusable verifier is measured too.
 */
/**
 * Subscribers on every channel of the package (the verify TracingChannel's five events, http,
 * token-provider) that do nothing: what observing costs the package itself, whatever a real
 * subscriber (an APM, clerk-m2m-native/otel) adds on top. Attached only while its row runs.
 */
function noopSubscriber(pkg) {
  const names = pkg.diagnosticsChannels
  const verify = diagnosticsChannel.tracingChannel(names.verify)
  const handlers = { start() {}, end() {}, asyncStart() {}, asyncEnd() {}, error() {} }
  const onMessage = () => {}
  return {
    enter() {
      verify.subscribe(handlers)
      diagnosticsChannel.subscribe(names.http, onMessage)
    },
    leave() {
      verify.unsubscribe(handlers)
      diagnosticsChannel.unsubscribe(names.http, onMessage)
    },
  }
}

function nativeImpls(pkg, options, { withVerifier = true, withSubscriber = false } = {}) {
  const out = [
    {
      name: 'clerk-m2m-native',
      family: 'native',
      primary: true,
      checksExp: true,
      verify: (t) => pkg.verifyMachineAuthToken(t, options),
      ok: okClerk,
    },
  ]
  if (withSubscriber && pkg.diagnosticsChannels) {
    out.push({
      name: 'clerk-m2m-native, channel subscribers attached',
      family: 'native',
      optional: true,
      checksExp: true,
      note: 'no-op verify + http subscribers',
      ...noopSubscriber(pkg),
      verify: (t) => pkg.verifyMachineAuthToken(t, options),
      ok: okClerk,
    })
  }
  if (withVerifier && typeof pkg.createM2MVerifier === 'function') {
    const v = pkg.createM2MVerifier(options)
    out.push({
      name: 'clerk-m2m-native createM2MVerifier',
      family: 'native',
      optional: true,
      checksExp: true,
      verifier: v,
      verify: (t) => v.verify(t),
      ok: okClerk,
    })
  }
  return out
}

function referenceImpl(ref, options) {
  return {
    name: '@clerk/backend',
    family: 'reference',
    reference: true,
    checksExp: true,
    verify: (t) => ref.verifyMachineAuthToken(t, options),
    ok: okClerk,
  }
}

/** Implementations for the JWT workloads. mode 'pem': jwtKey; mode 'jwks': secretKey + apiUrl (warm JWKS). */
export function jwtImpls({ mode, pkg, ref, libs, key, emu, jwks, fastJwtCache = false, withVerifier = true, withSubscriber = false }) {
  const publicKey = createPublicKey(key.publicPem)
  const keyFor = mode === 'pem' ? () => publicKey : (kid) => jwksKeys(jwks).get(kid)
  const options = mode === 'pem' ? { jwtKey: key.publicPem } : { secretKey: emu.secretKey, apiUrl: emu.url }
  const { jose, fastJwt, jsonwebtoken } = libs
  const impls = [...nativeImpls(pkg, options, { withVerifier, withSubscriber }), referenceImpl(ref, options)]

  if (mode === 'pem') {
    impls.push({
      name: 'jose jwtVerify',
      family: 'js-lib',
      checksExp: true,
      note: 'KeyObject',
      verify: (t) => jose.jwtVerify(t, publicKey, { algorithms: ALGORITHMS }),
      ok: okJose,
    })
    const noCache = fastJwt.createVerifier({ key: key.publicPem, algorithms: ALGORITHMS, cache: false })
    impls.push({ name: 'fast-jwt', family: 'js-lib', sync: true, checksExp: true, note: 'cache off', verify: noCache, ok: okPayload })
    if (fastJwtCache) {
      const cached = fastJwt.createVerifier({ key: key.publicPem, algorithms: ALGORITHMS, cache: true })
      impls.push({ name: 'fast-jwt (cache on)', family: 'js-lib-cache', sync: true, checksExp: true, note: 'cache: true (1000 entries)', verify: cached, ok: okPayload })
    }
    impls.push({
      name: 'jsonwebtoken',
      family: 'js-lib',
      sync: true,
      checksExp: true,
      note: 'sync, KeyObject',
      verify: (t) => jsonwebtoken.verify(t, publicKey, { algorithms: ALGORITHMS }),
      ok: okPayload,
    })
  } else {
    const localSet = jose.createLocalJWKSet(jwks)
    impls.push({
      name: 'jose jwtVerify',
      family: 'js-lib',
      checksExp: true,
      note: 'createLocalJWKSet',
      verify: (t) => jose.jwtVerify(t, localSet, { algorithms: ALGORITHMS }),
      ok: okJose,
    })
    const pems = jwksPems(jwks)
    const viaCallback = fastJwt.createVerifier({ key: async (decoded) => pems.get(decoded.header.kid), algorithms: ALGORITHMS, cache: false })
    impls.push({ name: 'fast-jwt', family: 'js-lib', checksExp: true, note: 'cache off, key callback (PEM by kid)', verify: viaCallback, ok: okPayload })
    const keys = jwksKeys(jwks)
    const getKey = (header, cb) => cb(null, keys.get(header.kid))
    impls.push({
      name: 'jsonwebtoken',
      family: 'js-lib',
      checksExp: true,
      note: 'getKey callback (KeyObject by kid)',
      verify: (t) =>
        new Promise((resolve, reject) =>
          jsonwebtoken.verify(t, getKey, { algorithms: ALGORITHMS }, (err, payload) => (err ? reject(err) : resolve(payload))),
        ),
      ok: okPayload,
    })
  }
  impls.push({
    name: 'hand-written JS',
    family: 'handwritten',
    sync: true,
    checksExp: true,
    note: 'split + JSON.parse + claims + crypto.verify',
    verify: handwritten(keyFor),
    ok: okPayload,
  })
  impls.push(floor(keyFor, key.kid))
  return impls
}

/** Implementations for the batch workload (Promise.all of `batchSize` in flight). */
export function batchImpls({ pkg, ref, libs, key }) {
  const publicKey = createPublicKey(key.publicPem)
  const options = { jwtKey: key.publicPem }
  const out = nativeImpls(pkg, options, { withVerifier: false })
  // The same drop-in calls one at a time, in the same interleaved rounds: the ratio of 64 in
  // flight to one at a time is then measured in one phase of the machine, not across workloads.
  out.push({
    name: 'clerk-m2m-native, one at a time',
    family: 'native-sequential',
    checksExp: true,
    verify: (t) => pkg.verifyMachineAuthToken(t, options),
    verifyBatch: async (tokens) => {
      const results = []
      for (const t of tokens) results.push(await pkg.verifyMachineAuthToken(t, options))
      return results
    },
    ok: okClerk,
  })
  if (typeof pkg.createM2MVerifier === 'function') {
    const v = pkg.createM2MVerifier(options)
    if (typeof v.verifyMany === 'function') {
      out.push({
        name: 'clerk-m2m-native verifyMany',
        family: 'native',
        optional: true,
        checksExp: true,
        verifier: v,
        verify: (t) => v.verify(t),
        verifyBatch: (ts) => v.verifyMany(ts),
        ok: okClerk,
      })
    }
  }
  out.push(referenceImpl(ref, options))
  out.push({
    name: 'jose jwtVerify',
    family: 'js-lib',
    checksExp: true,
    note: 'KeyObject',
    verify: (t) => libs.jose.jwtVerify(t, publicKey, { algorithms: ALGORITHMS }),
    ok: okJose,
  })
  out.push(floorAsync(() => publicKey, key.kid))
  return out
}

function jwksKeys(jwks) {
  if (!jwks.__keys) {
    Object.defineProperty(jwks, '__keys', {
      value: new Map(jwks.keys.map((k) => [k.kid, createPublicKey({ key: k, format: 'jwk' })])),
    })
  }
  return jwks.__keys
}

function jwksPems(jwks) {
  return new Map([...jwksKeys(jwks)].map(([kid, k]) => [kid, k.export({ type: 'spki', format: 'pem' }).toString()]))
}

/** Opaque (`mt_…`) verification through the emulator, same options for both. */
export function opaqueImpls({ pkg, ref, emu }) {
  const options = { machineSecretKey: emu.machines.trpc.secretKey, apiUrl: emu.url }
  const okOpaque = (r) => okClerk(r) && typeof r.data.id === 'string' && r.data.revoked === false && r.data.expired === false
  return [
    { name: 'clerk-m2m-native', family: 'native', primary: true, verify: (t) => pkg.verifyMachineAuthToken(t, options), ok: okOpaque },
    { name: '@clerk/backend', family: 'reference', reference: true, verify: (t) => ref.verifyMachineAuthToken(t, options), ok: okOpaque },
  ]
}

/** Detection: `isM2MJwt` or `getMachineTokenType` on M2M JWTs, sync. */
export function detectionImpls({ pkg, ref, fn }) {
  const ok = fn === 'isM2MJwt' ? (r) => r === true : (r) => r === 'm2m_token'
  return [
    { name: 'clerk-m2m-native', family: 'native', primary: true, sync: true, verify: pkg[fn], ok },
    { name: '@clerk/backend', family: 'reference', reference: true, sync: true, verify: ref[fn], ok },
  ]
}

async function outcome(impl, input) {
  try {
    const r = impl.verifyBatch ? (await impl.verifyBatch([input]))[0] : await impl.verify(input)
    if (impl.ok(r)) return { got: 'accepted' }
    return { got: 'rejected', why: r instanceof Error ? r.message : (r?.errors?.[0]?.message ?? JSON.stringify(r)?.slice(0, 160)) }
  } catch (e) {
    return { got: 'rejected', why: `threw ${e?.message ?? e}` }
  }
}

/**
 * Proves an implementation is doing the work: it accepts `valid`, rejects the
 * tampered tokens and (unless it is the signature-only floor) the expired one.
 * The valid token goes first so a result cache, if any, is warm for it.
 */
export async function assertHonest(impl, { valid, tampered, expired }) {
  const prep = (t) => (impl.prepare ? impl.prepare([t])[0] : t)
  const checks = [['valid', valid, 'accepted'], ...tampered.map((t, i) => [`tampered#${i + 1}`, t, 'rejected'])]
  if (impl.checksExp !== false) checks.push(['expired', expired, 'rejected'])
  checks.push(['valid again', valid, 'accepted'])
  for (const [label, token, want] of checks) {
    const { got, why } = await outcome(impl, prep(token))
    if (got !== want) throw new Error(`${impl.name}: the ${label} token was ${got}${why ? ` (${why})` : ''}, expected ${want}; refusing to measure it`)
  }
  return checks.length
}
