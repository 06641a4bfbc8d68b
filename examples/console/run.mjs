#!/usr/bin/env node
// Runs the console example against a local Clerk Backend API emulator:
//   cargo build -p clerk-bapi-emulator && node examples/console/run.mjs
// Exits 0 when every call ends as expected.
import { createRequire } from 'node:module'
import { runScenarios } from './scenarios.mjs'

const require = createRequire(import.meta.url)
const { startEmulator } = require('../../lib/emulator.js')

const EXPECTED = {
  webhookDelivers: 'OK',
  webhookReportsJob: 'OK',
  workerReportsJob: 'OK',
  workerDelivers: 'FORBIDDEN',
  noToken: 'UNAUTHORIZED',
  forgedToken: 'UNAUTHORIZED',
  forgedJwt: 'UNAUTHORIZED',
  health: 'OK',
  apiHangs: 'SERVICE_UNAVAILABLE',
}

const LABELS = {
  webhookDelivers: 'webhook handler → deliverWebhook (webhook only)',
  webhookReportsJob: 'webhook handler → reportJob',
  workerReportsJob: 'worker (minted token) → reportJob',
  workerDelivers: 'worker → deliverWebhook (webhook only)',
  noToken: 'no token → deliverWebhook',
  forgedToken: 'forged opaque token → deliverWebhook',
  forgedJwt: 'forged JWT → deliverWebhook',
  health: 'no token → health (public)',
  apiHangs: 'webhook while the Clerk API hangs',
}

const timeoutMs = 1000
const emu = await startEmulator()
let failed = 0
try {
  const results = await runScenarios(emu, { timeoutMs })
  for (const [name, expected] of Object.entries(EXPECTED)) {
    const r = results[name]
    const ok = r.code === expected
    if (!ok) failed += 1
    console.log(`${ok ? '✓' : '✗'} ${LABELS[name].padEnd(50)} ${r.code}${ok ? '' : ` (expected ${expected})`}  ${r.ms} ms`)
  }
  console.log(`deliveries recorded by the API: ${JSON.stringify(results.deliveries)}`)
} finally {
  await emu.stop()
}
process.exitCode = failed === 0 ? 0 : 1
