// Types of clerk-m2m-native/express (Express 4 and 5). They need no @types/express; with it,
// `req.machine` and `req.machineAuth` are typed on Express's Request.
import type { AcceptsToken, M2MAuthError, Machine, MachineAuthOptions, MachineRequestAuth } from './console'
import type { M2MVerifierStats } from './verify'

declare global {
  namespace Express {
    interface Request {
      /** The authenticated machine (requireMachine), or null (machineAuth, not authenticated). */
      machine?: Machine | null
      /** What authentication found: the machine, or why not (`error`). */
      machineAuth?: MachineRequestAuth
    }
  }
}

export interface ExpressMachineOptions<A extends AcceptsToken = 'm2m_token'> extends MachineAuthOptions<A> {
  /** The realm of the `WWW-Authenticate: Bearer` challenge (default "api"). */
  realm?: string
  /** Hears of every failure before it is answered (e.g. to log it); the error never holds a secret. */
  onError?: (error: M2MAuthError, req: any) => void
}

/** An Express middleware, with the counters of its verifier (built once, at the first request). */
export interface MachineMiddleware {
  (req: any, res: any, next: (err?: any) => void): void
  stats(): M2MVerifierStats
}

/**
 * Lets only authenticated machines through (`req.machine`); answers failures itself: 401, 403, 429,
 * 500 or 503 with `WWW-Authenticate`/`Retry-After` and `{ error: { code, message } }`.
 */
export declare function requireMachine<A extends AcceptsToken = 'm2m_token'>(options?: ExpressMachineOptions<A>): MachineMiddleware

/** Never rejects: sets `req.machineAuth` (the whole result) and `req.machine` (or null). */
export declare function machineAuth<A extends AcceptsToken = 'm2m_token'>(options?: MachineAuthOptions<A>): MachineMiddleware

/** The machine requireMachine authenticated; throws (code `ERR_CLERK_M2M_NO_MACHINE`) when there is none. */
export declare function getMachine(req: { machine?: Machine | null }): Machine
