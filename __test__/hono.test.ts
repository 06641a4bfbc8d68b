// clerk-m2m-native/hono with Hono 4 on @hono/node-server, over real HTTP against the emulator:
// the answer table of helpers/adapter-suite.ts.
import { describe, expect, it } from 'vitest'
import { Hono } from 'hono'
import { serve } from '@hono/node-server'
import { requireMachine, machineAuth } from '../lib/hono.mjs'
import { defineAdapterSuite, httpSend, type App, type AppOptions } from './helpers/adapter-suite'

const summary = (auth: any) => ({ isAuthenticated: auth.isAuthenticated, tokenType: auth.tokenType, machineId: auth.machineId, code: auth.error?.code ?? null })

async function build({ env, timeoutMs, onError }: AppOptions): Promise<App> {
  const base = { receiver: 'trpc', env, timeoutMs }
  const m2m = requireMachine({ ...base, allow: ['webhook'], onError })
  const apikey = requireMachine({ ...base, acceptsToken: 'api_key', onError })
  const app = new Hono()
  app.get('/m2m', m2m, (c) => c.json({ machine: c.get('machine') }))
  app.get('/apikey', apikey, (c) => c.json({ machine: c.get('machine') }))
  app.get('/auth', machineAuth(base), (c) => c.json(summary(c.get('machineAuth'))))
  const { server, port } = await new Promise<{ server: any; port: number }>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve({ server: s, port: info.port }))
  })
  return {
    send: httpSend(`http://127.0.0.1:${port}`),
    hasAuthRoute: true,
    stats: (route) => (route === 'm2m' ? m2m : apikey).stats(),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

defineAdapterSuite('Hono 4 (@hono/node-server)', build)

describe('hono adapter', () => {
  it('works with app.request() too (a Fetch Request, no Node request behind it)', async () => {
    const app = new Hono()
    app.get('/m2m', requireMachine({ env: {} }), (c) => c.text('never'))
    const res = await app.request('/m2m', { headers: { authorization: 'Basic x' } })
    expect([res.status, res.headers.get('www-authenticate'), await res.json()]).toEqual([401, 'Bearer realm="api"', { error: { code: 'missing', message: 'A Bearer token is required.' } }])
  })
})
