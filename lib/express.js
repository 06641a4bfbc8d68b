'use strict'
// clerk-m2m-native/express: machine auth for Express 4 and 5 (an optional peer dependency; nothing
// of Express is loaded here — the middleware only uses `req.headers` and res.status/set/json).
//
//   app.post('/jobs', requireMachine({ receiver: 'orders-api', allow: ['worker'] }), (req, res) => {
//     res.json({ from: req.machine.machineId })
//   })
//
// Each middleware builds one verifier, at its first request, and reuses it.

const { createMachineGate, getMachine } = require('./machine-gate.js')

function send(res, { status, headers, body }) {
  res.status(status).set(headers).json(body)
}

/** The middleware over a gate: records the result on `req`, then answers a failure (`rejects`) or goes on. */
function middleware(gate, rejects) {
  function machineMiddleware(req, res, next) {
    gate
      .check(req)
      .then(({ auth, machine }) => {
        req.machineAuth = auth
        req.machine = machine
        if (rejects && machine === null) send(res, gate.answer(auth.error, req))
        else next()
      })
      .catch(next)
  }
  return gate.withStats(machineMiddleware)
}

/**
 * Middleware that lets only authenticated machines through: on success `req.machine` is the
 * machine and `req.machineAuth` the whole result; on failure it answers itself (401, 403, 429, 500
 * or 503 with the RFC 6750 headers and a JSON body, see machineAuthErrorResponse). Options: those of
 * createMachineAuthenticator (`acceptsToken`, `allow`, `requireScope`, `receiver`, keys,
 * `timeoutMs`, `env`…), `realm`, and `onError(error, req)` to hear of every failure (e.g. to log
 * it). `.stats()` gives the verifier's counters.
 */
function requireMachine(options) {
  return middleware(createMachineGate(options, 'requireMachine'), true)
}

/**
 * Middleware that never rejects: `req.machineAuth` is the whole result (`isAuthenticated`,
 * `tokenType`, `machineId`…, `error`) and `req.machine` the machine or null, for routes that
 * decide themselves. Options as requireMachine's.
 */
function machineAuth(options) {
  return middleware(createMachineGate(options, 'machineAuth'), false)
}

module.exports = { requireMachine, machineAuth, getMachine }
