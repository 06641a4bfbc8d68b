'use strict'
// Reading `Authorization: Bearer <token>` from whatever a framework hands over: a Fetch Request,
// a Headers object, a Node IncomingMessage (Express, Fastify's request.raw), `{ headers }`, or a
// plain header record. Failures are M2MAuthErrors: `missing` when no Bearer credential was sent
// (no header, another scheme, nothing after "Bearer": RFC 6750 §3.1 asks for no error code then),
// `invalid` when the header cannot be one credential (two headers, two values).

const { M2MAuthError } = require('./auth-error.js')

/** `{ value }` of the one Authorization entry of a header record, or `{ duplicate: true }`. */
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
 * The raw Authorization header of a source. Node's `req.headers` keeps only the first of several
 * Authorization headers, so an IncomingMessage is read through `headersDistinct`, which keeps them all.
 */
function readAuthorizationHeader(source) {
  if (source === null || source === undefined || typeof source !== 'object') return { value: undefined }
  const distinct = source.headersDistinct
  if (distinct !== null && typeof distinct === 'object') return headerFromRecord(distinct)
  if (typeof source.get === 'function' && !('headers' in source)) {
    const v = source.get('authorization')
    return { value: typeof v === 'string' ? v : undefined }
  }
  if ('headers' in source && source.headers && typeof source.headers === 'object') return readAuthorizationHeader(source.headers)
  return headerFromRecord(source)
}

/** `Bearer <token>` (scheme case-insensitive, surrounding whitespace trimmed) → the token; throws M2MAuthError. */
function bearerToken(source) {
  const { value, duplicate } = readAuthorizationHeader(source)
  if (duplicate) throw new M2MAuthError('invalid', 'More than one Authorization header was sent.', { reason: 'duplicate-header' })
  if (value === undefined) throw new M2MAuthError('missing', 'No Authorization header.', { reason: 'no-header' })
  const trimmed = value.trim()
  if (trimmed === '') throw new M2MAuthError('missing', 'The Authorization header is empty.', { reason: 'no-header' })
  const m = /^(\S+)(?:\s+([\s\S]*))?$/.exec(trimmed)
  const scheme = m ? m[1] : ''
  const rest = m && m[2] !== undefined ? m[2].trim() : ''
  if (scheme.toLowerCase() !== 'bearer') throw new M2MAuthError('missing', 'The Authorization header does not use the Bearer scheme.', { reason: 'other-scheme' })
  if (rest === '') throw new M2MAuthError('missing', 'The Authorization header has no token after "Bearer".', { reason: 'no-token' })
  if (/\s/.test(rest)) throw new M2MAuthError('invalid', 'The Authorization header holds more than one value after "Bearer".', { reason: 'malformed-header' })
  return rest
}

module.exports = { bearerToken }
