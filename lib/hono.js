'use strict'
// clerk-m2m-native/hono: machine auth for Hono 4 on Node.js (@hono/node-server; the native addon
// cannot run on Workers or other edge runtimes). Nothing of Hono is loaded here.
//
//   app.use('/jobs/*', requireMachine({ receiver: 'orders-api', allow: ['worker'] }))
//   app.post('/jobs', (c) => c.json({ from: c.get('machine').machineId }))
//
// Each middleware builds one verifier, at its first request, and reuses it.

const { createMachineGate } = require('./machine-gate.js')

/**
 * The request to read the Authorization header from: under @hono/node-server the Node
 * IncomingMessage (`c.env.incoming`, whose headersDistinct shows a second Authorization header),
 * else the Fetch Request.
 */
function sourceOf(c) {
  const incoming = c.env && typeof c.env === 'object' ? c.env.incoming : undefined
  return incoming && typeof incoming === 'object' && incoming.headersDistinct ? incoming : c.req.raw
}

/** The middleware over a gate: records the result in the context, then answers a failure (`rejects`) or goes on. */
function middleware(gate, rejects) {
  async function machineMiddleware(c, next) {
    const { auth, machine } = await gate.check(sourceOf(c))
    c.set('machineAuth', auth)
    c.set('machine', machine)
    if (rejects && machine === null) {
      const { status, headers, body } = gate.answer(auth.error, c)
      return c.json(body, status, headers)
    }
    await next()
  }
  return gate.withStats(machineMiddleware)
}

/**
 * Middleware that lets only authenticated machines through: on success `c.get('machine')` is the
 * machine and `c.get('machineAuth')` the whole result; on failure it answers with
 * machineAuthErrorResponse's status, headers and JSON body. Options: those of
 * createMachineAuthenticator (`acceptsToken`, `allow`, `requireScope`, `receiver`, keys,
 * `timeoutMs`, `env`…), `realm`, `onError(error, c)`. `.stats()` gives the verifier's counters.
 */
function requireMachine(options) {
  return middleware(createMachineGate(options, 'requireMachine'), true)
}

/** Middleware that never rejects: `c.get('machineAuth')` is the whole result, `c.get('machine')` the machine or null. */
function machineAuth(options) {
  return middleware(createMachineGate(options, 'machineAuth'), false)
}

module.exports = { requireMachine, machineAuth }
