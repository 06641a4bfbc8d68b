// clerk-m2m-native/next: App Router route handlers through the Fetch Request/Response contract
// (what Next.js calls a route handler with), against the emulator: the answer table of
// helpers/adapter-suite.ts.
import { describe, expect, it } from 'vitest'
import { withMachine } from '../lib/next.mjs'
import { generateKey, m2mHeader, m2mPayload, signJwt } from './helpers/tokens'
import { defineAdapterSuite, fetchRequest, replyOf, type App, type AppOptions } from './helpers/adapter-suite'

async function build({ env, timeoutMs, onError }: AppOptions): Promise<App> {
  const base = { receiver: 'trpc', env, timeoutMs, onError }
  const routes: Record<string, ReturnType<typeof withMachine>> = {
    '/m2m': withMachine(async (_request, _context, machine) => Response.json({ machine }), { ...base, allow: ['webhook'] }),
    '/apikey': withMachine(async (_request, _context, machine) => Response.json({ machine }), { ...base, acceptsToken: 'api_key' }),
  }
  return {
    async send(path, headers) {
      const started = Date.now()
      // As Next.js calls a route handler: the Request and a context with the (async) params.
      return replyOf(await routes[path](fetchRequest(path, headers), { params: Promise.resolve({}) }), started)
    },
    hasAuthRoute: false,
    stats: (route) => routes[`/${route}`].stats(),
    close: async () => {},
  }
}

defineAdapterSuite('Next.js route handlers', build)

describe('withMachine', () => {
  it('passes the request and the context through to the handler, and answers for it only when authenticated', async () => {
    const key = generateKey()
    const seen: unknown[] = []
    const handler = withMachine(
      async (request, context: { params: Promise<{ id: string }> }, machine) => {
        seen.push(request.url, (await context.params).id, machine.machineId)
        return new Response('ok', { status: 201 })
      },
      { env: {}, jwtKey: key.publicPem },
    )
    const context = { params: Promise.resolve({ id: '1' }) }
    expect((await handler(fetchRequest('/x', { authorization: 'Bearer' }), context)).status).toBe(401)
    expect(seen).toEqual([])
    const token = signJwt(m2mHeader(key), m2mPayload(), key)
    const res = await handler(fetchRequest('/x', { authorization: `Bearer ${token}` }), context)
    expect([res.status, await res.text()]).toEqual([201, 'ok'])
    expect(seen).toEqual(['http://127.0.0.1/x', '1', m2mPayload().sub])
  })

  it('refuses a handler that is not a function', () => {
    expect(() => withMachine({} as any)).toThrow(TypeError)
  })
})
