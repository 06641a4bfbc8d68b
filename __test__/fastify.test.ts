// clerk-m2m-native/fastify with Fastify 5 over real HTTP against the emulator: the answer table of
// helpers/adapter-suite.ts, plus the plugin's own conventions (fastify-plugin metadata, hook
// choice, one verifier per registration, a clear error when the plugin is missing).
import { describe, expect, it } from 'vitest'
import Fastify from 'fastify'
import type { AddressInfo } from 'node:net'
import { machineAuthPlugin, requireMachine, getMachine } from '../lib/fastify.mjs'
import { defineAdapterSuite, httpSend, type App, type AppOptions } from './helpers/adapter-suite'

const summary = (auth: any) => ({ isAuthenticated: auth.isAuthenticated, tokenType: auth.tokenType, machineId: auth.machineId, code: auth.error?.code ?? null })

async function listen(app: any): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

async function build({ env, timeoutMs, onError }: AppOptions): Promise<App> {
  const app = Fastify()
  // The plugin verifies what any route accepts; each route narrows.
  await app.register(machineAuthPlugin, { receiver: 'trpc', env, timeoutMs, acceptsToken: 'any', onError })
  app.get('/m2m', { onRequest: requireMachine({ allow: ['webhook'] }) }, async (request) => ({ machine: getMachine(request) }))
  app.get('/apikey', { onRequest: requireMachine({ acceptsToken: 'api_key' }) }, async (request) => ({ machine: request.machine }))
  app.get('/auth', async (request) => summary(request.machineAuth))
  const url = await listen(app)
  return { send: httpSend(url), hasAuthRoute: true, authAcceptsApiKeys: true, stats: () => app.machineAuthenticator.stats(), close: () => app.close() }
}

defineAdapterSuite('Fastify 5', build)

describe('fastify plugin', () => {
  it('follows fastify-plugin conventions: no encapsulation, a name, the Fastify major it supports', () => {
    expect((machineAuthPlugin as any)[Symbol.for('skip-override')]).toBe(true)
    expect((machineAuthPlugin as any)[Symbol.for('fastify.display-name')]).toBe('clerk-m2m-native')
    expect((machineAuthPlugin as any)[Symbol.for('plugin-meta')]).toEqual({ name: 'clerk-m2m-native', fastify: '5.x' })
  })

  it('decorations reach routes of child scopes; hookName preHandler works with requireMachine as a preHandler', async () => {
    const app = Fastify()
    await app.register(machineAuthPlugin, { hookName: 'preHandler', env: {} })
    await app.register(async (child) => {
      child.get('/child', { preHandler: requireMachine() }, async () => 'never')
      child.get('/open', async (request) => ({ machine: request.machine, code: request.machineAuth?.error?.code }))
    })
    const send = httpSend(await listen(app))
    const r = await send('/child')
    expect([r.status, r.headers['www-authenticate'], r.body]).toEqual([401, 'Bearer realm="api"', { error: { code: 'missing', message: 'A Bearer token is required.' } }])
    expect((await send('/open')).body).toEqual({ machine: null, code: 'missing' })
    await app.close()
  })

  it('requireMachine without the plugin (or before its hook) is a wiring error: Fastify answers 500', async () => {
    const app = Fastify()
    app.get('/x', { onRequest: requireMachine() }, async () => 'never')
    const send = httpSend(await listen(app))
    const r = await send('/x', { authorization: 'Bearer mt_x' })
    expect(r.status).toBe(500)
    expect(r.body.message).toMatch(/requireMachine needs machineAuthPlugin/)
    await app.close()
    // A route's onRequest hook runs before the plugin's preHandler hook.
    const late = Fastify()
    await late.register(machineAuthPlugin, { hookName: 'preHandler', env: {} })
    late.get('/x', { onRequest: requireMachine() }, async () => 'never')
    expect((await httpSend(await listen(late))('/x')).status).toBe(500)
    await late.close()
  })

  it('refuses a hook name it does not know, and a second registration (decorations exist)', async () => {
    await expect(Fastify().register(machineAuthPlugin, { hookName: 'onSend' as any }).ready()).rejects.toThrow(/hookName/)
    const app = Fastify()
    app.register(machineAuthPlugin, { env: {} })
    app.register(machineAuthPlugin, { env: {} })
    await expect(app.ready()).rejects.toThrow(/machine/)
  })
})
