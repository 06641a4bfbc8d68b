// An Express receiver: the "orders" service. Webhook events may come from the webhook handler
// only; job results from the webhook handler or the worker.
//
// Environment (this service is the machine "orders"):
//   CLERK_API_URL, CLERK_MACHINE_SECRET_KEY_ORDERS (verifies opaque tokens), CLERK_SECRET_KEY (JWKS
//   for JWT tokens; or CLERK_JWT_KEY), CLERK_M2M_MACHINE_ID_ORDERS (tokens must be scoped to it),
//   CLERK_M2M_MACHINE_ID_WEBHOOK, CLERK_M2M_MACHINE_ID_WORKER (the allowed senders).
import express from 'express'
import { requireMachine } from 'clerk-m2m-native/express'

/** Starts the service on 127.0.0.1 (port 0 = any free port); resolves `{ url, close, events, log }`. */
export async function startServer({ env = process.env, port = 0, timeoutMs = 5000 } = {}) {
  const events = []
  const log = []
  // One middleware per rule; each builds its verifier once and reuses it.
  const base = { receiver: 'orders', env, timeoutMs, onError: (e) => log.push(`${e.code}${e.reason ? ` (${e.reason})` : ''}: ${e.message}`) }
  const fromWebhook = requireMachine({ ...base, allow: ['webhook'] })
  const fromAnySender = requireMachine({ ...base, allow: ['webhook', 'worker'] })

  const app = express()
  app.use(express.json())
  app.get('/health', (req, res) => res.json({ ok: true }))
  app.post('/webhooks/events', fromWebhook, (req, res) => {
    events.push({ type: req.body.type, from: req.machine.service })
    res.status(202).json({ accepted: true, from: req.machine.service })
  })
  app.post('/jobs/:id/result', fromAnySender, (req, res) => {
    res.json({ recorded: true, job: req.params.id, from: req.machine.service, machineId: req.machine.machineId })
  })

  const server = await new Promise((resolve, reject) => {
    const s = app.listen(port, '127.0.0.1', () => resolve(s))
    s.once('error', reject)
  })
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    events,
    log,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
