'use strict'
// createM2MClient: the M2M token API of @clerk/backend's `createClerkClient(...).m2m`
// (createToken, revokeToken, list, verify) over the native client.
//
// Same wire format, credential precedence (per-call machineSecretKey > client
// machineSecretKey > client secretKey > none), resources and errors as the
// reference. Differences, each for safety: every call has a deadline
// (`timeoutMs`, default 5000), the `apiUrl` must be https (http only for
// loopback), ids in paths are percent-encoded, and read-only calls (list,
// verify) are retried on connection errors and 5xx inside the deadline;
// creation and revocation are never retried.

const native = require('./native.js')
const { observingRequests } = require('./observe/channels.js')
const { clientCall } = require('./observe/verify-events.js')
const { ClerkAPIResponseError, ClerkAPIError, InvalidOptionsError, ClerkTransportError, defineHidden } = require('./errors.js')
const { describe, optString, optNumber, optBoolean, objectOrEmpty } = require('./guards.js')
const { deserialize } = require('./resources.js')
const { verifyM2MToken } = require('./verify.js')
const { isM2MJwt } = require('./detect.js')

const REQUIRE_ID_MESSAGE = 'A valid resource ID is required.'

/**
 * Builds the reference's error from the native outcome: a ClerkAPIResponseError
 * (message = status text, `errors` entries as ClerkAPIError for API answers and
 * plain `{code, message}` objects for failures without a response), or a plain
 * Error for requests refused before sending, as the reference throws those.
 */
function errorFromOutcome(e) {
  if (e.kind === 'invalid-request') {
    const first = e.errors && e.errors[0]
    return new Error(first ? first.message : 'The request could not be built.')
  }
  const hasStatus = typeof e.status === 'number'
  const err = new ClerkAPIResponseError(e.statusText || '', {
    data: [],
    status: hasStatus ? e.status : undefined,
    clerkTraceId: e.clerkTraceId,
    retryAfter: typeof e.retryAfter === 'number' ? e.retryAfter : undefined,
  })
  err.errors = hasStatus
    ? (e.errors || []).map((x) => new ClerkAPIError(x))
    : (e.errors || []).map((x) => ({ code: x.code, message: x.message || 'Unexpected error' }))
  // Ours, not enumerable (the reference's fields stay as they are): `failureKind` is `timeout`,
  // `connect`, `network`, `body-too-large`, `redirect`, `protocol`, `invalid-response`… (null for
  // API answers); `reason` the core's failure reason (`credentials`, `not-found`, `unavailable`…);
  // `transport`, for `unavailable`, what failed on the way.
  defineHidden(err, 'failureKind', e.kind ?? null)
  defineHidden(err, 'reason', e.reason)
  defineHidden(err, 'transport', e.transport ? new ClerkTransportError(e.transport) : undefined)
  return err
}

/** Resolves the resource (via the reference's `deserialize`) or throws the error. */
function settle(outcomeJson) {
  const o = JSON.parse(outcomeJson)
  if (o.error) throw errorFromOutcome(o.error)
  return deserialize(o.ok)
}

class M2MClient {
  #native
  #verifyOptions

  constructor(options) {
    const o = objectOrEmpty(options, 'options')
    const normalized = {
      secretKey: optString(o, 'secretKey', ''),
      machineSecretKey: optString(o, 'machineSecretKey', ''),
      apiUrl: optString(o, 'apiUrl', ''),
      timeoutMs: optNumber(o, 'timeoutMs', ''),
    }
    const jwtKey = optString(o, 'jwtKey', '')
    try {
      this.#native = new native.NativeM2MClient(normalized)
    } catch (e) {
      throw new InvalidOptionsError(e.message)
    }
    // What the reference's m2m client forwards to JWT verification: secretKey, apiUrl, jwtKey (no machine key).
    this.#verifyOptions = { secretKey: normalized.secretKey, jwtKey, apiUrl: normalized.apiUrl, timeoutMs: normalized.timeoutMs }
  }

  /**
   * `POST {apiUrl}/m2m_tokens`. Defaults: `secondsUntilExpiration: null` (never
   * expires), `claims: null`, `tokenFormat: 'opaque'`. Never retried.
   */
  async createToken(params) {
    const p = objectOrEmpty(params, 'createToken params')
    const where = 'createToken: '
    const claims = p.claims
    if (claims !== undefined && claims !== null && typeof claims !== 'object') {
      throw new InvalidOptionsError(`${where}claims must be an object, received ${describe(claims)}`)
    }
    const body = {
      machineSecretKey: optString(p, 'machineSecretKey', where),
      secondsUntilExpiration: optNumber(p, 'secondsUntilExpiration', where),
      claims,
      minRemainingTtlSeconds: optNumber(p, 'minRemainingTtlSeconds', where),
      tokenFormat: optString(p, 'tokenFormat', where),
    }
    return settle(await this.#call('createToken', JSON.stringify(body)))
  }

  /** `POST {apiUrl}/m2m_tokens/{id}/revoke` `{revocation_reason}`. Never retried. */
  async revokeToken(params) {
    const p = objectOrEmpty(params, 'revokeToken params')
    if (!p.m2mTokenId) throw new Error(REQUIRE_ID_MESSAGE)
    const where = 'revokeToken: '
    if (typeof p.m2mTokenId !== 'string') throw new InvalidOptionsError(`${where}m2mTokenId must be a string, received ${describe(p.m2mTokenId)}`)
    const body = {
      m2mTokenId: p.m2mTokenId,
      revocationReason: optString(p, 'revocationReason', where),
      machineSecretKey: optString(p, 'machineSecretKey', where),
    }
    return settle(await this.#call('revokeToken', JSON.stringify(body)))
  }

  /** `GET {apiUrl}/m2m_tokens?…` → `{ data: M2MToken[], totalCount }`. Falsy filters are left out, as the reference does. */
  async list(params) {
    const p = objectOrEmpty(params, 'list params')
    const where = 'list: '
    const body = {
      machineSecretKey: optString(p, 'machineSecretKey', where),
      subject: optString(p, 'subject', where),
      revoked: optBoolean(p, 'revoked', where),
      expired: optBoolean(p, 'expired', where),
      limit: optNumber(p, 'limit', where),
      offset: optNumber(p, 'offset', where),
    }
    return settle(await this.#call('list', JSON.stringify(body)))
  }

  /**
   * Verifies an M2M token. An M2M JWT (sub `mch_…`) is verified locally with
   * `jwtKey` or the instance JWKS (`secretKey`) and a failure is THROWN as a
   * MachineTokenVerificationError, as the reference does; anything else goes to
   * `POST {apiUrl}/m2m_tokens/verify` and resolves the API's M2MToken (flags
   * such as `revoked` included, as returned) or throws a ClerkAPIResponseError.
   */
  async verify(params) {
    const p = objectOrEmpty(params, 'verify params')
    const token = p.token
    if (typeof token !== 'string') throw new InvalidOptionsError(`verify: token must be a string, received ${describe(token)}`)
    const machineSecretKey = optString(p, 'machineSecretKey', 'verify: ')
    if (isM2MJwt(token)) {
      const { data, errors } = await verifyM2MToken(token, this.#verifyOptions)
      if (errors) throw errors[0]
      return data
    }
    return settle(await this.#call('verifyOpaque', token, machineSecretKey))
  }

  /** One native call; while an http subscriber (or the debug log) listens, the traced one (lib/observe/). */
  #call(operation, arg, machineSecretKey) {
    if (observingRequests()) return clientCall(this.#native, operation, arg, machineSecretKey)
    return operation === 'verifyOpaque' ? this.#native.verifyOpaque(arg, machineSecretKey) : this.#native[operation](arg)
  }
}

/**
 * `createClerkClient({ secretKey, machineSecretKey, apiUrl }).m2m`, standalone.
 * Options: `secretKey`, `machineSecretKey`, `jwtKey` (local JWT verification),
 * `apiUrl` (default https://api.clerk.com), `timeoutMs` (default 5000, 1–120000).
 */
function createM2MClient(options) {
  return new M2MClient(options)
}

module.exports = { createM2MClient, M2MClient, M2MToken: require('./resources.js').M2MToken }
