// The examples run as tests, against the emulator over real HTTP: examples/console (a tRPC API,
// receiver machine "trpc", a webhook handler with a token from `clerk-m2m setup-tokens`, and a
// worker minting its own tokens), and the Express and Fastify receivers of examples/express and
// examples/fastify (the "orders" service, with the same two senders).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRequire } from 'node:module'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
// @ts-expect-error: plain ESM example without typings
import { runScenarios } from '../examples/console/scenarios.mjs'
// @ts-expect-error: plain ESM example without typings
import { runScenarios as runReceiverScenarios, MACHINES, EXPECTED } from '../examples/receiver-scenarios.mjs'
// @ts-expect-error: plain ESM example without typings
import { startServer as startExpress } from '../examples/express/server.mjs'
// @ts-expect-error: plain ESM example without typings
import { startServer as startFastify } from '../examples/fastify/server.mjs'

const require = createRequire(import.meta.url)
const { startEmulator } = require('../lib/emulator.js')
const root = join(__dirname, '..')

let emu: any
let results: any
const TIMEOUT_MS = 800

beforeAll(async () => {
  emu = await startEmulator()
  results = await runScenarios(emu, { timeoutMs: TIMEOUT_MS })
})

afterAll(async () => {
  await emu?.stop()
})

/** Runs an example's run.mjs as a program. */
function runExample(path: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [join(root, path)], { cwd: root, timeout: 60_000 }, (err, stdout) => {
      resolve({ code: err ? ((err as any).code ?? 1) : 0, stdout })
    })
    child.stdin?.end()
  })
}

describe('examples/console', () => {
  it('the webhook sender (token from setup-tokens) calls the webhook-only procedure', () => {
    expect(results.webhookDelivers.code).toBe('OK')
    expect(results.webhookDelivers.result).toEqual({ accepted: true, event: 'invoice.paid', from: 'webhook', machineId: emu.machines.webhook.id })
    expect(results.webhookReportsJob).toMatchObject({ code: 'OK', result: { recorded: true, jobId: 'job-1', from: 'webhook' } })
  })

  it('the worker (minted, refreshed tokens) may report jobs but gets FORBIDDEN on the webhook-only procedure', () => {
    expect(results.workerReportsJob).toMatchObject({ code: 'OK', result: { recorded: true, jobId: 'job-2', from: 'worker' } })
    expect(results.workerDelivers.code).toBe('FORBIDDEN')
    // One token minted for both calls.
    expect(results.workerProvider).toMatchObject({ refreshes: 1, failures: 0 })
    // Only the webhook's delivery reached the resolver.
    expect(results.deliveries).toEqual([{ event: 'invoice.paid', from: 'webhook' }])
  })

  it('no token and forged tokens get UNAUTHORIZED; the public procedure needs none', () => {
    expect(results.noToken.code).toBe('UNAUTHORIZED')
    expect(results.forgedToken.code).toBe('UNAUTHORIZED')
    expect(results.forgedJwt.code).toBe('UNAUTHORIZED')
    expect(results.health).toMatchObject({ code: 'OK', result: { ok: true } })
  })

  it('a hung Clerk API gives SERVICE_UNAVAILABLE within the timeout', () => {
    expect(results.apiHangs.code).toBe('SERVICE_UNAVAILABLE')
    expect(results.apiHangs.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50)
    expect(results.apiHangs.ms).toBeLessThan(TIMEOUT_MS + 1000)
  })

  it('runs as a program: node examples/console/run.mjs exits 0', async () => {
    const { code, stdout } = await runExample('examples/console/run.mjs')
    expect(stdout).toMatch(/✓ worker → deliverWebhook \(webhook only\)\s+FORBIDDEN/)
    expect(stdout).toMatch(/✓ webhook while the Clerk API hangs\s+SERVICE_UNAVAILABLE/)
    expect(stdout).not.toMatch(/✗/)
    expect(code).toBe(0)
  })
})

for (const [name, dir, startServer] of [['Express', 'express', startExpress], ['Fastify', 'fastify', startFastify]] as const) {
  describe(`examples/${dir}`, () => {
    let receiverEmu: any
    let r: any

    beforeAll(async () => {
      receiverEmu = await startEmulator({ machines: MACHINES })
      r = await runReceiverScenarios(receiverEmu, startServer, { timeoutMs: TIMEOUT_MS })
    })

    afterAll(async () => {
      await receiverEmu?.stop()
    })

    it('the webhook handler delivers events and reports jobs; the worker reports jobs', () => {
      const { webhook, worker } = receiverEmu.machines
      expect([r.webhookEvent.status, r.webhookEvent.body]).toEqual([202, { accepted: true, from: 'webhook' }])
      expect([r.webhookJob.status, r.webhookJob.body]).toEqual([200, { recorded: true, job: 'job-1', from: 'webhook', machineId: webhook.id }])
      expect([r.workerJob.status, r.workerJob.body]).toEqual([200, { recorded: true, job: 'job-2', from: 'worker', machineId: worker.id }])
      expect(r.events).toEqual([{ type: 'invoice.paid', from: 'webhook' }])
      expect(r.workerProvider).toMatchObject({ refreshes: 1, failures: 0 })
    })

    it('the worker on the webhook-only route: 403; no token and a forged one: 401 with the Bearer challenge', () => {
      expect([r.workerEvent.status, r.workerEvent.wwwAuthenticate, r.workerEvent.body.error.code]).toEqual([403, 'Bearer realm="api", error="insufficient_scope", error_description="This machine may not make this request."', 'wrong-machine'])
      expect([r.noToken.status, r.noToken.wwwAuthenticate, r.noToken.body]).toEqual([401, 'Bearer realm="api"', { error: { code: 'missing', message: 'A Bearer token is required.' } }])
      expect([r.forged.status, r.forged.wwwAuthenticate]).toEqual([401, 'Bearer realm="api", error="invalid_token", error_description="The token is invalid."'])
    })

    it('a rate-limited Clerk API: 429 with Retry-After; a hung one: 503 within the timeout; the service logs why', () => {
      expect([r.rateLimited.status, r.rateLimited.retryAfter, r.rateLimited.body.error.code]).toEqual([429, '2', 'rate-limited'])
      expect([r.apiHangs.status, r.apiHangs.body.error.code]).toEqual([503, 'unavailable'])
      expect(r.apiHangs.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50)
      expect(r.apiHangs.ms).toBeLessThan(TIMEOUT_MS + 1000)
      expect(r.log.map((line: string) => line.split(':')[0])).toEqual(['wrong-machine', 'missing (no-header)', 'invalid (not-found)', 'unavailable (rate-limited)', 'unavailable (timeout)'])
    })

    it(`runs as a program: node examples/${dir}/run.mjs exits 0`, async () => {
      const { code, stdout } = await runExample(`examples/${dir}/run.mjs`)
      for (const [, label] of Object.values<[number, string]>(EXPECTED)) expect(stdout).toContain(`✓ ${label}`)
      expect(stdout).not.toMatch(/✗/)
      expect(code).toBe(0)
    })
  })
}
