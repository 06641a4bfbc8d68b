// clerk-m2m-native/otel with the OpenTelemetry SDK's in-memory exporter: a clerk_m2m.verify span
// per verification, clerk_m2m.http children for the requests native code made, semantic-convention
// attribute names, error status on rejections — through a real Express app over real HTTP.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { AddressInfo } from 'node:net'
import express from 'express'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { instrument } from '../lib/otel.mjs'
import { requireMachine } from '../lib/express.mjs'
import { verifyMachineAuthToken } from '../lib/index.js'
import { startEmulator, type Emulator } from '../lib/emulator.js'
import { mintToken, receiverEnv } from './helpers/emulator'
import { createCanaries, leaksOf } from './helpers/canaries'

const exporter = new InMemorySpanExporter()
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
let emu: Emulator
let server: any
let base: string
let instrumentation: ReturnType<typeof instrument>

beforeAll(async () => {
  emu = await startEmulator()
  instrumentation = instrument({ tracerProvider: provider })
  const app = express()
  app.get('/jobs', requireMachine({ receiver: 'trpc', env: receiverEnv(emu), allow: ['webhook'] }), (req: any, res: any) => res.json({ from: req.machine.machineId }))
  server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s))
  })
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  instrumentation?.disable()
  await new Promise((resolve) => server?.close(resolve))
  await emu?.stop()
})
beforeEach(() => exporter.reset())

const spansNamed = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name)

describe('clerk-m2m-native/otel', () => {
  it('an Express request with an opaque token: clerk_m2m.verify with a clerk_m2m.http child', async () => {
    const { token } = await mintToken(emu, 'webhook', { seconds_until_expiration: 600 })
    const res = await fetch(`${base}/jobs`, { headers: { authorization: `Bearer ${token}` } })
    expect(res.status).toBe(200)
    const [verify] = spansNamed('clerk_m2m.verify')
    const [http] = spansNamed('clerk_m2m.http')
    expect(verify).toBeDefined()
    expect(http).toBeDefined()
    expect(verify.kind).toBe(SpanKind.INTERNAL)
    expect(http.kind).toBe(SpanKind.CLIENT)
    expect(http.parentSpanContext?.spanId).toBe(verify.spanContext().spanId)
    expect(http.spanContext().traceId).toBe(verify.spanContext().traceId)
    expect(verify.attributes).toMatchObject({ 'clerk_m2m.source': 'remote', 'clerk_m2m.token.type': 'm2m_token', 'clerk_m2m.outcome': 'verified', 'clerk_m2m.machine.id': emu.machines.webhook.id, 'clerk_m2m.http.requests': 1 })
    expect(verify.attributes['clerk_m2m.token.fingerprint']).toMatch(/^[0-9a-f]{12}$/)
    expect(verify.attributes['error.type']).toBeUndefined()
    expect(verify.status.code).toBe(SpanStatusCode.UNSET)
    expect(http.attributes).toMatchObject({ 'http.request.method': 'POST', 'url.template': '/m2m_tokens/verify', 'http.response.status_code': 200, 'clerk_m2m.http.attempts': 1 })
    expect(http.status.code).toBe(SpanStatusCode.UNSET)
    // The child lies inside its parent.
    const t = (hr: [number, number]) => hr[0] * 1e3 + hr[1] / 1e6
    expect(t(http.startTime)).toBeGreaterThanOrEqual(t(verify.startTime) - 1)
    expect(t(http.endTime)).toBeLessThanOrEqual(t(verify.endTime) + 1)
  })

  it('a rejection sets error.type and an error status; a failed request its own error.type', async () => {
    const res = await fetch(`${base}/jobs`, { headers: { authorization: 'Bearer mt_does_not_exist' } })
    expect(res.status).toBe(401)
    const [verify] = spansNamed('clerk_m2m.verify')
    const [http] = spansNamed('clerk_m2m.http')
    expect(verify.attributes).toMatchObject({ 'error.type': 'token-invalid', 'clerk_m2m.error.code': 'token-invalid', 'clerk_m2m.outcome': 'rejected' })
    expect(verify.status.code).toBe(SpanStatusCode.ERROR)
    expect(http.attributes).toMatchObject({ 'url.template': '/m2m_tokens/verify', 'http.response.status_code': 404, 'error.type': '404' })
    expect(http.status.code).toBe(SpanStatusCode.ERROR)
    exporter.reset()

    const { token } = await mintToken(emu, 'webhook', { seconds_until_expiration: 600 })
    await emu.setFault('m2m_verify', { type: 'hang' })
    try {
      const r = await verifyMachineAuthToken(token, { secretKey: emu.secretKey, apiUrl: emu.url, timeoutMs: 200 })
      expect(r.errors?.[0].code).toBe('unexpected-error')
    } finally {
      await emu.clearFaults()
    }
    const [timedOut] = spansNamed('clerk_m2m.verify')
    expect(timedOut.attributes).toMatchObject({ 'error.type': 'unexpected-error', 'clerk_m2m.error.reason': 'unavailable', 'clerk_m2m.error.transport': 'timeout' })
    expect(spansNamed('clerk_m2m.http')[0].attributes).toMatchObject({ 'error.type': 'timeout' })
  })

  it('an unroutable token: an exception event and an error status; local answers have no http child', async () => {
    await expect(verifyMachineAuthToken('xx_unknown', {})).rejects.toThrow()
    const [span] = spansNamed('clerk_m2m.verify')
    expect(span.status.code).toBe(SpanStatusCode.ERROR)
    expect(span.attributes['error.type']).toBe('unroutable')
    expect(span.events.map((e) => e.name)).toEqual(['exception'])
    expect(spansNamed('clerk_m2m.http')).toEqual([])
  })

  it('no canary secret or token in any span name, attribute, event or status', async () => {
    const canaries = createCanaries()
    const options = { secretKey: canaries.secretKey.value, machineSecretKey: canaries.machineSecretKey.value, apiUrl: emu.url }
    for (const t of [canaries.opaqueToken.value, canaries.jwt.value]) await verifyMachineAuthToken(t, options)
    const spans = exporter.getFinishedSpans()
    expect(spans.length).toBeGreaterThanOrEqual(4)
    const text = JSON.stringify(spans.map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status })))
    expect(leaksOf(canaries, text)).toEqual([])
  })

  it('an M2M client call: a clerk_m2m.http span of its own, named by its operation', async () => {
    const { createM2MClient } = await import('../lib/index.js')
    const client = createM2MClient({ machineSecretKey: emu.machines.worker.secretKey, apiUrl: emu.url })
    const created = await client.createToken({ secondsUntilExpiration: 60 })
    await client.revokeToken({ m2mTokenId: created.id })
    const spans = spansNamed('clerk_m2m.http')
    expect(spans.map((s) => [s.attributes['http.request.method'], s.attributes['url.template'], s.attributes['clerk_m2m.operation'], s.attributes['http.response.status_code']])).toEqual([
      ['POST', '/m2m_tokens', 'createToken', 200],
      ['POST', '/m2m_tokens/{id}/revoke', 'revokeToken', 200],
    ])
    expect(JSON.stringify(spans.map((s) => s.attributes))).not.toContain(created.id)
    expect(spansNamed('clerk_m2m.verify')).toEqual([])
  })

  it('disable() stops the spans', async () => {
    const second = instrument({ tracerProvider: provider })
    second.disable()
    second.disable()
    instrumentation.disable()
    await verifyMachineAuthToken('xx_unknown', {}).catch(() => null)
    expect(exporter.getFinishedSpans()).toEqual([])
    instrumentation = instrument({ tracerProvider: provider })
  })
})
