'use strict'
// Detection: thin guards over the native functions. The guards only turn a
// non-string argument into a clear TypeError before it reaches the binding.

const native = require('./native.js')
const { assertString, argTypeError, describe } = require('./guards.js')

function guard1(fn, argName) {
  // The check is written out here, not called: this is the hottest call of the package.
  const guarded = function (token) {
    if (typeof token !== 'string') throw argTypeError(`${argName} must be a string, received ${describe(token)}`)
    return fn(token)
  }
  Object.defineProperty(guarded, 'name', { value: fn.name })
  return guarded
}

const isJwtFormat = guard1(native.isJwtFormat, 'token')
const isOAuthJwt = guard1(native.isOAuthJwt, 'token')
const isM2MJwt = guard1(native.isM2MJwt, 'token')
const isMachineJwt = guard1(native.isMachineJwt, 'token')
const isMachineTokenByPrefix = guard1(native.isMachineTokenByPrefix, 'token')
const isMachineToken = guard1(native.isMachineToken, 'token')

// The binding's error carries a napi `code`; the reference throws a plain Error.
function getMachineTokenType(token) {
  assertString(token, 'token')
  try {
    return native.getMachineTokenType(token)
  } catch {
    throw new Error('Unknown machine token type')
  }
}

function isMachineTokenType(type) {
  return typeof type === 'string' && native.isMachineTokenType(type)
}

// Non-string values follow the reference's JS semantics (falsy → false, strict
// membership); only strings and string arrays cross into Rust.
function isTokenTypeAccepted(tokenType, acceptsToken) {
  if (!tokenType) return false
  if (acceptsToken === 'any') return true
  const list = Array.isArray(acceptsToken) ? acceptsToken : [acceptsToken]
  if (typeof tokenType !== 'string' || !list.every((t) => typeof t === 'string')) {
    return list.includes(tokenType)
  }
  return native.isTokenTypeAccepted(tokenType, list)
}

module.exports = {
  isJwtFormat,
  isOAuthJwt,
  isM2MJwt,
  isMachineJwt,
  isMachineTokenByPrefix,
  isMachineToken,
  getMachineTokenType,
  isMachineTokenType,
  isTokenTypeAccepted,
}
