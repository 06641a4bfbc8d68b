// Types of clerk-m2m-native/trpc (peer: @trpc/server v11).
import type { TRPCError, TRPCMiddlewareFunction } from '@trpc/server'
import type { AcceptedTokenType, AcceptsToken, AllowOption, M2MAuthError, Machine, MachineRequestAuth, MachineTokenType, VerifyM2MTokenOptions } from './console'

/** The machine that called a procedure with an M2M token. The raw token is deliberately not included. */
export type MachineAuth = Machine<'m2m_token'>

export interface M2MContextHelper<T extends MachineTokenType = MachineTokenType> {
  /** Verifies the request's token once (memoized); never throws. */
  authenticate(): Promise<MachineRequestAuth<T>>
  /** A service name's machine id (CLERK_M2M_MACHINE_ID_<SERVICE>), or a machine id as is. */
  machineIdOf(serviceOrMachineId: string): string
}

export interface M2MContext<T extends MachineTokenType = 'm2m_token'> {
  /** Set when the call was authenticated (`undefined` until first use with `lazy`). */
  machine: Machine<T> | null | undefined
  /** Why not (`undefined` until first use with `lazy`). */
  m2mError: M2MAuthError | null | undefined
  m2m: M2MContextHelper<MachineTokenType>
}

export interface CreateM2MContextOptions<A extends AcceptsToken = 'm2m_token'> extends VerifyM2MTokenOptions {
  /** The token types the context verifies (default `'m2m_token'`); others leave `machine` null. */
  acceptsToken?: A
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

/** A context factory for any adapter (one verifier for all requests); the factory never throws. */
export declare function createM2MContext<A extends AcceptsToken = 'm2m_token'>(
  options?: CreateM2MContextOptions<A>,
): (opts?: M2MContextInput) => Promise<M2MContext<AcceptedTokenType<A>>>

export interface RequireMachineOptions<A extends AcceptsToken = 'm2m_token'> {
  /**
   * Service names or machine ids allowed to call (M2M tokens only), or a predicate over every
   * accepted token type. Omitted: any authenticated caller.
   */
  allow?: AllowOption<AcceptedTokenType<A>>
  /** Machine ids or service names that must all be in the token's scopes. */
  requireScope?: string | readonly string[]
  /** The token types this procedure accepts (default `'m2m_token'`), among those the context accepts. */
  acceptsToken?: A
}

/**
 * `t.procedure.use(requireMachine({ allow: ['webhook'] }))`: UNAUTHORIZED, FORBIDDEN,
 * TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE or INTERNAL_SERVER_ERROR on failure (by the status of
 * machineAuthErrorResponse); on success the context's `machine` is non-null.
 */
export declare function requireMachine<A extends AcceptsToken = 'm2m_token'>(
  options?: RequireMachineOptions<A>,
): TRPCMiddlewareFunction<M2MContext<any>, any, object, { machine: Machine<AcceptedTokenType<A>>; m2mError: null }, unknown>

/** The TRPCError an M2MAuthError maps to (through machineAuthErrorResponse's status). */
export declare function trpcErrorFor(error: unknown): TRPCError
