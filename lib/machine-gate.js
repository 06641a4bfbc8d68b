'use strict'
// What every framework adapter shares: its options split between the authenticator and the
// answer (`realm`, `onError`), one authenticator — so one verifier — per adapter instance, and the
// HTTP answer to a failure (lib/auth-response.js, the one table). The adapters only move these in
// and out of their framework's request and response.

const { argTypeError } = require('./guards.js')
const { createMachineAuthenticator, machineFromResult } = require('./request-auth.js')
const { machineAuthErrorResponse, checkRealm } = require('./auth-response.js')
const { resolveMachineId } = require('./service-env.js')

/**
 * A gate for `where` (the adapter function's name, for error messages). Throws at once for options
 * that cannot work (`realm`, `onError`, `acceptsToken`, `allow`, `requireScope`).
 */
function createMachineGate(options, where) {
  const { realm, onError, ...authOptions } = options && typeof options === 'object' ? options : {}
  checkRealm(realm)
  if (onError !== undefined && typeof onError !== 'function') {
    throw argTypeError(`${where}: onError must be a function`)
  }
  const authenticator = createMachineAuthenticator(authOptions, where)
  return {
    /** `{ auth, machine }`: the whole result, and the machine (null when not authenticated). Never rejects. */
    async check(source) {
      const auth = await authenticator.authenticate(source)
      return { auth, machine: auth.isAuthenticated ? machineFromResult(auth) : null }
    },
    /** The answer to a failure (`onError` hears of it first, with the framework's request). */
    answer(error, request) {
      if (onError !== undefined) onError(error, request)
      return machineAuthErrorResponse(error, { realm })
    },
    /** A service name's machine id, read where this adapter reads its environment. */
    machineIdOf: (entry) => resolveMachineId(entry, authenticator.policy.options),
    stats: () => authenticator.stats(),
    close: () => authenticator.close(),
    /** `handler` with `.stats()`, the counters of this gate's verifier. */
    withStats(handler) {
      handler.stats = () => authenticator.stats()
      return handler
    },
  }
}

/** The machine requireMachine put on a request (Express `req`, Fastify `request`); throws when there is none. */
function getMachine(request) {
  const machine = request && request.machine
  if (!machine) {
    const e = new Error('No authenticated machine on this request: put requireMachine() in front of this handler.')
    e.code = 'ERR_CLERK_M2M_NO_MACHINE'
    throw e
  }
  return machine
}

module.exports = { createMachineGate, getMachine }
