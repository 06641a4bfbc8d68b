'use strict'
// The sender's side: short-lived M2M tokens minted with a machine secret key, cached, refreshed
// before they expire by one request at a time, and kept through a failed refresh while they last.

const { createM2MClient } = require('./m2m.js')
const { InvalidOptionsError } = require('./errors.js')
const { M2MConfigError, envOf, readVar, machineSecretKeyVar } = require('./service-env.js')
const events = require('./observe/token-provider-events.js')

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
      events.refreshed(current, now() - requestedAt)
      return current
    } catch (e) {
      stats.failures += 1
      const wait = e && typeof e.retryAfter === 'number' ? Math.max(retryDelayMs, e.retryAfter * 1000) : retryDelayMs
      nextAttemptAt = now() + wait
      events.refreshFailed(e, now() - requestedAt, nextAttemptAt)
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
    if (usable(current) && now() < nextAttemptAt && inflight === null) {
      events.servedStale(current)
      return current.token
    }
    try {
      return (await startRefresh()).token
    } catch (e) {
      // The failed refresh left the old token in place: serve it while it is valid.
      if (usable(current)) {
        events.servedStale(current)
        return current.token
      }
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

module.exports = { createM2MTokenProvider }
