'use strict'
// clerk-m2m-native/trpc: machine auth for tRPC v11 (`@trpc/server`, an optional peer dependency).
//
//   const createContext = createM2MContext({ receiver: 'trpc' })
//   const t = initTRPC.context<typeof createContext>().create()
//   const webhookProcedure = t.procedure.use(requireMachine({ allow: ['webhook'] }))
//
// The context factory never throws: it records who called (`machine`) or why
// not (`m2mError`). The middleware decides, mapping failures to tRPC codes:
// UNAUTHORIZED (missing, invalid, expired, revoked token), FORBIDDEN
// (wrong-machine, not-in-scope, not in `allow`, scope missing),
// TOO_MANY_REQUESTS (the Clerk Backend API answered 429), SERVICE_UNAVAILABLE
// (network, timeout, 5xx) and INTERNAL_SERVER_ERROR (receiver misconfigured).
// Messages sent to the client are generic; the M2MAuthError is the `cause`.

const { authenticateM2MRequest, M2MAuthError, resolveMachineId } = require('./console.js')

let trpcServer
/**
 * Uses the given `@trpc/server` module: the ESM entry (trpc.mjs) passes the ESM
 * build, so the TRPCError thrown here is the class ESM applications import
 * (`instanceof` holds on both sides of the dual package).
 */
function useTrpcServer(mod) {
  if (mod && typeof mod.TRPCError === 'function') trpcServer = mod
}

function loadTrpc() {
  if (trpcServer === undefined) {
    try {
      trpcServer = require('@trpc/server')
    } catch (e) {
      throw new Error('clerk-m2m-native/trpc needs @trpc/server v11: npm install @trpc/server@^11', { cause: e })
    }
    if (typeof trpcServer.TRPCError !== 'function') throw new Error('clerk-m2m-native/trpc needs @trpc/server v11 (TRPCError not found)')
  }
  return trpcServer
}

/** The request-ish object of any adapter: `{ req }` (standalone, Express, Next, fetch), a Request, or headers. */
function requestOf(adapterOpts) {
  if (adapterOpts && typeof adapterOpts === 'object' && 'req' in adapterOpts && adapterOpts.req) return adapterOpts.req
  return adapterOpts
}

/** What a procedure learns about the machine that called it (the raw token is deliberately left out). */
function machineFrom(auth) {
  return {
    tokenType: 'm2m_token',
    id: auth.id,
    machineId: auth.machineId,
    subject: auth.subject,
    scopes: auth.scopes,
    claims: auth.claims,
    expiration: auth.expiration,
    service: null,
  }
}

/**
 * A tRPC context factory for any adapter; never throws. Options are those of
 * `authenticateM2MRequest` (`receiver`, `receiverMachineId`, `expectedService`,
 * `secretKey`, `jwtKey`, `machineSecretKey`, `apiUrl`, `timeoutMs`, `env`) plus
 * `lazy` (verify on first use by a `requireMachine` procedure instead of on
 * every request). The context is `{ machine, m2mError, m2m }`: `machine` is
 * set when the call was authenticated, `m2mError` holds the M2MAuthError
 * otherwise (both `undefined` until first use when `lazy`), and `m2m` is what
 * `requireMachine` uses.
 */
function createM2MContext(options) {
  const o = options && typeof options === 'object' ? { ...options } : {}
  const lazy = Boolean(o.lazy)
  delete o.lazy
  return async function createContext(adapterOpts) {
    let pending
    const authenticate = () => {
      if (pending === undefined) {
        // Even a hostile adapter object (a throwing getter) only ends up in `m2mError`.
        let request
        try {
          request = requestOf(adapterOpts)
        } catch (e) {
          request = { headers: { get authorization() { throw e } } }
        }
        pending = authenticateM2MRequest(request, o)
      }
      return pending
    }
    const ctx = {
      machine: undefined,
      m2mError: undefined,
      m2m: {
        authenticate,
        machineIdOf: (service) => resolveMachineId(service, o),
      },
    }
    if (!lazy) {
      const auth = await authenticate()
      ctx.machine = auth.isAuthenticated ? machineFrom(auth) : null
      ctx.m2mError = auth.error
    }
    return ctx
  }
}

const UNAUTHORIZED_CODES = new Set(['missing', 'invalid', 'expired', 'revoked'])
const FORBIDDEN_CODES = new Set(['wrong-machine', 'not-in-scope'])

/** The tRPC error for an M2MAuthError (anything else is an internal failure), with a generic message and the error as `cause`. */
function trpcErrorFor(error) {
  const { TRPCError } = loadTrpc()
  const err = error instanceof M2MAuthError ? error : new M2MAuthError('unavailable', 'Machine authentication failed unexpectedly.', { cause: error, reason: 'internal' })
  if (UNAUTHORIZED_CODES.has(err.code)) return new TRPCError({ code: 'UNAUTHORIZED', message: 'Machine authentication required.', cause: err })
  if (FORBIDDEN_CODES.has(err.code)) return new TRPCError({ code: 'FORBIDDEN', message: 'This machine may not call this procedure.', cause: err })
  if (err.apiStatus === 429) return new TRPCError({ code: 'TOO_MANY_REQUESTS', message: 'Machine authentication is rate limited; retry later.', cause: err })
  if (err.reason === 'misconfigured' || err.reason === 'internal') {
    return new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'Machine authentication is not configured correctly.', cause: err })
  }
  return new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: 'Machine authentication is temporarily unavailable.', cause: err })
}

function listOf(value) {
  if (value === undefined || value === null) return []
  return Array.isArray(value) ? value : [value]
}

/**
 * Middleware for `t.procedure.use(requireMachine({ allow, requireScope }))`.
 * - `allow`: service names (resolved with CLERK_M2M_MACHINE_ID_<SERVICE>) or
 *   machine ids (mch_…), or a predicate `(machine) => boolean`; omitted = any
 *   authenticated machine.
 * - `requireScope`: machine ids or service names that must all be among the
 *   token's scopes.
 * On success the procedure's context has `machine` (non-null, with `service`
 * set to the matching `allow` entry) and `m2mError: null`.
 */
function requireMachine(options) {
  const o = options && typeof options === 'object' ? options : {}
  const allow = o.allow
  if (allow !== undefined && typeof allow !== 'function' && !Array.isArray(allow) && typeof allow !== 'string') {
    const e = new TypeError('requireMachine: allow must be a list of service names or machine ids, or a function')
    e.code = 'ERR_INVALID_ARG_TYPE'
    throw e
  }
  const requiredScopes = listOf(o.requireScope)
  loadTrpc()

  return async function requireMachineMiddleware(opts) {
    const { ctx, next } = opts
    const helper = ctx && ctx.m2m
    if (!helper || typeof helper.authenticate !== 'function') {
      const { TRPCError } = loadTrpc()
      throw new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'requireMachine needs a context created by createM2MContext().' })
    }
    const auth = await helper.authenticate()
    if (!auth.isAuthenticated) throw trpcErrorFor(auth.error)
    const machine = machineFrom(auth)

    const resolve = (entry) => helper.machineIdOf(entry)
    try {
      if (typeof allow === 'function') {
        if (!(await allow(machine))) throw new M2MAuthError('wrong-machine', `Machine ${machine.machineId} is not allowed to call this procedure.`)
      } else if (allow !== undefined) {
        const entries = listOf(allow)
        const match = entries.find((entry) => resolve(entry) === machine.machineId)
        if (match === undefined) {
          throw new M2MAuthError('wrong-machine', `Machine ${machine.machineId} is not one of: ${entries.join(', ')}.`)
        }
        machine.service = match.startsWith('mch_') ? null : match
      }
      for (const scope of requiredScopes) {
        if (!machine.scopes.includes(resolve(scope))) {
          throw new M2MAuthError('not-in-scope', `The token's scopes do not include ${scope}.`)
        }
      }
    } catch (e) {
      if (e instanceof M2MAuthError) throw trpcErrorFor(e)
      // A service name without its CLERK_M2M_MACHINE_ID_<SERVICE>: the server's configuration, not the caller.
      throw trpcErrorFor(new M2MAuthError('unavailable', e.message, { cause: e, reason: 'misconfigured' }))
    }
    return next({ ctx: { machine, m2mError: null } })
  }
}

module.exports = { createM2MContext, requireMachine, trpcErrorFor, useTrpcServer }
