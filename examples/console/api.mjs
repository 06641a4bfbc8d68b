// The receiving side: a tRPC API (standalone HTTP adapter) that knows which machine called.
//
// Environment (this service is the machine "trpc"):
//   CLERK_API_URL, CLERK_MACHINE_SECRET_KEY_TRPC (verifies opaque tokens), CLERK_SECRET_KEY (JWKS for JWT tokens,
//   optional with CLERK_JWT_KEY), CLERK_M2M_MACHINE_ID_TRPC (its own id: tokens must be scoped to it),
//   CLERK_M2M_MACHINE_ID_WEBHOOK, CLERK_M2M_MACHINE_ID_WORKER (the allowed senders).
import { initTRPC } from '@trpc/server'
import { createHTTPServer } from '@trpc/server/adapters/standalone'
import { createM2MContext, requireMachine } from 'clerk-m2m-native/trpc'

/** Builds the router; `env` is where this service reads its CLERK_* variables. */
export function createApi({ env = process.env, timeoutMs = 5000 } = {}) {
  // One line of context: who called, or why not. Never throws.
  const createContext = createM2MContext({ receiver: 'trpc', env, timeoutMs })
  const t = initTRPC.context().create()

  // Only the webhook handler may deliver events; webhook and worker may report job results.
  const webhookOnly = t.procedure.use(requireMachine({ allow: ['webhook'] }))
  const anySender = t.procedure.use(requireMachine({ allow: ['webhook', 'worker'] }))

  const deliveries = []
  const router = t.router({
    health: t.procedure.query(() => ({ ok: true })),
    deliverWebhook: webhookOnly
      .input((raw) => {
        if (!raw || typeof raw.event !== 'string') throw new Error('input must be { event: string }')
        return { event: raw.event }
      })
      .mutation(({ ctx, input }) => {
        deliveries.push({ event: input.event, from: ctx.machine.service })
        return { accepted: true, event: input.event, from: ctx.machine.service, machineId: ctx.machine.machineId }
      }),
    reportJob: anySender
      .input((raw) => {
        if (!raw || typeof raw.jobId !== 'string') throw new Error('input must be { jobId: string }')
        return { jobId: raw.jobId }
      })
      .mutation(({ ctx, input }) => ({ recorded: true, jobId: input.jobId, from: ctx.machine.service })),
  })
  return { router, createContext, deliveries }
}

/** Starts the API on 127.0.0.1 (port 0 = any free port); resolves `{ url, close, deliveries }`. */
export async function startApi({ env = process.env, port = 0, timeoutMs = 5000 } = {}) {
  const { router, createContext, deliveries } = createApi({ env, timeoutMs })
  const server = createHTTPServer({ router, createContext })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', resolve)
  })
  const { port: actual } = server.address()
  return {
    url: `http://127.0.0.1:${actual}`,
    deliveries,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.()
        server.close(() => resolve())
      }),
  }
}
