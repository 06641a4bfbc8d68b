// Generated from fastify.d.ts by scripts/dual-types.mjs (the typings of the ESM entry); do not edit.
// Types of clerk-m2m-native/fastify (Fastify 5): `request.machine` and `request.machineAuth` by
// declaration merging.
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify'
import type { AcceptsToken, AcceptedTokenType, AllowOption, M2MAuthError, Machine, MachineAuthOptions, MachineRequestAuth } from './console.mjs'
import type { M2MVerifierStats } from './verify.mjs'

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated machine, or null. */
    machine: Machine | null
    /** What the plugin's hook found: the machine, or why not (`error`); null before the hook ran. */
    machineAuth: MachineRequestAuth | null
  }
  interface FastifyInstance {
    /** The plugin's verifier (one per registration, built at the first request). */
    machineAuthenticator: { stats(): M2MVerifierStats }
  }
}

export interface MachineAuthPluginOptions extends MachineAuthOptions<AcceptsToken> {
  /** The hook that authenticates every request (default `onRequest`). */
  hookName?: 'onRequest' | 'preParsing' | 'preValidation' | 'preHandler'
  /** The realm of the `WWW-Authenticate: Bearer` challenge (default "api"). */
  realm?: string
  /** Hears of every failure requireMachine answers (e.g. to log it); the error never holds a secret. */
  onError?: (error: M2MAuthError, request: FastifyRequest) => void
}

/** Decorates requests with `machine` and `machineAuth` and authenticates every request; never rejects. Register it once. */
export declare const machineAuthPlugin: FastifyPluginCallback<MachineAuthPluginOptions>

export interface RequireMachineOptions<A extends AcceptsToken = 'm2m_token'> {
  /** The token types this route accepts (default `'m2m_token'`), among those the plugin accepts. */
  acceptsToken?: A
  /** Service names or machine ids (M2M tokens only), or a predicate over every accepted token type. */
  allow?: AllowOption<AcceptedTokenType<A>>
  /** Machine ids or service names that must all be among the token's scopes. */
  requireScope?: string | readonly string[]
}

/** A route hook (`onRequest`, `preHandler`…) that lets only authenticated machines through and answers failures. */
export declare function requireMachine<A extends AcceptsToken = 'm2m_token'>(
  options?: RequireMachineOptions<A>,
): (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) => Promise<void>

/** The machine requireMachine admitted; throws (code `ERR_CLERK_M2M_NO_MACHINE`) when there is none. */
export declare function getMachine(request: FastifyRequest): Machine
