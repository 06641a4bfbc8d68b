// Generated from trpc.d.ts by scripts/dual-types.mjs (the typings of the ESM entry); do not edit.
// Types of clerk-m2m-native/trpc (peer: @trpc/server v11).
import type { TRPCError, TRPCMiddlewareFunction } from '@trpc/server'
import type { M2MAuthError, M2MAuthResult, VerifyM2MTokenOptions } from './console.mjs'

/** The machine that called a procedure. The raw token is deliberately not included. */
export interface MachineAuth {
  tokenType: 'm2m_token'
  id: string
  machineId: string
  subject: string
  scopes: string[]
  claims: Record<string, unknown> | null
  expiration: number | null
  /** The `allow` entry (service name) that matched, when requireMachine had one. */
  service: string | null
}

export interface M2MContextHelper {
  /** Verifies the request's token once (memoized); never throws. */
  authenticate(): Promise<M2MAuthResult>
  /** A service name's machine id (CLERK_M2M_MACHINE_ID_<SERVICE>), or a machine id as is. */
  machineIdOf(serviceOrMachineId: string): string
}

export interface M2MContext {
  /** Set when the call was authenticated (`undefined` until first use with `lazy`). */
  machine: MachineAuth | null | undefined
  /** Why not (`undefined` until first use with `lazy`). */
  m2mError: M2MAuthError | null | undefined
  m2m: M2MContextHelper
}

export interface CreateM2MContextOptions extends VerifyM2MTokenOptions {
  /** Verify only when a requireMachine procedure runs. */
  lazy?: boolean
}

/** What any tRPC adapter passes to createContext: `{ req, … }` (Node or Fetch request), or a request/headers directly. */
export type M2MContextInput =
  | { req?: unknown; [key: string]: unknown }
  | Request
  | Headers
  | Record<string, unknown>
  | undefined

/** A context factory for any adapter; never throws. */
export declare function createM2MContext(options?: CreateM2MContextOptions): (opts?: M2MContextInput) => Promise<M2MContext>

export interface RequireMachineOptions {
  /** Service names or machine ids allowed to call, or a predicate. Omitted: any authenticated machine. */
  allow?: string | string[] | ((machine: MachineAuth) => boolean | Promise<boolean>)
  /** Machine ids or service names that must all be in the token's scopes. */
  requireScope?: string | string[]
}

/**
 * `t.procedure.use(requireMachine({ allow: ['webhook'] }))`: UNAUTHORIZED, FORBIDDEN,
 * TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE or INTERNAL_SERVER_ERROR on failure; on
 * success the context's `machine` is non-null.
 */
export declare function requireMachine(
  options?: RequireMachineOptions,
): TRPCMiddlewareFunction<M2MContext, any, object, { machine: MachineAuth; m2mError: null }, unknown>

/** The TRPCError an M2MAuthError maps to. */
export declare function trpcErrorFor(error: M2MAuthError): TRPCError
