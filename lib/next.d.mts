// Generated from next.d.ts by scripts/dual-types.mjs (the typings of the ESM entry); do not edit.
// Types of clerk-m2m-native/next: App Router route handlers on the Node.js runtime (the Fetch
// Request/Response contract; no import of Next.js).
import type { AcceptsToken, AcceptedTokenType, M2MAuthError, Machine, MachineAuthOptions } from './console.mjs'
import type { M2MVerifierStats } from './verify.mjs'

export interface NextMachineOptions<A extends AcceptsToken = 'm2m_token'> extends MachineAuthOptions<A> {
  /** The realm of the `WWW-Authenticate: Bearer` challenge (default "api"). */
  realm?: string
  /** Hears of every failure before it is answered (e.g. to log it); the error never holds a secret. */
  onError?: (error: M2MAuthError, request: Request) => void
}

/** A route handler that also takes the authenticated machine. */
export type MachineRouteHandler<C, T extends Machine> = (request: Request, context: C, machine: T) => Response | Promise<Response>

/** The wrapped handler, with the counters of its verifier (built once, at the first request). */
export type WithMachineRouteHandler<C> = ((request: Request, context: C) => Promise<Response>) & { stats(): M2MVerifierStats }

/**
 * `export const POST = withMachine(async (request, context, machine) => Response.json(…), { allow: ['worker'] })`:
 * the handler runs only for an authenticated machine; failures are answered with status, headers and JSON.
 */
export declare function withMachine<C = any, A extends AcceptsToken = 'm2m_token'>(
  handler: MachineRouteHandler<C, Machine<AcceptedTokenType<A>>>,
  options?: NextMachineOptions<A>,
): WithMachineRouteHandler<C>
