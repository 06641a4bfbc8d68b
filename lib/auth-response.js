'use strict'
// The one table from an authentication failure to an HTTP answer (RFC 6750 §3 for the Bearer
// challenge). The framework adapters send it as it is; the tRPC helper turns its status into a
// TRPCError code. Nothing of the request, the token or the keys goes into it: the descriptions are
// fixed texts chosen by the failure's code and reason.

const { argValueError } = require('./guards.js')
const { M2MAuthError, toAuthError } = require('./auth-error.js')

const DEFAULT_REALM = 'api'
/** Retry-After for a Backend API 429 that did not say when: long enough for its window to move on. */
const DEFAULT_RATE_LIMIT_RETRY_SECONDS = 5
// RFC 6750 §3: realm and error_description are quoted strings of %x20-21 / %x23-5B / %x5D-7E.
const QUOTABLE = /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,128}$/

const HEADER_REASONS = new Set(['duplicate-header', 'malformed-header'])

/** The realm of the Bearer challenge; throws TypeError for one that cannot be a quoted string. */
function checkRealm(realm) {
  if (realm === undefined) return DEFAULT_REALM
  if (typeof realm !== 'string' || !QUOTABLE.test(realm)) {
    throw argValueError('realm must be 1 to 128 printable ASCII characters without " or \\')
  }
  return realm
}

/**
 * What to answer for a failure: status, the body's code and message, the RFC 6750 error attribute
 * (none for 429/5xx, and none when no credential was sent), Retry-After.
 */
function answerFor(err) {
  switch (err.code) {
    case 'missing':
      return { status: 401, code: 'missing', message: 'A Bearer token is required.', challenge: null }
    case 'expired':
      return { status: 401, code: 'expired', message: 'The token has expired.', challenge: 'invalid_token' }
    case 'revoked':
      return { status: 401, code: 'revoked', message: 'The token has been revoked.', challenge: 'invalid_token' }
    case 'invalid':
      if (HEADER_REASONS.has(err.reason)) return { status: 401, code: 'invalid', message: 'The Authorization header is malformed.', challenge: 'invalid_token' }
      if (err.reason === 'wrong-type') return { status: 401, code: 'invalid', message: 'This type of token is not accepted here.', challenge: 'invalid_token' }
      return { status: 401, code: 'invalid', message: 'The token is invalid.', challenge: 'invalid_token' }
    case 'wrong-machine':
      return { status: 403, code: 'wrong-machine', message: 'This machine may not make this request.', challenge: 'insufficient_scope' }
    case 'not-in-scope':
      return { status: 403, code: 'not-in-scope', message: "The token's scopes do not cover this request.", challenge: 'insufficient_scope' }
    default:
      break
  }
  if (err.reason === 'misconfigured' || err.reason === 'internal') {
    return { status: 500, code: 'internal', message: 'Internal server error.', challenge: null }
  }
  if (err.apiStatus === 429) {
    const retryAfter = err.retryAfter ?? DEFAULT_RATE_LIMIT_RETRY_SECONDS
    return { status: 429, code: 'rate-limited', message: 'Machine authentication is rate limited; retry later.', challenge: null, retryAfter }
  }
  return { status: 503, code: 'unavailable', message: 'Machine authentication is temporarily unavailable; retry later.', challenge: null, retryAfter: err.retryAfter }
}

/** Whole seconds for a Retry-After header (RFC 9110 §10.2.3: a non-negative integer), or undefined. */
function retryAfterSeconds(value) {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? String(Math.ceil(value)) : undefined
}

/**
 * The HTTP answer to an authentication failure: `{ status, headers, body }`.
 * - no token: 401, `WWW-Authenticate: Bearer realm="…"` without an error attribute;
 * - invalid, expired, revoked, wrong token type: 401 with `error="invalid_token"` and a description;
 * - wrong machine, receiver not in the token's scopes: 403 with `error="insufficient_scope"`;
 * - Backend API rate limit: 429 with Retry-After; Backend API unavailable: 503 (Retry-After when known);
 * - receiver misconfigured, or anything unexpected: 500, nothing more.
 * The body is `{ error: { code, message } }`; `code` is the M2MAuthError code, except `rate-limited`
 * (429) and `internal` (500). Options: `realm` (default "api").
 */
function machineAuthErrorResponse(error, options) {
  const realm = checkRealm(options && typeof options === 'object' ? options.realm : undefined)
  const err = error instanceof M2MAuthError ? error : toAuthError(error)
  const answer = answerFor(err)
  const headers = { 'Cache-Control': 'no-store' }
  if (answer.status === 401 || answer.status === 403) {
    headers['WWW-Authenticate'] =
      answer.challenge === null ? `Bearer realm="${realm}"` : `Bearer realm="${realm}", error="${answer.challenge}", error_description="${answer.message}"`
  }
  const retryAfter = retryAfterSeconds(answer.retryAfter)
  if (retryAfter !== undefined) headers['Retry-After'] = retryAfter
  return { status: answer.status, headers, body: { error: { code: answer.code, message: answer.message } } }
}

module.exports = { machineAuthErrorResponse, checkRealm }
