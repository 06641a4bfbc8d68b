// A Fastify receiver: the "orders" service (the same rules as examples/express). The plugin
// authenticates every request with one verifier; each route says who may call it.
//
// Environment (this service is the machine "orders"): CLERK_API_URL,
// CLERK_MACHINE_SECRET_KEY_ORDERS, CLERK_SECRET_KEY (or CLERK_JWT_KEY), CLERK_M2M_MACHINE_ID_ORDERS,
// CLERK_M2M_MACHINE_ID_WEBHOOK, CLERK_M2M_MACHINE_ID_WORKER.
import Fastify from 'fastify'
import { machineAuthPlugin, requireMachine } from 'clerk-m2m-native/fastify'

/** Starts the service on 127.0.0.1 (port 0 = any free port); resolves `{ url, close, events, log }`. */
export async function startServer({ env = process.env, port = 0, timeoutMs = 5000 } = {}) {
  const events = []
  const log = []
  const app = Fastify()
  await app.register(machineAuthPlugin, {
    receiver: 'orders',
    env,
    timeoutMs,
    onError: (e) => log.push(`${e.code}${e.reason ? ` (${e.reason})` : ''}: ${e.message}`),
  })

  app.get('/health', async () => ({ ok: true }))
  app.post('/webhooks/events', { onRequest: requireMachine({ allow: ['webhook'] }) }, async (request, reply) => {
    events.push({ type: request.body.type, from: request.machine.service })
    return reply.code(202).send({ accepted: true, from: request.machine.service })
  })
  app.post('/jobs/:id/result', { onRequest: requireMachine({ allow: ['webhook', 'worker'] }) }, async (request) => ({
    recorded: true,
    job: request.params.id,
    from: request.machine.service,
    machineId: request.machine.machineId,
  }))

  await app.listen({ port, host: '127.0.0.1' })
  return { url: `http://127.0.0.1:${app.server.address().port}`, events, log, close: () => app.close() }
}
