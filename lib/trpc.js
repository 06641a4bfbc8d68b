'use strict'
// clerk-m2m-native/trpc: machine auth for tRPC v11 (`@trpc/server`, an optional peer dependency).
//
//   const createContext = createM2MContext({ receiver: 'trpc' })
//   const t = initTRPC.context<typeof createContext>().create()
//   const webhookProcedure = t.procedure.use(requireMachine({ allow: ['webhook'] }))
//
// The context factory never throws: it records who called (`machine`) or why
// not (`m2mError`). The middleware decides, mapping failures to tRPC codes by
// the HTTP status of machineAuthErrorResponse (lib/auth-response.js, the one
// table every adapter uses): UNAUTHORIZED (401: missing, invalid, expired,
// revoked token, or a token type not accepted), FORBIDDEN (403: wrong-machine,
// not-in-scope, not in `allow`, scope missing), TOO_MANY_REQUESTS (429: the
// Clerk Backend API answered 429), SERVICE_UNAVAILABLE (503: network, timeout,
// 5xx) and INTERNAL_SERVER_ERROR (500: receiver misconfigured). Messages sent
// to the client are generic; the M2MAuthError is the `cause`.

const { resolveMachineId } = require('./service-env.js')
const { toAuthError } = require('./auth-error.js')
const { routeRules, admitMachine } = require('./machine-auth.js')
const { createMachineAuthenticator, machineFromResult } = require('./request-auth.js')
const { machineAuthErrorResponse } = require('./auth-response.js')

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

/**
 * A tRPC context factory for any adapter; the factory it returns never throws.
 * Options are those of `authenticateMachineRequest` (`acceptsToken` — default
 * `'m2m_token'` —, `receiver`, `receiverMachineId`, `expectedService`,
 * `secretKey`, `jwtKey`, `machineSecretKey`, `apiUrl`, `timeoutMs`, `env`) plus
 * `lazy` (verify on first use by a `requireMachine` procedure instead of on
 * every request). One verifier serves every request. The context is `{
 * machine, m2mError, m2m }`: `machine` is set when the call was authenticated,
 * `m2mError` holds the M2MAuthError otherwise (both `undefined` until first use
 * when `lazy`), and `m2m` is what `requireMachine` uses.
 */
function createM2MContext(options) {
  const o = options && typeof options === 'object' ? { ...options } : {}
  const lazy = Boolean(o.lazy)
  delete o.lazy
  const authenticator = createMachineAuthenticator(o)
  const machineIdOf = (service) => resolveMachineId(service, o)
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
        pending = authenticator.authenticate(request)
      }
      return pending
    }
    const ctx = {
      machine: undefined,
      m2mError: undefined,
      m2m: { authenticate, machineIdOf },
    }
    if (!lazy) {
      const auth = await authenticate()
      ctx.machine = auth.isAuthenticated ? machineFromResult(auth) : null
      ctx.m2mError = auth.error
    }
    return ctx
  }
}

/** tRPC's name for each status machineAuthErrorResponse answers with. */
const TRPC_CODE = { 401: 'UNAUTHORIZED', 403: 'FORBIDDEN', 429: 'TOO_MANY_REQUESTS', 500: 'INTERNAL_SERVER_ERROR', 503: 'SERVICE_UNAVAILABLE' }

/** The tRPC error for an M2MAuthError (anything else is an internal failure), with a generic message and the error as `cause`. */
function trpcErrorFor(error) {
  const { TRPCError } = loadTrpc()
  const err = toAuthError(error)
  const { status, body } = machineAuthErrorResponse(err)
  return new TRPCError({ code: TRPC_CODE[status], message: body.error.message, cause: err })
}

/**
 * Middleware for `t.procedure.use(requireMachine({ allow, requireScope, acceptsToken }))`.
 * - `allow`: service names (resolved with CLERK_M2M_MACHINE_ID_<SERVICE>) or
 *   machine ids (mch_…), or a predicate `(machine) => boolean`; omitted = any
 *   authenticated machine.
 * - `requireScope`: machine ids or service names that must all be among the
 *   token's scopes.
 * - `acceptsToken`: the token types this procedure accepts (default
 *   `'m2m_token'`), among those the context accepted.
 * On success the procedure's context has `machine` (non-null, with `service`
 * set to the matching `allow` entry) and `m2mError: null`.
 */
function requireMachine(options) {
  const rules = routeRules(options, 'requireMachine')
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
    let machine
    try {
      machine = await admitMachine(machineFromResult(auth), rules, helper.machineIdOf)
    } catch (e) {
      throw trpcErrorFor(e)
    }
    return next({ ctx: { machine, m2mError: null } })
  }
}

module.exports = { createM2MContext, requireMachine, trpcErrorFor, useTrpcServer }
