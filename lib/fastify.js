'use strict'
// clerk-m2m-native/fastify: machine auth for Fastify 5 (an optional peer dependency; nothing of
// Fastify is loaded here).
//
//   await app.register(machineAuthPlugin, { receiver: 'orders-api' })
//   app.post('/jobs', { onRequest: requireMachine({ allow: ['worker'] }) }, async (request) => ({ from: request.machine.machineId }))
//
// The plugin authenticates every request in a hook of its own (`onRequest` by default) with one
// verifier, built at the first request, and never rejects: `request.machineAuth` is the whole
// result, `request.machine` the machine or null. `requireMachine(options)` is a route hook that
// answers every failure (see machineAuthErrorResponse) and applies the route's own `allow`,
// `requireScope` and `acceptsToken`.

const { argValueError } = require('./guards.js')
const { createMachineGate, getMachine } = require('./machine-gate.js')
const { routeRules, admitMachine } = require('./machine-auth.js')

const PLUGIN_NAME = 'clerk-m2m-native'
const HOOK_NAMES = ['onRequest', 'preParsing', 'preValidation', 'preHandler']
/** Where the plugin keeps its gate on the Fastify instance, for requireMachine's hooks (`this`). */
const kGate = Symbol('clerk-m2m-native.gate')

function reject(reply, { status, headers, body }) {
  return reply.code(status).headers(headers).send(body)
}

/**
 * The plugin. Options: those of createMachineAuthenticator (`acceptsToken` — the union of what
 * the routes accept —, `receiver`, keys, `timeoutMs`, `env`…), `realm`, `onError(error, request)`,
 * and `hookName` (`onRequest` default, `preParsing`, `preValidation` or `preHandler`). Decorates
 * requests with `machine` and `machineAuth`, and the instance with `machineAuthenticator.stats()`.
 */
function machineAuthPlugin(fastify, options, done) {
  try {
    register(fastify, options)
  } catch (e) {
    // A plugin reports through `done`: Fastify then fails `ready()`/`listen()` with it (a second
    // registration, for one, finds the decorations already there).
    done(e)
    return
  }
  done()
}

function register(fastify, options) {
  const { hookName = 'onRequest', ...gateOptions } = options && typeof options === 'object' ? options : {}
  if (!HOOK_NAMES.includes(hookName)) {
    throw argValueError(`machineAuthPlugin: hookName must be one of ${HOOK_NAMES.join(', ')}`)
  }
  const gate = createMachineGate(gateOptions, 'machineAuthPlugin')
  fastify.decorateRequest('machine', null)
  fastify.decorateRequest('machineAuth', null)
  fastify.decorate(kGate, gate)
  fastify.decorate('machineAuthenticator', { stats: gate.stats })
  fastify.addHook(hookName, async function authenticateMachine(request) {
    // The raw IncomingMessage: its headersDistinct shows a second Authorization header.
    const { auth, machine } = await gate.check(request.raw)
    request.machineAuth = auth
    request.machine = machine
  })
  fastify.addHook('onClose', (instance, closed) => {
    gate.close()
    closed()
  })
}

// fastify-plugin's conventions, set directly (they are all it would add, and it would be one more
// package to install): no encapsulation, so the decorations and the hook reach every route.
machineAuthPlugin[Symbol.for('skip-override')] = true
machineAuthPlugin[Symbol.for('fastify.display-name')] = PLUGIN_NAME
machineAuthPlugin[Symbol.for('plugin-meta')] = { name: PLUGIN_NAME, fastify: '5.x' }

/**
 * A route hook (`onRequest`, `preHandler`…, after the plugin's) that lets only authenticated
 * machines through. Options: `allow` (service names or machine ids, or a predicate),
 * `requireScope`, and `acceptsToken` (default `'m2m_token'`, among what the plugin accepts).
 * On success `request.machine` is set (with `service` for a matching `allow` entry).
 */
function requireMachine(options) {
  const rules = routeRules(options, 'requireMachine')
  return async function requireMachineHook(request, reply) {
    const gate = this && this[kGate]
    const auth = request.machineAuth
    if (gate === undefined || gate === null || auth === null || auth === undefined) {
      // The application's wiring, not the caller: Fastify's error handler logs it and answers 500.
      throw new Error('requireMachine needs machineAuthPlugin: `await app.register(machineAuthPlugin, options)` first, with a hookName that runs before this hook.')
    }
    if (!auth.isAuthenticated) return reject(reply, gate.answer(auth.error, request))
    try {
      request.machine = await admitMachine(request.machine, rules, gate.machineIdOf)
    } catch (e) {
      return reject(reply, gate.answer(e, request))
    }
  }
}

module.exports = { machineAuthPlugin, requireMachine, getMachine }
