'use strict'
// clerk-m2m-native/console: machine-to-machine auth for an application made of
// services that send (webhook handlers, workers) and services that receive (a
// tRPC API), configured through environment variables:
//
//   CLERK_M2M_TOKEN_<SERVICE>            the token a sender presents (pre-created, e.g. by `clerk-m2m setup-tokens`)
//   CLERK_M2M_MACHINE_ID_<SERVICE>       the machine id (mch_…) of that service
//   CLERK_MACHINE_SECRET_KEY_<SERVICE>   a machine's own secret key (the receiver's, e.g. CLERK_MACHINE_SECRET_KEY_TRPC)
//   CLERK_SECRET_KEY, CLERK_JWT_KEY, CLERK_API_URL
//
// <SERVICE> is the service name upper-cased with `-` turned into `_`
// (`inngest` → INNGEST, `billing-worker` → BILLING_WORKER).
//
// No message here ever contains a token or a secret: at most a 7-character prefix.

const { createHash } = require('node:crypto')
const { createM2MClient } = require('./m2m.js')
const { MachineTokenVerificationError, ClerkAPIResponseError, ClerkTransportError, InvalidOptionsError } = require('./errors.js')
const { isM2MJwt, isJwtFormat } = require('./detect.js')

const M2MAuthErrorCode = Object.freeze({
  Missing: 'missing',
  Invalid: 'invalid',
  Expired: 'expired',
  Revoked: 'revoked',
  WrongMachine: 'wrong-machine',
  NotInScope: 'not-in-scope',
  Unavailable: 'unavailable',
})

const DEFAULT_MAX_TOKEN_BYTES = 16384
const EXPIRY_SKEW_MS = 5000
const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/

/**
 * Why a machine was not authenticated. `code` is one of M2MAuthErrorCode;
 * `reason` says why, from the core's failure reason: for `invalid`, what was
 * wrong with the token (`signature`, `malformed`, `kid-missing`, `claims`,
 * `not-found`…); for `unavailable`, what failed (`timeout`, `connect`,
 * `network`, `rate-limited`, `server-error`, `misconfigured`, …), with
 * `apiStatus` the Backend API's status when there was one (429, 5xx…) and
 * `retryAfter` its Retry-After in seconds when known. `cause` holds the underlying error.
 */
class M2MAuthError extends Error {
  constructor(code, message, { cause, apiStatus, retryAfter, reason } = {}) {
    super(message)
    this.code = code
    this.apiStatus = apiStatus
    this.retryAfter = retryAfter
    this.reason = reason
    // Not enumerable: kept for logs, left out of JSON sent anywhere.
    Object.defineProperty(this, 'cause', { value: cause, enumerable: false, writable: true, configurable: true })
  }

  get name() {
    return 'M2MAuthError'
  }
}

/** A missing or malformed environment variable; names the variable, never its value. */
class M2MConfigError extends Error {
  constructor(message, variable) {
    super(message)
    this.code = 'm2m-config'
    this.variable = variable
  }

  get name() {
    return 'M2MConfigError'
  }
}

function envOf(options) {
  const env = options && options.env
  return env && typeof env === 'object' ? env : process.env
}

/** `webhook` → `WEBHOOK`, `billing-worker` → `BILLING_WORKER`. */
function serviceEnvName(service) {
  if (typeof service !== 'string' || !SERVICE_NAME.test(service)) {
    const e = new TypeError('service must be a name of letters, digits, "-" or "_" (at most 64 characters), such as "webhook"')
    e.code = 'ERR_INVALID_ARG_VALUE'
    throw e
  }
  return service.toUpperCase().replace(/-/g, '_')
}

const tokenVar = (service) => `CLERK_M2M_TOKEN_${serviceEnvName(service)}`
const machineIdVar = (service) => `CLERK_M2M_MACHINE_ID_${serviceEnvName(service)}`
const machineSecretKeyVar = (service) => `CLERK_MACHINE_SECRET_KEY_${serviceEnvName(service)}`

/** The trimmed value of an environment variable, or undefined when unset or blank. */
function readVar(env, name) {
  const v = env[name]
  if (typeof v !== 'string') return undefined
  const t = v.trim()
  return t === '' ? undefined : t
}

/** The token a sender presents, from `CLERK_M2M_TOKEN_<SERVICE>`; throws M2MConfigError naming the variable when unset. */
function getM2MToken(service, options) {
  const name = tokenVar(service)
  const token = readVar(envOf(options), name)
  if (token === undefined) {
    throw new M2MConfigError(`${name} is not set. Create the token with \`npx clerk-m2m-native setup-tokens --service ${service}\` and add the printed lines to the environment.`, name)
  }
  if (!token.startsWith('mt_') && !isJwtFormat(token)) {
    throw new M2MConfigError(`${name} does not hold an M2M token (expected an opaque mt_… token or a JWT).`, name)
  }
  return token
}

/** True when `CLERK_M2M_TOKEN_<SERVICE>` is set (non-blank). */
function isM2MConfigured(service, options) {
  return readVar(envOf(options), tokenVar(service)) !== undefined
}

/** The machine id (mch_…) of a service, from `CLERK_M2M_MACHINE_ID_<SERVICE>`; throws M2MConfigError when unset or not a machine id. */
function getExpectedMachineId(service, options) {
  const name = machineIdVar(service)
  const id = readVar(envOf(options), name)
  if (id === undefined) throw new M2MConfigError(`${name} is not set (the machine id, mch_…, of the "${service}" service).`, name)
  if (!id.startsWith('mch_')) throw new M2MConfigError(`${name} must be a machine id starting with mch_.`, name)
  return id
}

/** A machine id given directly (mch_…) or a service name resolved through the environment. */
function resolveMachineId(idOrService, options) {
  if (typeof idOrService === 'string' && idOrService.startsWith('mch_')) return idOrService
  return getExpectedMachineId(idOrService, options)
}

// ---------------------------------------------------------------------------
// Verification

/** PEMs kept in one-line environment variables often carry literal `\n`. */
function pemFromEnv(value) {
  return value && value.includes('\\n') ? value.replace(/\\n/g, '\n') : value
}

function stringOption(options, name) {
  const v = options[name]
  if (v === undefined || v === null || v === '') return undefined
  if (typeof v !== 'string') throw new InvalidOptionsError(`${name} must be a string`)
  return v
}

/** The keys a receiver verifies with: explicit options first, then the environment. */
function receiverKeys(options, env) {
  const receiver = options.receiver
  const machineSecretKey = stringOption(options, 'machineSecretKey') ?? (receiver !== undefined ? readVar(env, machineSecretKeyVar(receiver)) : undefined)
  const timeoutMs = options.timeoutMs
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs))) throw new InvalidOptionsError('timeoutMs must be a finite number')
  return {
    secretKey: stringOption(options, 'secretKey') ?? readVar(env, 'CLERK_SECRET_KEY'),
    machineSecretKey,
    jwtKey: stringOption(options, 'jwtKey') ?? pemFromEnv(readVar(env, 'CLERK_JWT_KEY')),
    apiUrl: stringOption(options, 'apiUrl') ?? readVar(env, 'CLERK_API_URL'),
    timeoutMs,
  }
}

// One client per distinct key set (parsed PEM, pooled connections); bounded, oldest dropped first.
const CLIENT_CACHE_MAX = 64
const clients = new Map()

function clientFor(keys) {
  // Hashed, so no raw secret becomes a map key that a heap dump or a debugger lists.
  const cacheKey = createHash('sha256').update(JSON.stringify([keys.secretKey, keys.machineSecretKey, keys.jwtKey, keys.apiUrl, keys.timeoutMs])).digest('base64')
  let c = clients.get(cacheKey)
  if (c === undefined) {
    c = createM2MClient(keys)
    if (clients.size >= CLIENT_CACHE_MAX) clients.delete(clients.keys().next().value)
    clients.set(cacheKey, c)
  }
  return c
}

const misconfigured = (message, cause) => new M2MAuthError('unavailable', message, { cause, reason: 'misconfigured' })

/**
 * An `unavailable` error for a transport failure (a ClerkTransportError: the core's
 * reason for what failed on the way). `reason` keeps this layer's names: the
 * transport's code, except `status` → `server-error`.
 */
function unavailableFrom(transport, cause, what) {
  const code = transport && transport.code
  const status = transport ? transport.status : undefined
  const retryAfter = transport ? transport.retryAfter : undefined
  if (code === 'rate-limited') {
    return new M2MAuthError('unavailable', `${what} is rate limited (429)${retryAfter !== undefined ? `; retry after ${retryAfter} s` : ''}.`, { cause, apiStatus: 429, retryAfter, reason: 'rate-limited' })
  }
  if (code === 'status' || (code === 'redirect' && typeof status === 'number')) {
    return new M2MAuthError('unavailable', `${what} answered ${status}.`, { cause, apiStatus: status, retryAfter, reason: code === 'status' ? 'server-error' : 'redirect' })
  }
  const detail = transport && transport.message ? `: ${transport.message}` : ''
  return new M2MAuthError('unavailable', `${what} could not be used (${code || 'network'})${detail}.`, { cause, reason: code || 'network' })
}

/**
 * Maps the core's failure reason (`err.reason`, set on every error the
 * verifier and the M2M client produce) to an M2MAuthError: `expired` and
 * `revoked` keep their names, every other fault of the token is `invalid`
 * (with the core's reason as `reason`), and what is not the caller's fault is
 * `unavailable`: a missing key or refused credentials (`misconfigured`), a
 * transport failure (its code), a bug (`internal`).
 */
function fromReason(reason, err, transport, what, describeInvalid) {
  switch (reason) {
    case 'expired':
      return new M2MAuthError('expired', `The M2M token has expired: ${err.message}`, { cause: err, reason })
    case 'revoked':
      return new M2MAuthError('revoked', 'The M2M token has been revoked.', { cause: err, reason })
    case 'no-key':
      return misconfigured('No key to verify M2M tokens: set CLERK_JWT_KEY (networkless) or CLERK_SECRET_KEY.', err)
    case 'credentials':
      return misconfigured(`${what} refused the receiver's credentials (set CLERK_MACHINE_SECRET_KEY_<RECEIVER> or CLERK_SECRET_KEY).`, err)
    case 'unavailable':
      return unavailableFrom(transport, err, what)
    case 'internal':
    case undefined:
      return new M2MAuthError('unavailable', 'M2M verification failed unexpectedly.', { cause: err, reason: 'internal' })
    default:
      return new M2MAuthError('invalid', describeInvalid(), { cause: err, reason })
  }
}

/** Maps a failure of `client.verify` (MTVE for JWTs, ClerkAPIResponseError for opaque tokens) to an M2MAuthError. */
function toAuthError(err) {
  if (err instanceof M2MAuthError) return err
  if (err instanceof MachineTokenVerificationError) {
    const transport = err.cause instanceof ClerkTransportError ? err.cause : undefined
    return fromReason(err.reason, err, transport, 'The Clerk Backend API', () => `The M2M token is invalid: ${err.message}`)
  }
  if (err instanceof ClerkAPIResponseError) {
    const s = err.status
    const invalid = () => (s === 404 ? 'The M2M token is invalid: not found.' : `The M2M token is invalid (the Clerk Backend API answered ${s}).`)
    return fromReason(err.reason, err, err.transport, 'The Clerk Backend API', invalid)
  }
  if (err instanceof InvalidOptionsError || err instanceof M2MConfigError) return misconfigured(err.message, err)
  return new M2MAuthError('unavailable', 'M2M verification failed unexpectedly.', { cause: err, reason: 'internal' })
}

function listOf(value) {
  if (value === undefined || value === null) return []
  return Array.isArray(value) ? value : [value]
}

/**
 * Verifies a token a sender presented and returns the verified M2MToken, or
 * throws an M2MAuthError:
 * - `missing` (no token), `invalid` (malformed, bad signature, unknown, not an M2M token),
 *   `expired`, `revoked` (opaque tokens: the API's flags are checked);
 * - `wrong-machine` when `expectedService` (a name or a list) is given and the
 *   token's subject is not that service's CLERK_M2M_MACHINE_ID_<SERVICE>;
 * - `not-in-scope` when the receiver's own machine id is known
 *   (`receiverMachineId`, or CLERK_M2M_MACHINE_ID_<RECEIVER>) and is not among
 *   the token's scopes: a token minted for another receiver is not accepted;
 * - `unavailable` when the Backend API or JWKS could not answer (network,
 *   timeout, 5xx, 429 with `retryAfter`) or the receiver is misconfigured.
 *
 * Keys: `secretKey`/`jwtKey`/`apiUrl`/`machineSecretKey` options, else
 * CLERK_SECRET_KEY, CLERK_JWT_KEY, CLERK_API_URL and
 * CLERK_MACHINE_SECRET_KEY_<RECEIVER> (used for opaque tokens).
 */
async function verifyM2MToken(token, options) {
  const o = options && typeof options === 'object' ? options : {}
  const env = envOf(o)
  if (token === undefined || token === null || token === '') throw new M2MAuthError('missing', 'No M2M token was presented.')
  if (typeof token !== 'string') throw new M2MAuthError('invalid', 'The M2M token must be a string.', { reason: 'malformed' })
  if (token.length > DEFAULT_MAX_TOKEN_BYTES) throw new M2MAuthError('invalid', `The M2M token is larger than ${DEFAULT_MAX_TOKEN_BYTES} bytes.`, { reason: 'too-large' })
  if (!token.startsWith('mt_') && !isM2MJwt(token)) {
    throw new M2MAuthError('invalid', 'Not an M2M token: expected an opaque mt_… token or an M2M JWT (sub mch_…).', { reason: 'wrong-type' })
  }

  let expectedIds
  let receiverId
  let client
  try {
    expectedIds = listOf(o.expectedService).map((s) => getExpectedMachineId(s, o))
    if (o.receiverMachineId !== undefined && o.receiverMachineId !== null && o.receiverMachineId !== '') {
      receiverId = resolveMachineId(o.receiverMachineId, o)
    } else if (o.receiver !== undefined && readVar(env, machineIdVar(o.receiver)) !== undefined) {
      receiverId = getExpectedMachineId(o.receiver, o)
    }
    client = clientFor(receiverKeys(o, env))
  } catch (e) {
    throw toAuthError(e instanceof TypeError && !(e instanceof InvalidOptionsError) ? new InvalidOptionsError(e.message) : e)
  }

  let data
  try {
    data = await client.verify({ token })
  } catch (e) {
    throw toAuthError(e)
  }
  if (!data || typeof data !== 'object' || typeof data.subject !== 'string') {
    throw new M2MAuthError('invalid', 'The Clerk Backend API did not describe an M2M token.', { reason: 'malformed' })
  }
  if (data.revoked === true) throw new M2MAuthError('revoked', 'The M2M token has been revoked.', { reason: 'revoked' })
  // The API's flag, and the expiry itself with the verifier's default 5 s skew (a clock ahead of Clerk's must not reject early).
  if (data.expired === true || (typeof data.expiration === 'number' && data.expiration <= Date.now() - EXPIRY_SKEW_MS)) {
    throw new M2MAuthError('expired', 'The M2M token has expired.', { reason: 'expired' })
  }
  if (expectedIds.length > 0 && !expectedIds.includes(data.subject)) {
    throw new M2MAuthError('wrong-machine', `The M2M token belongs to machine ${data.subject}, not to ${listOf(o.expectedService).join(' or ')}.`)
  }
  if (receiverId !== undefined) {
    const scopes = Array.isArray(data.scopes) ? data.scopes : []
    if (!scopes.includes(receiverId)) {
      throw new M2MAuthError('not-in-scope', `The M2M token was not issued for this receiver (${receiverId} is not among its scopes).`)
    }
  }
  return data
}

// ---------------------------------------------------------------------------
// Reading the Authorization header from any framework

function headerFromRecord(record) {
  let found
  for (const key of Object.keys(record)) {
    if (key.toLowerCase() !== 'authorization') continue
    const v = record[key]
    if (v === undefined || v === null) continue
    if (found !== undefined) return { duplicate: true }
    found = v
  }
  if (Array.isArray(found)) {
    if (found.length > 1) return { duplicate: true }
    found = found[0]
  }
  return { value: typeof found === 'string' ? found : undefined }
}

/**
 * The raw Authorization header of a Fetch Request, a Headers object, a Node
 * IncomingMessage-like `{ headers }`, or a plain header record.
 */
function readAuthorizationHeader(source) {
  if (source === null || source === undefined || typeof source !== 'object') return { value: undefined }
  if (typeof source.get === 'function' && !('headers' in source)) {
    const v = source.get('authorization')
    return { value: typeof v === 'string' ? v : undefined }
  }
  if ('headers' in source && source.headers && typeof source.headers === 'object') return readAuthorizationHeader(source.headers)
  return headerFromRecord(source)
}

/** `Bearer <token>` (scheme case-insensitive, surrounding whitespace trimmed) → the token. */
function bearerToken(source) {
  const { value, duplicate } = readAuthorizationHeader(source)
  if (duplicate) throw new M2MAuthError('invalid', 'More than one Authorization header was sent.')
  if (value === undefined) throw new M2MAuthError('missing', 'No Authorization header.')
  const trimmed = value.trim()
  if (trimmed === '') throw new M2MAuthError('missing', 'The Authorization header is empty.')
  const m = /^(\S+)(?:\s+([\s\S]*))?$/.exec(trimmed)
  const scheme = m ? m[1] : ''
  const rest = m && m[2] !== undefined ? m[2].trim() : ''
  if (scheme.toLowerCase() !== 'bearer') throw new M2MAuthError('missing', 'The Authorization header does not use the Bearer scheme.')
  if (rest === '') throw new M2MAuthError('missing', 'The Authorization header has no token after "Bearer".')
  if (/\s/.test(rest)) throw new M2MAuthError('invalid', 'The Authorization header holds more than one value after "Bearer".')
  return rest
}

function unauthenticated(error) {
  return { isAuthenticated: false, tokenType: 'm2m_token', id: null, machineId: null, subject: null, scopes: null, claims: null, expiration: null, error }
}

/**
 * Authenticates a request from any framework; never throws. Returns
 * `{ isAuthenticated, tokenType: 'm2m_token', id, machineId, subject, scopes, claims, expiration, error }`
 * where `error` is an M2MAuthError (or null). Options are those of verifyM2MToken.
 */
async function authenticateM2MRequest(requestOrHeaders, options) {
  try {
    const token = bearerToken(requestOrHeaders)
    const t = await verifyM2MToken(token, options)
    return {
      isAuthenticated: true,
      tokenType: 'm2m_token',
      id: t.id,
      machineId: t.subject,
      subject: t.subject,
      scopes: Array.isArray(t.scopes) ? t.scopes : [],
      claims: t.claims ?? null,
      expiration: t.expiration ?? null,
      error: null,
    }
  } catch (e) {
    return unauthenticated(toAuthError(e))
  }
}

// ---------------------------------------------------------------------------
// Minting short-lived tokens with a machine secret key

const DEFAULT_TTL_SECONDS = 3600
const DEFAULT_RETRY_DELAY_MS = 1000
/** A token this close to its expiry is no longer handed out. */
const EXPIRY_MARGIN_MS = 1000

/**
 * When a minted token expires on this machine's clock: its lifetime as the API
 * states it (`expiration - createdAt`, both from the API's clock) counted from
 * when the request was sent, so a skew between the two clocks cannot make a
 * token look fresher than it is. `null` = never expires.
 */
function localExpiry(token, requestedAt) {
  if (typeof token.expiration !== 'number') return null
  if (typeof token.createdAt === 'number' && token.expiration >= token.createdAt) return requestedAt + (token.expiration - token.createdAt)
  return token.expiration
}

function positiveNumber(v, name, fallback) {
  if (v === undefined || v === null) return fallback
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new InvalidOptionsError(`${name} must be a finite number ≥ 0`)
  return v
}

/**
 * For senders that mint their own short-lived tokens. `getToken()` returns the
 * cached token and refreshes it `refreshBeforeSeconds` before it expires; all
 * concurrent callers share one refresh (single-flight). When a refresh fails
 * while the old token is still valid, the old token keeps being served and the
 * next attempt waits `retryDelayMs` (or the API's Retry-After); once no valid
 * token is left, `getToken()` rejects with the API's error.
 *
 * Options: `machineSecretKey` (or `service`, to read CLERK_MACHINE_SECRET_KEY_<SERVICE>),
 * `ttlSeconds` (default 3600), `refreshBeforeSeconds` (default min(60, ttl/2)),
 * `tokenFormat` ('opaque' default, or 'jwt'), `claims`, `apiUrl` (else CLERK_API_URL),
 * `timeoutMs`, `retryDelayMs` (default 1000), `now` (a clock, for tests), `env`.
 */
function createM2MTokenProvider(options) {
  const o = options && typeof options === 'object' ? options : {}
  const env = envOf(o)
  let machineSecretKey = o.machineSecretKey
  if ((machineSecretKey === undefined || machineSecretKey === '') && o.service !== undefined) {
    machineSecretKey = readVar(env, machineSecretKeyVar(o.service))
    if (machineSecretKey === undefined) throw new M2MConfigError(`${machineSecretKeyVar(o.service)} is not set.`, machineSecretKeyVar(o.service))
  }
  if (typeof machineSecretKey !== 'string' || machineSecretKey === '') throw new InvalidOptionsError('createM2MTokenProvider needs a machineSecretKey (or a service whose CLERK_MACHINE_SECRET_KEY_<SERVICE> is set)')
  const ttlSeconds = positiveNumber(o.ttlSeconds, 'ttlSeconds', DEFAULT_TTL_SECONDS)
  if (ttlSeconds < 1) throw new InvalidOptionsError('ttlSeconds must be at least 1')
  const refreshBeforeSeconds = positiveNumber(o.refreshBeforeSeconds, 'refreshBeforeSeconds', Math.min(60, ttlSeconds / 2))
  if (refreshBeforeSeconds >= ttlSeconds) throw new InvalidOptionsError('refreshBeforeSeconds must be less than ttlSeconds')
  const tokenFormat = o.tokenFormat ?? 'opaque'
  if (tokenFormat !== 'opaque' && tokenFormat !== 'jwt') throw new InvalidOptionsError("tokenFormat must be 'opaque' or 'jwt'")
  const retryDelayMs = positiveNumber(o.retryDelayMs, 'retryDelayMs', DEFAULT_RETRY_DELAY_MS)
  const now = typeof o.now === 'function' ? o.now : Date.now
  const claims = o.claims ?? null
  const client = createM2MClient({ machineSecretKey, apiUrl: o.apiUrl ?? readVar(env, 'CLERK_API_URL'), timeoutMs: o.timeoutMs })

  let current = null // { token, id, expiresAt (ms) | null }
  let inflight = null
  let nextAttemptAt = 0
  const stats = { refreshes: 0, failures: 0 }

  const usable = (t) => t !== null && (t.expiresAt === null || t.expiresAt - EXPIRY_MARGIN_MS > now())
  const fresh = (t) => t !== null && (t.expiresAt === null || t.expiresAt - refreshBeforeSeconds * 1000 > now())

  async function refresh() {
    stats.refreshes += 1
    const requestedAt = now()
    try {
      const created = await client.createToken({ secondsUntilExpiration: ttlSeconds, tokenFormat, claims })
      if (!created || typeof created.token !== 'string' || created.token === '') {
        throw new Error('The Clerk Backend API did not return a token.')
      }
      current = { token: created.token, id: created.id, expiresAt: localExpiry(created, requestedAt) }
      nextAttemptAt = 0
      return current
    } catch (e) {
      stats.failures += 1
      const wait = e && typeof e.retryAfter === 'number' ? Math.max(retryDelayMs, e.retryAfter * 1000) : retryDelayMs
      nextAttemptAt = now() + wait
      throw e
    }
  }

  function startRefresh() {
    if (inflight === null) {
      inflight = refresh().finally(() => {
        inflight = null
      })
    }
    return inflight
  }

  async function getToken() {
    if (fresh(current)) return current.token
    // Inside the backoff after a failure: keep serving the old token while it lasts.
    if (usable(current) && now() < nextAttemptAt && inflight === null) return current.token
    try {
      return (await startRefresh()).token
    } catch (e) {
      // The failed refresh left the old token in place: serve it while it is valid.
      if (usable(current)) return current.token
      throw e
    }
  }

  return {
    getToken,
    /** `Bearer <token>`, for an Authorization header. */
    async getAuthorizationHeader() {
      return `Bearer ${await getToken()}`
    },
    /** Drops the cached token (e.g. after a receiver answered 401); the next getToken() mints a new one. */
    invalidate() {
      current = null
      nextAttemptAt = 0
    },
    /** Refresh attempts and failures so far. */
    stats() {
      return { ...stats, expiresAt: current ? current.expiresAt : null }
    },
  }
}

module.exports = {
  M2MAuthError,
  M2MAuthErrorCode,
  M2MConfigError,
  getM2MToken,
  isM2MConfigured,
  getExpectedMachineId,
  verifyM2MToken,
  authenticateM2MRequest,
  createM2MTokenProvider,
  // Helpers shared with the tRPC layer and the CLI (not part of the documented API).
  serviceEnvName,
  resolveMachineId,
}
