// Types of clerk-m2m-native/hono (Hono 4 on Node.js): `c.get('machine')` typed through Variables.
import type { MiddlewareHandler, Context } from 'hono'
import type { AcceptsToken, AcceptedTokenType, M2MAuthError, Machine, MachineAuthOptions, MachineRequestAuth } from './console'
import type { M2MVerifierStats } from './verify'

/** The Variables requireMachine sets. */
export type MachineVariables<A extends AcceptsToken = 'm2m_token'> = {
  machine: Machine<AcceptedTokenType<A>>
  machineAuth: MachineRequestAuth<AcceptedTokenType<A>>
}

/** The Variables machineAuth sets (the machine may be null). */
export type MachineAuthVariables<A extends AcceptsToken = 'm2m_token'> = {
  machine: Machine<AcceptedTokenType<A>> | null
  machineAuth: MachineRequestAuth<AcceptedTokenType<A>>
}

export interface HonoMachineOptions<A extends AcceptsToken = 'm2m_token'> extends MachineAuthOptions<A> {
  /** The realm of the `WWW-Authenticate: Bearer` challenge (default "api"). */
  realm?: string
  /** Hears of every failure before it is answered (e.g. to log it); the error never holds a secret. */
  onError?: (error: M2MAuthError, c: Context) => void
}

/** A middleware with the counters of its verifier (built once, at the first request). */
export type MachineMiddleware<V extends object> = MiddlewareHandler<{ Variables: V }> & { stats(): M2MVerifierStats }

/** Lets only authenticated machines through (`c.get('machine')`); answers failures with status, headers and JSON. */
export declare function requireMachine<A extends AcceptsToken = 'm2m_token'>(options?: HonoMachineOptions<A>): MachineMiddleware<MachineVariables<A>>

/** Never rejects: `c.get('machineAuth')` is the whole result, `c.get('machine')` the machine or null. */
export declare function machineAuth<A extends AcceptsToken = 'm2m_token'>(options?: MachineAuthOptions<A>): MachineMiddleware<MachineAuthVariables<A>>
