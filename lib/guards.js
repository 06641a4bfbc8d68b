'use strict'
// Argument and option guards shared by the public functions (detect.js, verify.js, m2m.js):
// each rule once. A guard either returns the value the native layer expects or throws the
// error the public API documents: a TypeError with code ERR_INVALID_ARG_TYPE for a bad
// argument, an InvalidOptionsError (code `invalid-options`) for a bad option or parameter.
// Option strings follow the reference's truthiness: an empty string or `false` is absent.

const { InvalidOptionsError } = require('./errors.js')

/** What a value is, for messages: `null`, `an array`, `an object`, `a string`… (never the value itself). */
function describe(value) {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

/** `TypeError` with Node's `ERR_INVALID_ARG_TYPE` code. */
function argTypeError(message) {
  const e = new TypeError(message)
  e.code = 'ERR_INVALID_ARG_TYPE'
  return e
}

/** `TypeError` with Node's `ERR_INVALID_ARG_VALUE` code (right type, unusable value). */
function argValueError(message) {
  const e = new TypeError(message)
  e.code = 'ERR_INVALID_ARG_VALUE'
  return e
}

/** Throws unless `value` is a string. */
function assertString(value, name) {
  if (typeof value !== 'string') throw argTypeError(`${name} must be a string, received ${describe(value)}`)
}

/** A string option (`where` prefixes the message, e.g. `createToken: `): falsy → undefined; other types refused. */
function optString(bag, name, where = '') {
  const v = bag[name]
  if (v === undefined || v === null || v === '' || v === false) return undefined
  if (typeof v !== 'string') throw new InvalidOptionsError(`${where}${name} must be a string, received ${describe(v)}`)
  return v
}

/** A number option: `undefined`/`null` → undefined; other types refused (NaN and ±Infinity pass). */
function optNumber(bag, name, where = '') {
  const v = bag[name]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number') throw new InvalidOptionsError(`${where}${name} must be a number, received ${describe(v)}`)
  return v
}

/** {@link optNumber}, and NaN or ±Infinity refused too. */
function optFiniteNumber(bag, name, where = '') {
  const v = optNumber(bag, name, where)
  if (v !== undefined && !Number.isFinite(v)) throw new InvalidOptionsError(`${where}${name} must be a finite number`)
  return v
}

/** A boolean option: `undefined`/`null` → undefined; other types refused. */
function optBoolean(bag, name, where = '') {
  const v = bag[name]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'boolean') throw new InvalidOptionsError(`${where}${name} must be a boolean, received ${describe(v)}`)
  return v
}

/** An options or parameter object: `undefined`/`null` → `{}`; arrays and primitives refused. */
function objectOrEmpty(value, what) {
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value)) throw new InvalidOptionsError(`${what} must be an object, received ${describe(value)}`)
  return value
}

module.exports = { describe, argTypeError, argValueError, assertString, optString, optNumber, optFiniteNumber, optBoolean, objectOrEmpty }
