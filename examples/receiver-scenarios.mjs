// The story of examples/express and examples/fastify, against a running emulator: the "orders"
// service receives from two senders, the webhook handler (a long-lived token, as
// `clerk-m2m setup-tokens` creates it) and the worker (short-lived tokens it mints itself).
// Used by each example's run.mjs (prints it) and by __test__/example.test.ts (asserts it).
import { createM2MClient } from 'clerk-m2m-native'
import { createM2MTokenProvider, getM2MToken } from 'clerk-m2m-native/console'

/** The emulator's machines for this story: the receiver, and two senders whose tokens are scoped to it. */
export const MACHINES = ['orders', 'webhook:orders', 'worker:orders']

/** Each service's environment, from the emulator's machines (in production: the Clerk dashboard). */
export async function environments(emu) {
  const { orders, webhook, worker } = emu.machines
  // What `clerk-m2m setup-tokens --service webhook` prints into the webhook handler's .env.
  const setup = await createM2MClient({ apiUrl: emu.url, machineSecretKey: webhook.secretKey }).createToken({ secondsUntilExpiration: 30 * 86400 })
  return {
    orders: {
      CLERK_API_URL: emu.url,
      CLERK_SECRET_KEY: emu.secretKey,
      CLERK_MACHINE_SECRET_KEY_ORDERS: orders.secretKey,
      CLERK_M2M_MACHINE_ID_ORDERS: orders.id,
      CLERK_M2M_MACHINE_ID_WEBHOOK: webhook.id,
      CLERK_M2M_MACHINE_ID_WORKER: worker.id,
    },
    webhook: { CLERK_M2M_TOKEN_WEBHOOK: setup.token },
    worker: { CLERK_API_URL: emu.url, CLERK_MACHINE_SECRET_KEY_WORKER: worker.secretKey },
  }
}

/** One call: status, the Bearer challenge, Retry-After, the JSON body, and how long it took. */
async function call(url, path, authorization, body = {}) {
  const started = Date.now()
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify(body),
  })
  return {
    status: res.status,
    wwwAuthenticate: res.headers.get('www-authenticate'),
    retryAfter: res.headers.get('retry-after'),
    body: await res.json(),
    ms: Date.now() - started,
  }
}

/** Starts the receiver with `startServer` and plays every call; resolves the outcomes by name. */
export async function runScenarios(emu, startServer, { timeoutMs = 1000 } = {}) {
  const env = await environments(emu)
  const server = await startServer({ env: env.orders, timeoutMs })
  const worker = createM2MTokenProvider({ service: 'worker', env: env.worker, ttlSeconds: 300 })
  const webhookAuth = `Bearer ${getM2MToken('webhook', { env: env.webhook })}`
  const workerAuth = async () => worker.getAuthorizationHeader()
  const results = {}
  try {
    results.webhookEvent = await call(server.url, '/webhooks/events', webhookAuth, { type: 'invoice.paid' })
    results.webhookJob = await call(server.url, '/jobs/job-1/result', webhookAuth, { ok: true })
    results.workerJob = await call(server.url, '/jobs/job-2/result', await workerAuth(), { ok: true })
    results.workerEvent = await call(server.url, '/webhooks/events', await workerAuth(), { type: 'invoice.paid' })
    results.noToken = await call(server.url, '/webhooks/events', undefined, { type: 'invoice.paid' })
    results.forged = await call(server.url, '/webhooks/events', 'Bearer mt_forged_token_value', { type: 'invoice.paid' })
    await emu.setFault('m2m_verify', { type: 'status', status: 429, retryAfter: 2 })
    results.rateLimited = await call(server.url, '/webhooks/events', webhookAuth, { type: 'invoice.paid' })
    await emu.setFault('m2m_verify', { type: 'hang' })
    results.apiHangs = await call(server.url, '/webhooks/events', webhookAuth, { type: 'invoice.paid' })
    await emu.clearFaults()
    results.events = [...server.events]
    results.log = [...server.log]
    results.workerProvider = worker.stats()
  } finally {
    await emu.clearFaults()
    await server.close()
  }
  return results
}

/** The expected status of each call, with a label; what run.mjs prints and checks. */
export const EXPECTED = {
  webhookEvent: [202, 'webhook handler → POST /webhooks/events (webhook only)'],
  webhookJob: [200, 'webhook handler → POST /jobs/job-1/result'],
  workerJob: [200, 'worker (minted token) → POST /jobs/job-2/result'],
  workerEvent: [403, 'worker → POST /webhooks/events (webhook only)'],
  noToken: [401, 'no token → POST /webhooks/events'],
  forged: [401, 'forged token → POST /webhooks/events'],
  rateLimited: [429, 'webhook while the Clerk API rate limits'],
  apiHangs: [503, 'webhook while the Clerk API hangs'],
}

/** run.mjs of an example: plays the story against a fresh emulator, prints one line a call, exits 1 on a surprise. */
export async function main(name, startServer) {
  const { createRequire } = await import('node:module')
  const { startEmulator } = createRequire(import.meta.url)('../lib/emulator.js')
  const emu = await startEmulator({ machines: MACHINES })
  let failed = 0
  try {
    const results = await runScenarios(emu, startServer)
    console.log(`${name} receiver "orders":`)
    for (const [key, [status, label]] of Object.entries(EXPECTED)) {
      const r = results[key]
      const ok = r.status === status
      if (!ok) failed += 1
      const detail = r.status >= 400 ? `${r.body.error.code}${r.wwwAuthenticate ? ` · WWW-Authenticate: ${r.wwwAuthenticate}` : ''}${r.retryAfter ? ` · Retry-After: ${r.retryAfter}` : ''}` : JSON.stringify(r.body)
      console.log(`${ok ? '✓' : '✗'} ${label.padEnd(55)} ${r.status}${ok ? '' : ` (expected ${status})`}  ${detail}  ${r.ms} ms`)
    }
    console.log(`events recorded: ${JSON.stringify(results.events)}`)
    console.log(`the service's log (onError):\n  ${results.log.join('\n  ')}`)
  } finally {
    await emu.stop()
  }
  process.exitCode = failed === 0 ? 0 : 1
}
