'use strict'
// Request authentication, framework-free: the Bearer token of a request, verified for a receiver
// (lib/machine-auth.js), as a result that never throws. The framework adapters, the tRPC helper and
// the console functions all authenticate through here.

const { createM2MVerifier } = require('./verify.js')
const { TokenType } = require('./constants.js')
const { receiverKeys } = require('./service-env.js')
const { toAuthError, configurationError } = require('./auth-error.js')
const { bearerToken } = require('./bearer.js')
const { machinePolicy, presentedType, verifyMachineToken, verifyPerCall } = require('./machine-auth.js')

/** The result for an authenticated machine: its description (lib/machine-auth.js machineOf) with the flags. */
function authenticated(machine) {
  return { isAuthenticated: true, ...machine, error: null }
}

/** The result for a request that was not authenticated; `tokenType` is the presented token's type when it has one. */
function unauthenticated(error, tokenType) {
  return { isAuthenticated: false, tokenType, id: null, subject: null, machineId: null, scopes: null, claims: null, expiration: null, service: null, error }
}

/** The machine of an authenticated result (the result without its flags). */
function machineFromResult(auth) {
  const { isAuthenticated, error, ...machine } = auth
  return machine
}

async function authenticateWith(source, policy, verify) {
  let token
  try {
    token = bearerToken(source)
    return authenticated((await verifyMachineToken(token, policy, verify)).machine)
  } catch (e) {
    return unauthenticated(toAuthError(e), typeof token === 'string' ? (presentedType(token) ?? null) : null)
  }
}

/**
 * A request authenticator for one receiver: its options are read once, and its verifier is built
 * once, at the first request (so environment variables loaded after start-up still count), and
 * reused for every request after. `authenticate(requestOrHeaders)` never throws.
 * Throws at once for options that cannot work (`acceptsToken`, `allow`, `requireScope`).
 */
function createMachineAuthenticator(options, where = 'createMachineAuthenticator') {
  const policy = machinePolicy(options, where)
  let verifier = null
  let closed = false
  const verifierOf = () => {
    if (closed) {
      const e = new Error('This authenticator is closed.')
      e.code = 'verifier-closed'
      throw e
    }
    if (verifier === null) verifier = createM2MVerifier(receiverKeys(policy.options))
    return verifier
  }
  const verify = (token) => verifierOf().verify(token)
  return {
    /** The options it was built with, read once: accepted types and authorization rules. */
    policy,
    /** `{ isAuthenticated, tokenType, id, subject, machineId, scopes, claims, expiration, service, error }`; never throws. */
    authenticate: (requestOrHeaders) => authenticateWith(requestOrHeaders, policy, verify),
    /** The verified machine for a bare token; throws an M2MAuthError. */
    verifyToken: async (token) => (await verifyMachineToken(token, policy, verify)).machine,
    /** The verifier's own counters (lib/verify.js): `reused`, `local`, `remote`, outcomes by type × code. */
    stats: () => verifierOf().stats(),
    /** Releases the verifier; later requests fail as `unavailable` (`internal`). */
    close() {
      closed = true
      if (verifier !== null) verifier.close()
    },
  }
}

/**
 * Authenticates a request from any framework; never throws. `acceptsToken` is `'m2m_token'`
 * (default), `'api_key'`, `'oauth_token'`, a list, or `'any'`; `allow` and `requireScope` say who
 * may call (see authorizeMachine). Options and keys are read at each call; for a server, prefer
 * createMachineAuthenticator (one verifier, built once).
 */
async function authenticateMachineRequest(requestOrHeaders, options) {
  let policy
  try {
    policy = machinePolicy(options, 'authenticateMachineRequest')
  } catch (e) {
    return unauthenticated(configurationError(e), null)
  }
  return authenticateWith(requestOrHeaders, policy, verifyPerCall(policy.options))
}

/**
 * M2M tokens only, with the result of the first version: `{ isAuthenticated, tokenType:
 * 'm2m_token', id, machineId, subject, scopes, claims, expiration, error }`. Options are those of
 * verifyM2MToken.
 */
async function authenticateM2MRequest(requestOrHeaders, options) {
  const o = options && typeof options === 'object' ? options : {}
  const auth = await authenticateMachineRequest(requestOrHeaders, { ...o, acceptsToken: TokenType.M2MToken, allow: undefined, requireScope: undefined })
  const { id, machineId, subject, scopes, claims, expiration, error } = auth
  return { isAuthenticated: auth.isAuthenticated, tokenType: TokenType.M2MToken, id, machineId, subject, scopes, claims, expiration, error }
}

module.exports = { createMachineAuthenticator, authenticateMachineRequest, authenticateM2MRequest, machineFromResult }
