// clerk-m2m-native/express with Express 5 and Express 4, over real HTTP against the emulator: the
// answer table of helpers/adapter-suite.ts, plus what is Express's own (getMachine, errors to next).
import { describe, expect, it } from 'vitest'
import type { AddressInfo } from 'node:net'
import express5 from 'express'
// @ts-expect-error: the npm alias of express@4 has no typings of its own
import express4 from 'express4'
import { requireMachine, machineAuth, getMachine } from '../lib/express.mjs'
import { defineAdapterSuite, httpSend, type App, type AppOptions } from './helpers/adapter-suite'

const summary = (auth: any) => ({ isAuthenticated: auth.isAuthenticated, tokenType: auth.tokenType, machineId: auth.machineId, code: auth.error?.code ?? null })

function builder(express: any) {
  return async ({ env, timeoutMs, onError }: AppOptions): Promise<App> => {
    const base = { receiver: 'trpc', env, timeoutMs }
    const m2m = requireMachine({ ...base, allow: ['webhook'], onError })
    const apikey = requireMachine({ ...base, acceptsToken: 'api_key', onError })
    const app = express()
    app.get('/m2m', m2m, (req: any, res: any) => res.json({ machine: getMachine(req) }))
    app.get('/apikey', apikey, (req: any, res: any) => res.json({ machine: req.machine }))
    app.get('/auth', machineAuth(base), (req: any, res: any) => res.json(summary(req.machineAuth)))
    const server = await new Promise<any>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s))
    })
    return {
      send: httpSend(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
      hasAuthRoute: true,
      stats: (route) => (route === 'm2m' ? m2m : apikey).stats(),
      close: () => new Promise((resolve) => server.close(() => resolve())),
    }
  }
}

defineAdapterSuite('Express 5', builder(express5))
defineAdapterSuite('Express 4', builder(express4))

describe('express adapter', () => {
  it('getMachine throws a coded error when requireMachine did not run', () => {
    expect(() => getMachine({})).toThrow(expect.objectContaining({ code: 'ERR_CLERK_M2M_NO_MACHINE' }))
  })

  it('refuses options that cannot work when the middleware is built', () => {
    expect(() => requireMachine({ acceptsToken: 'session_token' as any })).toThrow(/session tokens/)
    expect(() => requireMachine({ acceptsToken: [] as any })).toThrow(/at least one/)
    expect(() => requireMachine({ allow: 5 as any })).toThrow(TypeError)
    expect(() => requireMachine({ realm: 'a"b' })).toThrow(/realm/)
    expect(() => requireMachine({ onError: 'log' as any })).toThrow(/onError/)
  })

  it('an onError that throws goes to next(err), as any middleware failure', async () => {
    for (const express of [express5, express4]) {
      const app = express()
      app.get('/x', requireMachine({ env: {}, onError: () => { throw new Error('logger down') } }), (_req: any, res: any) => res.send('no'))
      app.use((err: any, _req: any, res: any, _next: any) => res.status(599).send(err.message))
      const server = await new Promise<any>((resolve) => {
        const s = app.listen(0, '127.0.0.1', () => resolve(s))
      })
      const r = await httpSend(`http://127.0.0.1:${server.address().port}`)('/x')
      expect([r.status, r.body]).toEqual([599, 'logger down'])
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
