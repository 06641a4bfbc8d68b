import cjs from './trpc.js'

// Throw the ESM build's TRPCError for ESM applications (see useTrpcServer). The peer is
// optional: without it, requireMachine reports the missing dependency when called.
try {
  cjs.useTrpcServer(await import('@trpc/server'))
} catch {}

export const { createM2MContext, requireMachine, trpcErrorFor } = cjs

export default cjs
