'use strict'
// Why a machine was not authenticated: M2MAuthError, and the mapping from the core's failure
// reasons to its codes. The mapping reads only machine-readable fields — a verification error's
// `reason` and its `cause` (a ClerkTransportError) — never message text.

const { MachineTokenVerificationError, ClerkTransportError, InvalidOptionsError } = require('./errors.js')
const { M2MConfigError } = require('./service-env.js')

const M2MAuthErrorCode = Object.freeze({
  Missing: 'missing',
  Invalid: 'invalid',
  Expired: 'expired',
  Revoked: 'revoked',
  WrongMachine: 'wrong-machine',
  NotInScope: 'not-in-scope',
  Unavailable: 'unavailable',
})

/** Longest message an M2MAuthError keeps: it ends up in logs, and parts of it can come from a token's header. */
const MAX_MESSAGE_LENGTH = 300
// C0 and C1 controls, DEL, and the Unicode line and paragraph separators: anything that could start
// a new line, or rewrite one, in a log.
const UNSAFE_FOR_LOGS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g

/** One line of printable text, at most MAX_MESSAGE_LENGTH characters. */
function logSafe(text) {
  const line = String(text).replace(UNSAFE_FOR_LOGS, ' ')
  return line.length > MAX_MESSAGE_LENGTH ? `${line.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : line
}

/**
 * Why a machine was not authenticated. `code` is one of M2MAuthErrorCode;
 * `reason` says why, from the core's failure reason: for `invalid`, what was
 * wrong with the token (`signature`, `malformed`, `kid-missing`, `claims`,
 * `not-found`, `wrong-type`…) or with the Authorization header (`malformed-header`,
 * `duplicate-header`); for `unavailable`, what failed (`timeout`, `connect`,
 * `network`, `rate-limited`, `server-error`, `misconfigured`, …), with
 * `apiStatus` the Backend API's status when there was one (429, 5xx…) and
 * `retryAfter` its Retry-After in seconds when known. `cause` holds the underlying error.
 * The message is one line (no control characters) of at most 300 characters, and never holds
 * a token or a secret.
 */
class M2MAuthError extends Error {
  constructor(code, message, { cause, apiStatus, retryAfter, reason } = {}) {
    super(logSafe(message))
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

const misconfigured = (message, cause) => new M2MAuthError('unavailable', message, { cause, reason: 'misconfigured' })
const unexpected = (cause) => new M2MAuthError('unavailable', 'Machine authentication failed unexpectedly.', { cause, reason: 'internal' })

/**
 * An `unavailable` error for a transport failure (a ClerkTransportError: the core's
 * reason for what failed on the way). `reason` keeps this layer's names: the
 * transport's code, except `status` → `server-error`.
 */
function unavailableFrom(transport, cause) {
  const what = 'The Clerk Backend API'
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
 * Maps a verification error of the drop-in functions (a MachineTokenVerificationError with the
 * core's `reason` and, when the Backend API gave no usable answer, a ClerkTransportError as
 * `cause`) to an M2MAuthError: `expired` and `revoked` keep their names, every other fault of the
 * token is `invalid` (with the core's reason as `reason`), and what is not the caller's fault is
 * `unavailable`: a missing key or refused credentials (`misconfigured`), a transport failure (its
 * code), a bug (`internal`).
 */
function fromVerificationError(err) {
  const reason = err.reason
  switch (reason) {
    case 'expired':
      return new M2MAuthError('expired', `The token has expired: ${err.message}`, { cause: err, reason })
    case 'revoked':
      return new M2MAuthError('revoked', 'The token has been revoked.', { cause: err, reason })
    case 'no-key':
      return misconfigured('No key to verify this token: set CLERK_JWT_KEY (networkless) or CLERK_SECRET_KEY.', err)
    case 'credentials':
      return misconfigured("The Clerk Backend API refused the receiver's credentials (set CLERK_MACHINE_SECRET_KEY_<RECEIVER> or CLERK_SECRET_KEY).", err)
    case 'unavailable':
      return unavailableFrom(err.cause instanceof ClerkTransportError ? err.cause : undefined, err)
    case 'internal':
    case undefined:
      return unexpected(err)
    default:
      return new M2MAuthError('invalid', `The token is invalid: ${err.message}`, { cause: err, reason })
  }
}

/** Any failure on the way to an answer, as an M2MAuthError (configuration errors are `misconfigured`). */
function toAuthError(err) {
  if (err instanceof M2MAuthError) return err
  if (err instanceof MachineTokenVerificationError) return fromVerificationError(err)
  if (err instanceof InvalidOptionsError || err instanceof M2MConfigError) return misconfigured(err.message, err)
  return unexpected(err)
}

/** A failure while reading the receiver's own configuration (options, environment): `misconfigured`, whatever was thrown. */
function configurationError(err) {
  return err instanceof M2MAuthError ? err : misconfigured(err instanceof Error ? err.message : 'The receiver is misconfigured.', err)
}

module.exports = { M2MAuthError, M2MAuthErrorCode, toAuthError, configurationError }
