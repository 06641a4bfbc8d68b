'use strict'
// clerk-m2m-native/next: machine auth for Next.js App Router route handlers on the Node.js runtime
// (`export const runtime = 'nodejs'`; the native addon cannot run on the Edge runtime). Only the
// Fetch Request/Response contract is used; nothing of Next.js is loaded here.
//
//   export const POST = withMachine(async (request, context, machine) => Response.json({ from: machine.machineId }), { allow: ['worker'] })
//
// Each wrapped handler builds one verifier, at its first request, and reuses it.

const { argTypeError } = require('./guards.js')
const { createMachineGate } = require('./machine-gate.js')

/**
 * Wraps a route handler `(request, context, machine) => Response`: it runs only for an
 * authenticated machine; every failure is answered with machineAuthErrorResponse's status, headers
 * and JSON body. Options: those of createMachineAuthenticator (`acceptsToken`, `allow`,
 * `requireScope`, `receiver`, keys, `timeoutMs`, `env`…), `realm`, `onError(error, request)`.
 * The wrapped handler's `.stats()` gives the verifier's counters.
 */
function withMachine(handler, options) {
  if (typeof handler !== 'function') {
    throw argTypeError('withMachine: the first argument must be the route handler, (request, context, machine) => Response')
  }
  const gate = createMachineGate(options, 'withMachine')
  async function routeHandler(request, context) {
    const { auth, machine } = await gate.check(request)
    if (machine === null) {
      const { status, headers, body } = gate.answer(auth.error, request)
      return Response.json(body, { status, headers })
    }
    return handler(request, context, machine)
  }
  return gate.withStats(routeHandler)
}

module.exports = { withMachine }
