'use strict'
// Error classes with the fields, order and methods of @clerk/backend@3.25.0's
// (which builds them on @clerk/shared's ClerkError). Hand-written because JS
// needs real `Error` subclasses for `instanceof`.

const MachineTokenVerificationErrorCode = Object.freeze({
  TokenInvalid: 'token-invalid',
  InvalidSecretKey: 'secret-key-invalid',
  UnexpectedError: 'unexpected-error',
  TokenVerificationFailed: 'token-verification-failed',
})

const TokenVerificationErrorAction = Object.freeze({
  ContactSupport: 'Contact support@clerk.com',
  EnsureClerkJWT: 'Make sure that this is a valid Clerk-generated JWT.',
  SetClerkJWTKey: 'Set the CLERK_JWT_KEY environment variable.',
  SetClerkSecretKey: 'Set the CLERK_SECRET_KEY environment variable.',
  EnsureClockSync: 'Make sure your system clock is in sync (e.g. turn off and on automatic time synchronization).',
})

/** Defines `cause` as the first own enumerable property, as ClerkError's class field does. */
function defineCause(target, cause) {
  Object.defineProperty(target, 'cause', { value: cause, enumerable: true, writable: true, configurable: true })
}

class MachineTokenVerificationError extends Error {
  constructor({ message, code, status, action }) {
    super(message)
    defineCause(this, undefined)
    this.clerkError = true
    this.code = code
    this.longMessage = undefined
    this.docsUrl = undefined
    this.status = status
    this.action = action
  }

  get name() {
    return this.constructor.name
  }

  /** `<message> (code=<code>, status=<status or n/a>)`, as the reference. */
  getFullMessage() {
    return `${this.message} (code=${this.code}, status=${this.status || 'n/a'})`
  }

  toString() {
    return `[${this.name}]\nMessage:${this.message}`
  }
}
MachineTokenVerificationError.kind = 'MachineTokenVerificationError'

/** One entry of a Backend API error body, as @clerk/shared's ClerkAPIError. */
class ClerkAPIError {
  constructor(json) {
    this.code = json.code
    this.message = json.message
    this.longMessage = json.long_message
    const meta = json.meta || {}
    this.meta = {
      paramName: meta.param_name,
      sessionId: meta.session_id,
      emailAddresses: meta.email_addresses,
      identifiers: meta.identifiers,
      zxcvbn: meta.zxcvbn,
      plan: meta.plan,
      isPlanUpgradePossible: meta.is_plan_upgrade_possible,
      seatsQuantityToAdd: meta.seats_quantity_to_add,
      seatsQuantity: meta.seats_quantity,
      traceId: meta.trace_id,
      kind: meta.kind,
      title: meta.title,
      description: meta.description,
      linkUrl: meta.link_url,
      linkText: meta.link_text,
      data: meta.data,
    }
  }
}

/** A failed Backend API call: `status`, `errors[]`, `clerkTraceId`, `retryAfter`. */
class ClerkAPIResponseError extends Error {
  constructor(message, { data = [], status, clerkTraceId, retryAfter } = {}) {
    super(message)
    defineCause(this, undefined)
    this.clerkError = true
    this.code = 'api_response_error'
    this.longMessage = undefined
    this.docsUrl = undefined
    this.status = status
    this.clerkTraceId = clerkTraceId
    this.retryAfter = retryAfter
    this.errors = data.map((e) => (e instanceof ClerkAPIError ? e : new ClerkAPIError(e)))
  }

  get name() {
    return 'ClerkAPIResponseError'
  }

  toString() {
    let s = `[${this.name}]\nMessage:${this.message}\nStatus:${this.status}\nSerialized errors: ${this.errors.map((e) => JSON.stringify(e))}`
    if (this.clerkTraceId) s += `\nClerk Trace ID: ${this.clerkTraceId}`
    return s
  }
}
ClerkAPIResponseError.kind = 'ClerkAPIResponseError'

function isClerkAPIResponseError(err) {
  if (!err) throw new TypeError('ClerkAPIResponseError type guard requires an error object')
  return (typeof err === 'object' && err.constructor?.kind === 'ClerkAPIResponseError') || err instanceof ClerkAPIResponseError
}

/** Attaches a property of ours without changing the reference's enumerable fields (`Object.keys`, JSON, inspect). */
function defineHidden(target, name, value) {
  Object.defineProperty(target, name, { value, enumerable: false, writable: true, configurable: true })
}

/**
 * Why the Clerk Backend API (or its JWKS) gave no usable answer: the `cause` of
 * an `unexpected-error` verification result (and of a JWKS failure), built from
 * the core's transport reason. `code` is `connect`, `timeout`, `status`,
 * `rate-limited`, `network`, `invalid-response`, `body-too-large`, `redirect`,
 * `protocol` or `client`; the message names the URL (never a query, a key or a token).
 */
class ClerkTransportError extends Error {
  constructor({ kind, message, status, retryAfter, attempts }) {
    super(message)
    this.code = kind
    this.status = status ?? undefined
    this.retryAfter = retryAfter ?? undefined
    this.attempts = attempts
  }

  get name() {
    return 'ClerkTransportError'
  }
}

/** Thrown (or rejected with) for options that cannot work: wrong types, non-finite numbers, a bad apiUrl. */
class InvalidOptionsError extends TypeError {
  constructor(message) {
    super(message)
    this.code = 'invalid-options'
  }

  get name() {
    return 'InvalidOptionsError'
  }
}

module.exports = {
  defineHidden,
  ClerkTransportError,
  MachineTokenVerificationError,
  MachineTokenVerificationErrorCode,
  TokenVerificationErrorAction,
  ClerkAPIError,
  ClerkAPIResponseError,
  isClerkAPIResponseError,
  InvalidOptionsError,
}
