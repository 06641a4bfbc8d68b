// examples/console run as a test: a tRPC API (standalone adapter, receiver machine "trpc"), a
// webhook handler with a token from `clerk-m2m setup-tokens`, and a worker minting its own
// tokens, all against the emulator over real HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRequire } from 'node:module'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
// @ts-expect-error: plain ESM example without typings
import { runScenarios } from '../examples/console/scenarios.mjs'

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
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = execFile(process.execPath, [join(root, 'examples/console/run.mjs')], { cwd: root, timeout: 60_000 }, (err, stdout) => {
        resolve({ code: err ? ((err as any).code ?? 1) : 0, stdout })
      })
      child.stdin?.end()
    })
    expect(stdout).toMatch(/✓ worker → deliverWebhook \(webhook only\)\s+FORBIDDEN/)
    expect(stdout).toMatch(/✓ webhook while the Clerk API hangs\s+SERVICE_UNAVAILABLE/)
    expect(stdout).not.toMatch(/✗/)
    expect(code).toBe(0)
  })
})
