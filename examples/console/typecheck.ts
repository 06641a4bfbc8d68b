// Compile-only usage of the typings (`npx tsc -p examples/console/tsconfig.json`).
import { initTRPC } from '@trpc/server'
import { createM2MClient } from 'clerk-m2m-native'
import {
  authenticateM2MRequest,
  createM2MTokenProvider,
  getExpectedMachineId,
  getM2MToken,
  isM2MConfigured,
  M2MAuthError,
  verifyM2MToken,
} from 'clerk-m2m-native/console'
import { createM2MContext, requireMachine, type MachineAuth } from 'clerk-m2m-native/trpc'

export async function clientUsage(): Promise<void> {
  const client = createM2MClient({ machineSecretKey: 'ak_x', apiUrl: 'http://127.0.0.1:1', timeoutMs: 1000 })
  const t = await client.createToken({ secondsUntilExpiration: 60, claims: { role: 'x' }, tokenFormat: 'jwt' })
  const id: string = t.id
  const exp: number | null = t.expiration
  const listed = await client.list({ subject: t.subject, limit: 5 })
  const total: number = listed.totalCount
  await client.revokeToken({ m2mTokenId: id, revocationReason: 'done' })
  const v = await client.verify({ token: t.token ?? '' })
  void [exp, total, v.scopes.join(',')]
}

export async function consoleUsage(req: Request): Promise<string | null> {
  if (!isM2MConfigured('webhook')) return null
  const token: string = getM2MToken('webhook')
  const id: string = getExpectedMachineId('webhook')
  try {
    const verified = await verifyM2MToken(token, { expectedService: ['webhook', 'inngest'], receiver: 'trpc' })
    void verified.claims
  } catch (e) {
    if (e instanceof M2MAuthError && e.code === 'unavailable') return String(e.retryAfter ?? '')
  }
  const auth = await authenticateM2MRequest(req, { receiver: 'trpc' })
  if (auth.isAuthenticated) return auth.machineId
  const code: string = auth.error.code
  const provider = createM2MTokenProvider({ machineSecretKey: 'ak_x', ttlSeconds: 300, refreshBeforeSeconds: 60, tokenFormat: 'jwt' })
  const header: string = await provider.getAuthorizationHeader()
  return `${id}${code}${header}`
}

const createContext = createM2MContext({ receiver: 'trpc', timeoutMs: 2000 })
type Context = Awaited<ReturnType<typeof createContext>>
const t = initTRPC.context<Context & { db: string }>().create()
const webhookProcedure = t.procedure.use(requireMachine({ allow: ['webhook'] }))
const anyMachine = t.procedure.use(requireMachine({ allow: (m) => m.scopes.length > 0, requireScope: 'trpc' }))

export const router = t.router({
  ingest: webhookProcedure.mutation(({ ctx }) => {
    const machine: MachineAuth = ctx.machine
    const db: string = ctx.db
    return { from: machine.machineId, service: machine.service, db }
  }),
  ping: anyMachine.query(({ ctx }) => ctx.machine.machineId),
  open: t.procedure.query(({ ctx }) => ctx.machine?.machineId ?? null),
})
