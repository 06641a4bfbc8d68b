// Compiled by `npm run typecheck`: the request helpers and the framework adapters as a TypeScript
// service uses them (the installed-package check in scripts/user-install.mjs does the same under
// every moduleResolution).
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import {
  authenticateMachineRequest,
  createMachineAuthenticator,
  machineAuthErrorResponse,
  type Machine,
  type MachineAuthErrorResponse,
} from 'clerk-m2m-native/console'
import { requireMachine as expressMachine, machineAuth, getMachine } from 'clerk-m2m-native/express'
import { machineAuthPlugin, requireMachine as fastifyMachine } from 'clerk-m2m-native/fastify'
import { requireMachine as honoMachine } from 'clerk-m2m-native/hono'
import { withMachine } from 'clerk-m2m-native/next'

export async function frameworkFree(request: Request): Promise<Response> {
  const auth = await authenticateMachineRequest(request, { acceptsToken: ['m2m_token', 'api_key'], receiver: 'orders' })
  if (!auth.isAuthenticated) {
    const { status, headers, body }: MachineAuthErrorResponse = machineAuthErrorResponse(auth.error, { realm: 'orders' })
    return Response.json(body, { status, headers })
  }
  // Narrowed by tokenType: an M2M token has a machine id, an API key has none.
  const who: string = auth.tokenType === 'm2m_token' ? auth.machineId : auth.subject
  return Response.json({ who })
}

const authenticator = createMachineAuthenticator({ acceptsToken: 'oauth_token' })
export async function oauthOnly(headers: Headers): Promise<string | null> {
  const auth = await authenticator.authenticate(headers)
  const local: number = authenticator.stats().local
  return auth.isAuthenticated ? `${auth.tokenType}:${auth.subject}:${local}` : auth.error.code
}

export const app = express()
app.post('/jobs', expressMachine({ receiver: 'orders', allow: ['worker'] }), (req, res) => {
  const machine: Machine = getMachine(req)
  res.json({ from: machine.machineId, service: req.machine?.service })
})
app.get('/who', machineAuth({ acceptsToken: 'any' }), (req, res) => {
  res.json({ authenticated: req.machineAuth?.isAuthenticated ?? false })
})

export async function fastifyApp() {
  const f = Fastify()
  await f.register(machineAuthPlugin, { receiver: 'orders', hookName: 'onRequest', realm: 'orders' })
  f.post('/jobs', { onRequest: fastifyMachine({ allow: ['worker'] }) }, async (request) => ({ from: request.machine?.machineId }))
  f.addHook('preHandler', fastifyMachine({ requireScope: 'orders' }))
  return f
}

export const hono = new Hono()
  .get('/jobs', honoMachine({ receiver: 'orders' }), (c) => {
    const id: string = c.get('machine').machineId
    return c.json({ id })
  })
  .get('/keys', honoMachine({ acceptsToken: 'api_key' }), (c) => c.json({ subject: c.get('machine').subject }))

export const POST = withMachine(
  async (_request, context: { params: Promise<{ id: string }> }, machine) => Response.json({ id: (await context.params).id, from: machine.machineId }),
  { receiver: 'orders', allow: ['worker'] },
)
