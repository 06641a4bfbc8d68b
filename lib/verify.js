'use strict'
// verifyMachineAuthToken / verifyM2MToken: the drop-in functions.
//
// The native verifier answers in one of two ways: `verifyLocal` settles
// everything that needs no network (PEM key, warm JWKS entry, every local
// rejection) on the calling thread; only when it returns `null` does the call
// go to the async runtime (`verifyRemote`). Both return one compact JSON
// string; the result objects are built here, in JS, which is cheaper than
// setting properties across the FFI boundary one by one.

const native = require('../index.js')
const { MachineTokenVerificationError, InvalidOptionsError } = require('./errors.js')
const { M2MToken, IdPOAuthAccessToken, deserialize } = require('./resources.js')

const NON_FINITE = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity }
const num = (v) => (typeof v === 'string' && v in NON_FINITE ? NON_FINITE[v] : v)

function describe(value) {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

function optString(options, name) {
  const v = options[name]
  if (v === undefined || v === null || v === '' || v === false) return undefined
  if (typeof v !== 'string') throw new InvalidOptionsError(`${name} must be a string, received ${describe(v)}`)
  return v
}

function optNumber(options, name) {
  const v = options[name]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number') throw new InvalidOptionsError(`${name} must be a number, received ${describe(v)}`)
  if (!Number.isFinite(v)) throw new InvalidOptionsError(`${name} must be a finite number`)
  return v
}

function audienceList(audience) {
  if (audience === undefined || audience === null || audience === '') return []
  const list = [audience].flat()
  if (!list.every((a) => typeof a === 'string' || !a)) {
    throw new InvalidOptionsError('audience must be a string or an array of strings')
  }
  return list.filter((a) => a)
}

/** Reads the option bag the way the reference does (truthiness), with type checks. */
function normalizeOptions(options) {
  if (options === undefined || options === null) options = {}
  if (typeof options !== 'object') throw new InvalidOptionsError(`options must be an object, received ${describe(options)}`)
  return {
    secretKey: optString(options, 'secretKey'),
    machineSecretKey: optString(options, 'machineSecretKey'),
    jwtKey: optString(options, 'jwtKey'),
    apiUrl: optString(options, 'apiUrl'),
    apiVersion: optString(options, 'apiVersion'),
    clockSkewInMs: optNumber(options, 'clockSkewInMs'),
    skipJwksCache: Boolean(options.skipJwksCache),
    audience: audienceList(options.audience),
    timeoutMs: optNumber(options, 'timeoutMs'),
    maxTokenBytes: optNumber(options, 'maxTokenBytes'),
  }
}

// One native verifier per distinct option set: parsed keys, the JWKS scope and
// the HTTP pool are built once. Bounded: the oldest entry is dropped first.
const VERIFIER_CACHE_MAX = 256
const verifiers = new Map()

function verifierKey(o) {
  return JSON.stringify([o.secretKey, o.machineSecretKey, o.jwtKey, o.apiUrl, o.apiVersion, o.clockSkewInMs, o.skipJwksCache, o.audience, o.timeoutMs, o.maxTokenBytes])
}

function createNativeVerifier(normalized) {
  try {
    return new native.NativeVerifier(normalized)
  } catch (e) {
    throw new InvalidOptionsError(e.message)
  }
}

function verifierFor(options) {
  const normalized = normalizeOptions(options)
  const key = verifierKey(normalized)
  let v = verifiers.get(key)
  if (v === undefined) {
    v = createNativeVerifier(normalized)
    if (verifiers.size >= VERIFIER_CACHE_MAX) verifiers.delete(verifiers.keys().next().value)
    verifiers.set(key, v)
  }
  return v
}

function m2mTokenFrom(d) {
  return new M2MToken(d.id, d.subject, d.scopes, d.claims, d.revoked, d.revocationReason, d.expired, num(d.expiration), num(d.createdAt), num(d.updatedAt), undefined)
}

function oauthTokenFrom(d) {
  return new IdPOAuthAccessToken(d.id, d.clientId, d.type, d.subject, d.scopes, d.revoked, d.revocationReason, d.expired, num(d.expiration), num(d.createdAt), num(d.updatedAt), d.aud, d.act)
}

/** Builds `{ data, tokenType, errors }` (or throws) from the native outcome string. */
function toResult(outcomeJson) {
  const o = JSON.parse(outcomeJson)
  if (o.throw !== undefined) throw new Error(o.throw)
  if (o.error) {
    const e = o.error
    return {
      data: undefined,
      tokenType: o.tokenType,
      errors: [new MachineTokenVerificationError({ message: e.message, code: e.code, status: e.status ?? undefined, action: e.action ?? undefined })],
    }
  }
  let data
  if (o.kind === 'm2m') data = m2mTokenFrom(o.data)
  else if (o.kind === 'oauth') data = oauthTokenFrom(o.data)
  else data = deserialize(o.data)
  return { data, tokenType: o.tokenType, errors: undefined }
}

const MODE_MACHINE = false
const MODE_M2M_ONLY = true

async function verifyWith(token, options, m2mOnly) {
  if (typeof token !== 'string') throw new TypeError(`token must be a string, received ${describe(token)}`)
  const verifier = verifierFor(options)
  const local = verifier.verifyLocal(token, m2mOnly)
  return toResult(local ?? (await verifier.verifyRemote(token, m2mOnly)))
}

/**
 * Verifies any machine token (M2M, OAuth, API key) like @clerk/backend's
 * `verifyMachineAuthToken`: resolves `{ data, tokenType, errors }`, rejects with
 * `Error('Unknown machine token type')` for tokens it cannot route.
 */
function verifyMachineAuthToken(token, options) {
  return verifyWith(token, options, MODE_MACHINE)
}

/**
 * Verifies an M2M token only (an M2M JWT or an opaque `mt_` token). Anything
 * else resolves to a `token-invalid` error with tokenType `m2m_token`.
 */
function verifyM2MToken(token, options) {
  return verifyWith(token, options, MODE_M2M_ONLY)
}

module.exports = { verifyMachineAuthToken, verifyM2MToken, normalizeOptions, verifierFor, toResult }
