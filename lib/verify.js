'use strict'
// verifyMachineAuthToken / verifyM2MToken: the drop-in functions.
//
// The native verifier answers in one of two ways: `verifyLocal` settles
// everything that needs no network (PEM key, warm JWKS entry, every local
// rejection) on the calling thread; only when it returns `null` does the call
// go to the async runtime (`verifyRemote`). Both return one compact JSON
// string; the result objects are built here, in JS, which is cheaper than
// setting properties across the FFI boundary one by one.

const { createHash } = require('node:crypto')
const native = require('./native.js')
const { offload } = require('./offload.js')
const { MachineTokenVerificationError, InvalidOptionsError, ClerkTransportError, defineHidden } = require('./errors.js')
const { M2MToken, IdPOAuthAccessToken, deserialize } = require('./resources.js')
const { describe, argTypeError, optString, optFiniteNumber } = require('./guards.js')
const { observing } = require('./observe/channels.js')
const observe = require('./observe/verify-events.js')
const { outcomeTable } = require('./observe/counts.js')

const NON_FINITE = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity }
const num = (v) => (typeof v === 'string' && v in NON_FINITE ? NON_FINITE[v] : v)

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
    clockSkewInMs: optFiniteNumber(options, 'clockSkewInMs'),
    skipJwksCache: Boolean(options.skipJwksCache),
    audience: audienceList(options.audience),
    timeoutMs: optFiniteNumber(options, 'timeoutMs'),
    maxTokenBytes: optFiniteNumber(options, 'maxTokenBytes'),
    tokenCache: options.tokenCache === undefined ? undefined : Boolean(options.tokenCache),
    opaqueCacheTtlMs: optFiniteNumber(options, 'opaqueCacheTtlMs'),
  }
}

const OPTION_NAMES = ['secretKey', 'machineSecretKey', 'jwtKey', 'apiUrl', 'apiVersion', 'clockSkewInMs', 'skipJwksCache', 'audience', 'timeoutMs', 'maxTokenBytes', 'tokenCache', 'opaqueCacheTtlMs']

// One native verifier per distinct option set: parsed keys, the JWKS scope and
// the HTTP pool are built once. Bounded: the oldest entry is dropped first, and
// released (its native state and its reuse map), even if a caller still holds
// the options object that found it.
const VERIFIER_CACHE_MAX = 256
const verifiers = new Map()

// Keyed by a SHA-256 of the option values, so no raw secret key becomes a map key.
function verifierKey(o) {
  return createHash('sha256').update(JSON.stringify(OPTION_NAMES.map((n) => o[n]))).digest('base64')
}

// Verified JWT outcomes the native side marked reusable (`reuseUntil`): the same
// token within that window gets exactly the same answer (only `exp` can change
// it, and the window ends before it does; for a JWKS key it also ends when the
// fetch that supplied the key expires, so a rotated key is never outlived), so
// it is answered here without crossing into native code. The native side marks
// only repeats (a token whose signature it had already verified), so a stream
// of distinct tokens costs no bookkeeping here. One map per mode.
//
// Keyed by the token's last REUSE_KEY_CHARS characters (of a JWT: its signature),
// the entry holding the whole token, which a hit must equal: V8 hashes a string key
// in full and a request's token is a new string each time (an 850-character token:
// ~1.7 µs to hash, ~0.1 µs for the tail; the equality check ~0.05 µs). A token
// sharing another's tail is a miss, never the other's answer.
//
// One bound for the whole JS layer, whatever callers do with option objects or
// verifiers: all reuse maps together hold at most REUSE_MAX_ENTRIES entries and
// REUSE_MAX_BYTES of token and outcome text (docs/SECURITY.md).
const REUSE_MAX_ENTRIES = 4_096
const REUSE_MAX_BYTES = 8 * 1024 * 1024
const REUSE_KEY_CHARS = 32
const reuseKey = (token) => (token.length > REUSE_KEY_CHARS ? token.slice(-REUSE_KEY_CHARS) : token)
const reuse = { entries: 0, bytes: 0, hits: 0 }
/** Verifiers whose maps hold entries: where room is made when the budget is spent. */
const holders = new Set()

/** Room for `size` more bytes within the process-wide budget. */
const hasRoom = (size) => reuse.entries < REUSE_MAX_ENTRIES && reuse.bytes + size <= REUSE_MAX_BYTES

/** An entry that may no longer be served: expired, or stored at a time the clock has since gone back before. */
const isDead = (entry, now) => !(entry.since <= now && now < entry.until)

/** The maps of a retired verifier: empty, never written (remember() refuses a retired verifier). */
const RETIRED = Object.freeze([new Map(), new Map()])

class Verifier {
  constructor(nativeVerifier) {
    this.native = nativeVerifier
    this.results = [new Map(), new Map()] // [verifyMachineAuthToken, verifyM2MToken]
    this.entries = 0
    this.bytes = 0
    this.retired = false
    this.reused = 0 // answers served from the maps
    /** Calls handed to worker threads because they overlapped others (lib/offload.js). */
    this.offloaded = 0
  }

  /**
   * Makes room for `size` more bytes by dropping dead entries from the front
   * of every verifier's maps (the oldest first); false when the budget is
   * still spent. Live entries are never evicted: a stream of more distinct
   * repeats than fit would otherwise churn entries through the JS heap
   * (measured: +20 MB RSS over 100,000 verifications) for no hits; those
   * tokens go to native code.
   */
  static makeRoom(size) {
    if (hasRoom(size)) return true
    const now = Date.now()
    for (const holder of holders) {
      for (const map of holder.results) {
        for (const [key, entry] of map) {
          if (!isDead(entry, now)) break
          holder.forget(map, key, entry)
        }
      }
      if (hasRoom(size)) return true
    }
    return false
  }

  /**
   * Keeps a reusable outcome as a parsed template of its own, never handed out: each hit
   * answers with a deep copy of it (`copyParsed`), new objects exactly as a fresh
   * verification would give, for ~0.1 µs instead of a `JSON.parse` (~1 µs).
   */
  remember(map, token, outcomeJson, until) {
    const now = Date.now()
    if (this.retired || !(until > now)) return
    const key = reuseKey(token)
    const prev = map.get(key)
    if (prev !== undefined) this.forget(map, key, prev)
    const size = token.length + outcomeJson.length
    if (!Verifier.makeRoom(size)) return
    map.set(key, { token, template: JSON.parse(outcomeJson), since: now, until, size })
    this.entries += 1
    this.bytes += size
    reuse.entries += 1
    reuse.bytes += size
    if (this.entries === 1) holders.add(this)
  }

  forget(map, key, entry) {
    map.delete(key)
    this.entries -= 1
    this.bytes -= entry.size
    reuse.entries -= 1
    reuse.bytes -= entry.size
    if (this.entries === 0) holders.delete(this)
  }

  /** Whether a reuse map holds `token` (tests). */
  holds(token, m2mOnly) {
    return this.results[m2mOnly ? 1 : 0].get(reuseKey(token))?.token === token
  }

  /** Empties both maps and returns their share of the budget. */
  clear() {
    for (const map of this.results) map.clear()
    reuse.entries -= this.entries
    reuse.bytes -= this.bytes
    this.entries = 0
    this.bytes = 0
    holders.delete(this)
  }

  /**
   * Releases the native verifier (collected with this object's last
   * reference; calls already in flight finish) and the reuse maps. A retired
   * verifier is never handed out again.
   */
  retire() {
    this.retired = true
    this.clear()
    this.native.release()
    this.native = null
    this.results = RETIRED
  }

  /** The result for `token`: from memory when a live entry holds it, else from native code. */
  verify(token, m2mOnly, ctx) {
    // Observed (a subscriber, or NODE_DEBUG): the traced path calls back here with its context.
    if (ctx === undefined && observing()) return observe.traceVerify(this, token, m2mOnly)
    const map = this.results[m2mOnly ? 1 : 0]
    // An empty map (a stream of distinct tokens) skips hashing the token.
    const hit = map.size === 0 ? undefined : map.get(reuseKey(token))
    if (hit !== undefined && hit.token === token) {
      const now = Date.now()
      // Only inside [stored, until): after a clock step back, native code (and its clock) answers.
      if (hit.since <= now && now < hit.until) {
        this.reused += 1
        reuse.hits += 1
        if (ctx !== undefined) ctx.source = 'reuse'
        try {
          return Promise.resolve(resultOf(copyParsed(hit.template)))
        } catch (e) {
          return Promise.reject(e)
        }
      }
      this.forget(map, reuseKey(token), hit)
    }
    // Overlapping calls go to worker threads; a lone call stays here (lib/offload.js).
    const offloaded = offload(this, map, token, m2mOnly, ctx)
    if (offloaded !== undefined) return offloaded
    try {
      return Promise.resolve(this.settle(map, token, m2mOnly, this.native.verifyLocal(token, m2mOnly), this.native, ctx, 'local'))
    } catch (e) {
      return Promise.reject(e)
    }
  }

  /**
   * The result from what `verifyLocal` answered (here or on a worker thread), or
   * for `null` the promise of it from the network through `nativeVerifier`.
   * Throws what the result would (an unroutable token). `ctx` (observed calls
   * only) learns where the answer came from: `source` (`local`, `offload`) or `remote`.
   */
  settle(map, token, m2mOnly, outcomeJson, nativeVerifier, ctx, source) {
    if (outcomeJson === null) {
      if (ctx === undefined) return nativeVerifier.verifyRemote(token, m2mOnly).then(toResult)
      ctx.source = 'remote'
      return observe.remote(nativeVerifier, token, m2mOnly, ctx).then(toResult)
    }
    if (ctx !== undefined) ctx.source = source
    const o = JSON.parse(outcomeJson)
    const until = Array.isArray(o) ? o[11] : o.reuseUntil
    if (until != null) this.remember(map, token, outcomeJson, until)
    return resultOf(o)
  }
}

/**
 * A deep copy of what `JSON.parse` returned: new objects and arrays, the same key order,
 * and an own `__proto__` key kept as data, as `JSON.parse` makes it (an assignment would
 * set the prototype instead).
 */
function copyParsed(v) {
  if (typeof v !== 'object' || v === null) return v
  if (Array.isArray(v)) {
    // Appended, not preallocated: a packed array, as JSON.parse gives.
    const a = []
    for (let i = 0; i < v.length; i++) a.push(copyParsed(v[i]))
    return a
  }
  const o = {}
  for (const k of Object.keys(v)) {
    if (k === '__proto__') Object.defineProperty(o, k, { value: copyParsed(v[k]), writable: true, enumerable: true, configurable: true })
    else o[k] = copyParsed(v[k])
  }
  return o
}

function createNativeVerifier(normalized) {
  try {
    return new Verifier(new native.NativeVerifier(normalized))
  } catch (e) {
    throw new InvalidOptionsError(e.message)
  }
}

// Fast path: most callers pass the same options object every time. The
// verifier found for an object is reused while every option value is still
// identical (===), so a mutated object is noticed and looked up again.
const byObject = new WeakMap()

// Arrays (audience) are compared element by element: an array changed in
// place must not keep the verifier built for its old contents.
function snapshotOf(options) {
  return OPTION_NAMES.map((n) => (Array.isArray(options[n]) ? [...options[n]] : options[n]))
}

function sameValues(options, snapshot) {
  for (let i = 0; i < OPTION_NAMES.length; i++) {
    const now = options[OPTION_NAMES[i]]
    const then = snapshot[i]
    if (Array.isArray(then)) {
      if (!Array.isArray(now) || now.length !== then.length) return false
      for (let j = 0; j < then.length; j++) if (now[j] !== then[j]) return false
    } else if (now !== then) {
      return false
    }
  }
  return true
}

function verifierFor(options) {
  const isObject = typeof options === 'object' && options !== null
  if (isObject) {
    const hit = byObject.get(options)
    if (hit !== undefined && !hit.verifier.retired && sameValues(options, hit.snapshot)) return hit.verifier
  }
  const normalized = normalizeOptions(options)
  const key = verifierKey(normalized)
  let v = verifiers.get(key)
  if (v === undefined) {
    v = createNativeVerifier(normalized)
    if (verifiers.size >= VERIFIER_CACHE_MAX) {
      const [oldestKey, oldest] = verifiers.entries().next().value
      verifiers.delete(oldestKey)
      oldest.retire()
    }
    verifiers.set(key, v)
  }
  if (isObject) byObject.set(options, { verifier: v, snapshot: snapshotOf(options) })
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
  return resultOf(JSON.parse(outcomeJson))
}

/** {@link toResult}, with what it would throw as the value (a batch entry). */
function resultOrError(outcomeJson) {
  try {
    return toResult(outcomeJson)
  } catch (e) {
    return e
  }
}

/** A verified M2M JWT in the compact wire form (see `Outcome::to_wire_string` in the core). */
function resultOfCompactM2M(a) {
  const data = new M2MToken(a[1], a[2], a[3], a[4], a[5], a[6], a[7], num(a[8]), num(a[9]), num(a[10]), undefined)
  return { data, tokenType: 'm2m_token', errors: undefined }
}

/**
 * The reference's error, plus ours without changing its enumerable fields:
 * `reason` (the core's failure reason: `expired`, `signature`, `unavailable`…,
 * not enumerable) and, when the Backend API gave no usable answer, `cause`: a
 * ClerkTransportError saying what failed (the reference leaves `cause` undefined).
 */
function verificationErrorOf(e) {
  const err = new MachineTokenVerificationError({ message: e.message, code: e.code, status: e.status ?? undefined, action: e.action ?? undefined })
  defineHidden(err, 'reason', e.reason)
  if (e.transport) err.cause = new ClerkTransportError(e.transport)
  return err
}

function resultOf(o) {
  if (Array.isArray(o)) return resultOfCompactM2M(o)
  if (o.throw !== undefined) throw new Error(o.throw)
  if (o.error) return { data: undefined, tokenType: o.tokenType, errors: [verificationErrorOf(o.error)] }
  let data
  if (o.kind === 'm2m') data = m2mTokenFrom(o.data)
  else if (o.kind === 'oauth') data = oauthTokenFrom(o.data)
  else data = deserialize(o.data)
  return { data, tokenType: o.tokenType, errors: undefined }
}

const MODE_MACHINE = false
const MODE_M2M_ONLY = true

// Not `async`: every failure is still a rejected promise, without a second promise per call.
function verifyWith(token, options, m2mOnly) {
  if (typeof token !== 'string') return Promise.reject(argTypeError(`token must be a string, received ${describe(token)}`))
  let verifier
  try {
    verifier = verifierFor(options)
  } catch (e) {
    return Promise.reject(e)
  }
  return verifier.verify(token, m2mOnly)
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

// A verifier its caller dropped without close() is released when it is collected.
const abandoned = new FinalizationRegistry((verifier) => verifier.retire())

/**
 * A verifier bound to one option set: keys parsed, JWKS scope and HTTP pool
 * ready, so per-call option handling disappears.
 */
function createM2MVerifier(options = {}) {
  const verifier = createNativeVerifier(normalizeOptions(options))
  const m2mOnly = options !== null && typeof options === 'object' && options.m2mOnly === true
  const ensureOpen = () => {
    if (verifier.retired) {
      const e = new Error('This verifier is closed.')
      e.code = 'verifier-closed'
      throw e
    }
  }
  const handle = {
    /** Same result as verifyMachineAuthToken (or verifyM2MToken with `m2mOnly: true`). */
    async verify(token) {
      ensureOpen()
      if (typeof token !== 'string') throw argTypeError(`token must be a string, received ${describe(token)}`)
      return verifier.verify(token, m2mOnly)
    },
    /**
     * Verifies a batch using every core. Resolves one result per token, in
     * order; an unroutable token's entry is the Error the single call would reject with.
     */
    async verifyMany(tokens) {
      ensureOpen()
      if (!Array.isArray(tokens)) throw argTypeError(`tokens must be an array, received ${describe(tokens)}`)
      for (const t of tokens) if (typeof t !== 'string') throw argTypeError(`every token must be a string, received ${describe(t)}`)
      // The core spreads the batch over every core, this thread included (Verifier::verify_batch).
      if (observing()) return observe.traceBatch(tokens, m2mOnly, () => verifier.native.verifyMany(tokens, m2mOnly).then((o) => o.map(resultOrError)))
      const outcomes = await verifier.native.verifyMany(tokens, m2mOnly)
      return outcomes.map(resultOrError)
    },
    /**
     * This verifier's own counters: answers from the reuse map (`reused`), calls settled by native
     * code without the network (`local`; on the calling thread, or on a worker thread when the call
     * overlapped others: `offloaded` counts those) and with it (`remote`), and outcomes by token
     * type × code. Process-wide counters (JWKS, signature cache, requests): `processStats()`.
     */
    stats() {
      ensureOpen()
      const { local, remote } = verifier.native.stats()
      return {
        reused: verifier.reused,
        local,
        remote,
        offloaded: verifier.offloaded,
        outcomes: outcomeTable(verifier.native.outcomeCounts()),
      }
    },
    /**
     * Releases this verifier: its reuse map now, its native state (parsed keys,
     * counters) once calls in flight have settled. Shared caches (JWKS,
     * signatures) and the HTTP pool stay for other verifiers. Later calls reject.
     */
    close() {
      if (verifier.retired) return
      verifier.retire()
      abandoned.unregister(handle)
    },
  }
  abandoned.register(handle, verifier, handle)
  return handle
}

/** What the reuse maps of all verifiers hold together, against the process-wide ceiling. */
function reuseStats() {
  return { hits: reuse.hits, entries: reuse.entries, bytes: reuse.bytes, maxEntries: REUSE_MAX_ENTRIES, maxBytes: REUSE_MAX_BYTES, verifiersWithEntries: holders.size, cachedVerifiers: verifiers.size }
}

module.exports = { verifyMachineAuthToken, verifyM2MToken, createM2MVerifier, normalizeOptions, verifierFor, toResult, reuseStats, copyParsed }
