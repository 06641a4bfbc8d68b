'use strict'
// Verification of a machine token for a receiver: which token types it accepts (`acceptsToken`),
// the drop-in verification, then the checks the drop-in functions leave to the caller — the
// Backend API's `revoked`/`expired` flags, who sent the token (`allow`, by service name through the
// environment conventions) and that an M2M token was issued for this receiver (its machine id among
// the token's scopes). Every failure is an M2MAuthError.

const { argTypeError } = require('./guards.js')
const { verifyMachineAuthToken } = require('./verify.js')
const { getMachineTokenType } = require('./detect.js')
const { InvalidOptionsError } = require('./errors.js')
const { TokenType, M2M_SUBJECT_PREFIX } = require('./constants.js')
const { resolveMachineId, receiverMachineIdOf, receiverKeys } = require('./service-env.js')
const { M2MAuthError, toAuthError, configurationError } = require('./auth-error.js')

/** The token types a receiver can accept, in the order `'any'` lists them. */
const MACHINE_TOKEN_TYPES = Object.freeze([TokenType.M2MToken, TokenType.ApiKey, TokenType.OAuthToken])
/** The verifier's default clock skew: a clock ahead of Clerk's must not reject a token early. */
const DEFAULT_SKEW_MS = 5000

const TYPE_NAMES = {
  [TokenType.M2MToken]: 'an M2M token (opaque mt_… or an M2M JWT)',
  [TokenType.ApiKey]: 'an API key (ak_…)',
  [TokenType.OAuthToken]: 'an OAuth access token (oat_… or an OAuth JWT)',
}

function listOf(value) {
  if (value === undefined || value === null) return []
  return Array.isArray(value) ? value : [value]
}

/**
 * `acceptsToken` as in Clerk's SDKs — `'m2m_token'` (default), `'api_key'`, `'oauth_token'`, a
 * list of them, or `'any'` — as a frozen list; throws InvalidOptionsError for anything else.
 */
function acceptedTypes(acceptsToken) {
  if (acceptsToken === undefined || acceptsToken === null) return Object.freeze([TokenType.M2MToken])
  if (acceptsToken === 'any') return MACHINE_TOKEN_TYPES
  const list = listOf(acceptsToken)
  if (list.length === 0) throw new InvalidOptionsError('acceptsToken must name at least one token type')
  for (const t of list) {
    if (t === TokenType.SessionToken) throw new InvalidOptionsError('acceptsToken: session tokens are user sessions, not machine tokens; verify them with @clerk/backend')
    if (!MACHINE_TOKEN_TYPES.includes(t)) {
      throw new InvalidOptionsError(`acceptsToken must be 'm2m_token', 'api_key', 'oauth_token', a list of them, or 'any' (got ${JSON.stringify(String(t)).slice(0, 40)})`)
    }
  }
  return Object.freeze(MACHINE_TOKEN_TYPES.filter((t) => list.includes(t)))
}

/** Checks the shape of `allow` and `requireScope` (their names are resolved per request, from the environment). */
function checkRules({ allow, requireScope }, where) {
  const strings = (v) => listOf(v).every((x) => typeof x === 'string')
  if (allow !== undefined && allow !== null && typeof allow !== 'function' && !strings(allow)) {
    throw argTypeError(`${where}: allow must be a service name or machine id, a list of them, or a function`)
  }
  if (!strings(requireScope)) {
    throw argTypeError(`${where}: requireScope must be a service name or machine id, or a list of them`)
  }
}

/**
 * What a receiver requires of a token, read once from its options: the accepted types, the
 * senders (`allow`, or `expectedService` as the console functions call it), required scopes.
 * Throws InvalidOptionsError or TypeError for options that cannot work.
 */
function machinePolicy(options, where) {
  const o = options && typeof options === 'object' ? options : {}
  checkRules(o, where)
  if (!listOf(o.expectedService).every((x) => typeof x === 'string')) throw new InvalidOptionsError('expectedService must be a service name or a list of them')
  const skew = o.clockSkewInMs
  return {
    options: o,
    accepted: acceptedTypes(o.acceptsToken),
    rules: { allow: o.allow ?? o.expectedService, requireScope: o.requireScope },
    skewMs: typeof skew === 'number' && Number.isFinite(skew) && skew >= 0 ? skew : DEFAULT_SKEW_MS,
  }
}

/** The type a token presents by its form (prefix, JWT `sub`/`typ`), or undefined when it is no machine token. */
function presentedType(token) {
  try {
    return getMachineTokenType(token)
  } catch {
    return undefined
  }
}

/** The token's type when it is accepted; throws `invalid` (`wrong-type`) otherwise, before any key or network work. */
function acceptedTypeOf(token, accepted) {
  const type = presentedType(token)
  if (type === undefined) {
    throw new M2MAuthError('invalid', `Not a machine token this receiver accepts: expected ${accepted.map((t) => TYPE_NAMES[t]).join(' or ')}.`, { reason: 'wrong-type' })
  }
  if (!accepted.includes(type)) {
    throw new M2MAuthError('invalid', `A token of type ${type} is not accepted here (accepted: ${accepted.join(', ')}).`, { reason: 'wrong-type' })
  }
  return type
}

/** What a handler learns about the machine that called (the raw token is deliberately left out). */
function machineOf(data, tokenType) {
  return {
    tokenType,
    id: data.id,
    subject: data.subject,
    machineId: tokenType === TokenType.M2MToken ? data.subject : null,
    scopes: Array.isArray(data.scopes) ? data.scopes : [],
    claims: data.claims ?? null,
    expiration: data.expiration ?? null,
    service: null,
  }
}

/**
 * Whether a verified machine may make this request: `allow` (service names or machine ids, or a
 * predicate) and `requireScope` (machine ids or service names that must all be among the token's
 * scopes); `machineIdOf` turns an entry into a machine id (service names through
 * CLERK_M2M_MACHINE_ID_<SERVICE>). Listed senders are machines, so a token that is not an M2M token
 * never matches a list; a predicate sees every token type. Resolves the machine with `service` set
 * to the matching `allow` entry; throws `wrong-machine`, `not-in-scope`, or
 * `unavailable`/`misconfigured` when the receiver's own configuration is at fault.
 */
async function authorizeMachine(machine, rules, machineIdOf) {
  const { allow, requireScope } = rules
  try {
    let service = machine.service
    if (typeof allow === 'function') {
      if (!(await allow(machine))) throw new M2MAuthError('wrong-machine', `The ${machine.tokenType} of ${machine.subject} is not allowed to make this request.`)
    } else if (allow !== undefined && allow !== null) {
      const entries = listOf(allow)
      const ids = entries.map(machineIdOf)
      const at = machine.machineId === null ? -1 : ids.indexOf(machine.machineId)
      if (at < 0) {
        const who = machine.machineId === null ? `A token of type ${machine.tokenType}` : `Machine ${machine.machineId}`
        throw new M2MAuthError('wrong-machine', `${who} is not one of: ${entries.join(', ')}.`)
      }
      service = entries[at].startsWith(M2M_SUBJECT_PREFIX) ? null : entries[at]
    }
    for (const scope of listOf(requireScope)) {
      if (!machine.scopes.includes(machineIdOf(scope))) {
        throw new M2MAuthError('not-in-scope', `The token's scopes do not include ${scope}.`)
      }
    }
    return service === machine.service ? machine : { ...machine, service }
  } catch (e) {
    // A name without its CLERK_M2M_MACHINE_ID_<SERVICE>, a throwing predicate: the receiver, not the caller.
    throw configurationError(e)
  }
}

/**
 * A route's (or a tRPC procedure's) own requirements of an already authenticated machine: the
 * token types it accepts (default M2M tokens only), `allow`, `requireScope`. Throws for options
 * that cannot work.
 */
function routeRules(options, where) {
  const o = options && typeof options === 'object' ? options : {}
  checkRules(o, where)
  return { accepted: acceptedTypes(o.acceptsToken ?? TokenType.M2MToken), allow: o.allow, requireScope: o.requireScope }
}

/** Admits an authenticated machine under a route's rules: its token type (`invalid`, `wrong-type`), then authorizeMachine. */
async function admitMachine(machine, rules, machineIdOf) {
  if (!rules.accepted.includes(machine.tokenType)) {
    throw new M2MAuthError('invalid', `A token of type ${machine.tokenType} is not accepted here (accepted: ${rules.accepted.join(', ')}).`, { reason: 'wrong-type' })
  }
  return authorizeMachine(machine, rules, machineIdOf)
}

/**
 * Verifies `token` under `policy` with `verify` (a drop-in verification: `(token) => Promise<{ data,
 * tokenType, errors }>`). Resolves `{ data, machine }` (`data` the verified resource); throws an
 * M2MAuthError: `missing`, `invalid` (malformed, wrong type, bad signature, unknown…), `expired`,
 * `revoked`, `wrong-machine`, `not-in-scope`, or `unavailable` (Backend API down, rate limited,
 * timed out, or the receiver misconfigured).
 */
async function verifyMachineToken(token, policy, verify) {
  if (token === undefined || token === null || token === '') throw new M2MAuthError('missing', 'No token was presented.')
  if (typeof token !== 'string') throw new M2MAuthError('invalid', 'The token must be a string.', { reason: 'malformed' })
  const tokenType = acceptedTypeOf(token, policy.accepted)

  let receiverId
  try {
    receiverId = tokenType === TokenType.M2MToken ? receiverMachineIdOf(policy.options) : undefined
  } catch (e) {
    throw configurationError(e)
  }
  let result
  try {
    result = await verify(token)
  } catch (e) {
    throw toAuthError(e)
  }
  if (result.errors) throw toAuthError(result.errors[0])
  const data = result.data
  if (!data || typeof data !== 'object' || typeof data.subject !== 'string') {
    throw new M2MAuthError('invalid', 'The Clerk Backend API did not describe a token.', { reason: 'malformed' })
  }
  // The API's flags, and the expiry itself with the verifier's clock skew.
  if (data.revoked === true) throw new M2MAuthError('revoked', 'The token has been revoked.', { reason: 'revoked' })
  if (data.expired === true || (typeof data.expiration === 'number' && data.expiration <= Date.now() - policy.skewMs)) {
    throw new M2MAuthError('expired', 'The token has expired.', { reason: 'expired' })
  }
  let machine = machineOf(data, tokenType)
  if (receiverId !== undefined && !machine.scopes.includes(receiverId)) {
    throw new M2MAuthError('not-in-scope', `The M2M token was not issued for this receiver (${receiverId} is not among its scopes).`)
  }
  machine = await authorizeMachine(machine, policy.rules, (entry) => resolveMachineId(entry, policy.options))
  return { data, machine }
}

/** The drop-in verification with a receiver's keys, read from its options and environment at each call. */
function verifyPerCall(options) {
  return (token) => verifyMachineAuthToken(token, receiverKeys(options))
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
  let policy
  try {
    policy = machinePolicy({ ...o, acceptsToken: TokenType.M2MToken, allow: undefined, requireScope: undefined }, 'verifyM2MToken')
  } catch (e) {
    throw configurationError(e)
  }
  return (await verifyMachineToken(token, policy, verifyPerCall(o))).data
}

module.exports = {
  machinePolicy,
  presentedType,
  verifyMachineToken,
  routeRules,
  admitMachine,
  verifyPerCall,
  verifyM2MToken,
}
