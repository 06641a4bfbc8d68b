// The example's story, against a running emulator: set up the tokens, start the API, and let
// the senders call it. Used by run.mjs (prints it) and by __test__/example.test.ts (asserts it).
import { createRequire } from 'node:module'
import { startApi } from './api.mjs'
import { apiClient, webhookSender, workerSender } from './senders.mjs'

const require = createRequire(import.meta.url)
const cli = require('../../bin/clerk-m2m-native.js')

/** `KEY=value` lines (comments and blanks skipped) → an object. */
export function parseDotenv(text) {
  const out = {}
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim())
    if (m) out[m[1]] = m[2]
  }
  return out
}

/**
 * One-time setup, as an operator would do it: `clerk-m2m setup-tokens --service webhook`
 * with the webhook machine's secret key, whose output goes into the webhook handler's .env.
 */
export async function setupWebhookEnv(emu) {
  let stdout = ''
  let stderr = ''
  const code = await cli.main(['setup-tokens', '--service', 'webhook', '--ttl', '30d'], {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    env: { CLERK_API_URL: emu.url, CLERK_MACHINE_SECRET_KEY_WEBHOOK: emu.machines.webhook.secretKey },
  })
  if (code !== 0) throw new Error(`setup-tokens failed (${code}): ${stderr}`)
  return parseDotenv(stdout)
}

/** Each service's environment, from the emulator's machines (in production: the Clerk dashboard). */
export async function environments(emu) {
  const { trpc, webhook, worker } = emu.machines
  return {
    api: {
      CLERK_API_URL: emu.url,
      CLERK_SECRET_KEY: emu.secretKey,
      CLERK_MACHINE_SECRET_KEY_TRPC: trpc.secretKey,
      CLERK_M2M_MACHINE_ID_TRPC: trpc.id,
      CLERK_M2M_MACHINE_ID_WEBHOOK: webhook.id,
      CLERK_M2M_MACHINE_ID_WORKER: worker.id,
    },
    webhook: await setupWebhookEnv(emu),
    worker: { CLERK_API_URL: emu.url, CLERK_MACHINE_SECRET_KEY_WORKER: worker.secretKey },
  }
}

/** The outcome of one call: `OK` with its result, or the tRPC error code. */
async function outcome(fn) {
  const start = Date.now()
  try {
    return { code: 'OK', result: await fn(), ms: Date.now() - start }
  } catch (e) {
    return { code: e?.data?.code ?? 'ERROR', message: e?.message, ms: Date.now() - start }
  }
}

/**
 * Runs every scenario and returns their outcomes by name. `timeoutMs` is the API's deadline
 * for a Backend API call (the hung-emulator scenario must end within it).
 */
export async function runScenarios(emu, { timeoutMs = 1000 } = {}) {
  const env = await environments(emu)
  const api = await startApi({ env: env.api, timeoutMs })
  try {
    const webhook = webhookSender(api.url, { env: env.webhook })
    const worker = workerSender(api.url, { env: env.worker })
    const results = {}
    results.webhookDelivers = await outcome(() => webhook.deliver('invoice.paid'))
    results.webhookReportsJob = await outcome(() => webhook.reportJob('job-1'))
    results.workerReportsJob = await outcome(() => worker.reportJob('job-2'))
    results.workerDelivers = await outcome(() => worker.deliver('invoice.paid'))
    results.noToken = await outcome(() => apiClient(api.url, () => null).deliverWebhook.mutate({ event: 'x' }))
    results.forgedToken = await outcome(() => apiClient(api.url, () => 'Bearer mt_forged0000000000000000000000').deliverWebhook.mutate({ event: 'x' }))
    const jwtLike = `${Buffer.from('{"alg":"RS256","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: emu.machines.webhook.id, exp: 4102444800 })).toString('base64url')}.c2ln`
    results.forgedJwt = await outcome(() => apiClient(api.url, () => `Bearer ${jwtLike}`).deliverWebhook.mutate({ event: 'x' }))
    results.health = await outcome(() => apiClient(api.url, () => null).health.query())
    // The Clerk API hangs: the webhook's opaque token cannot be verified in time.
    await emu.setFault('m2m_verify', { type: 'hang' })
    try {
      results.apiHangs = await outcome(() => webhook.deliver('invoice.paid'))
    } finally {
      await emu.clearFaults()
    }
    results.deliveries = api.deliveries.slice()
    results.workerProvider = worker.provider.stats()
    return results
  } finally {
    await api.close()
  }
}
