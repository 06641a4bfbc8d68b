// Generated from verify.d.ts by scripts/dual-types.mjs (the typings of the ESM entry); do not edit.
// Types of verification: verifyMachineAuthToken / verifyM2MToken, their
// results, the error classes and the resource classes.
import type { M2MToken } from './m2m.mjs'

export type { M2MToken }

export interface VerifyMachineTokenOptions {
  /** Instance secret key (`sk_…`): JWKS for JWTs, credential of last resort for opaque tokens. */
  secretKey?: string
  /** Machine secret key (`ak_…`): preferred credential for opaque `mt_` tokens. Never used for JWTs. */
  machineSecretKey?: string
  /** PEM public key (SPKI or PKCS#1, RSA 2048–8192 bits): JWTs are verified with no network at all. */
  jwtKey?: string
  /** Default `https://api.clerk.com`. Must be https (http only for loopback), without credentials. */
  apiUrl?: string
  /** Default `v1` (used in the JWKS URL). */
  apiVersion?: string
  /** Allowed clock skew for exp/nbf/iat in ms. Default 5000; 0 is honoured; must be finite. */
  clockSkewInMs?: number
  /** Fetch the JWKS on every verification. */
  skipJwksCache?: boolean
  /** Expected audience(s): lenient for M2M JWTs, strict for OAuth tokens (as the reference). */
  audience?: string | string[]
  /** Deadline of each network request in ms, retries included. Default 5000, 1–120000. */
  timeoutMs?: number
  /** Tokens longer than this are refused before any work. Default 16384, 256–1048576. */
  maxTokenBytes?: number
  /**
   * Remember verified signatures (default true): a repeated token skips only the RSA operation;
   * every claim, including expiry, is still checked on each call. Bounded (10,000 entries, 5 min).
   */
  tokenCache?: boolean
  /**
   * Reuse a successful opaque-token answer for this long (ms, 0–60000; default 0 = off).
   * Trade-off: a token revoked in the meantime still verifies until its entry expires
   * (never past the token's own expiration). Concurrent identical calls always share one request.
   */
  opaqueCacheTtlMs?: number
}

export type MachineTokenVerificationErrorCodeValue = 'token-invalid' | 'secret-key-invalid' | 'unexpected-error' | 'token-verification-failed'

export declare const MachineTokenVerificationErrorCode: {
  readonly TokenInvalid: 'token-invalid'
  readonly InvalidSecretKey: 'secret-key-invalid'
  readonly UnexpectedError: 'unexpected-error'
  readonly TokenVerificationFailed: 'token-verification-failed'
}

export declare const TokenVerificationErrorAction: {
  readonly ContactSupport: 'Contact support@clerk.com'
  readonly EnsureClerkJWT: 'Make sure that this is a valid Clerk-generated JWT.'
  readonly SetClerkJWTKey: 'Set the CLERK_JWT_KEY environment variable.'
  readonly SetClerkSecretKey: 'Set the CLERK_SECRET_KEY environment variable.'
  readonly EnsureClockSync: 'Make sure your system clock is in sync (e.g. turn off and on automatic time synchronization).'
}

/**
 * Why a verification failed, as a code (ours; the reference has messages only): what the token
 * was wrong in, or that the Backend API could not answer (`unavailable`).
 */
export type FailureReasonValue =
  | 'malformed'
  | 'too-large'
  | 'wrong-type'
  | 'category'
  | 'algorithm'
  | 'signature'
  | 'key-unusable'
  | 'kid-missing'
  | 'no-key'
  | 'claims'
  | 'expired'
  | 'not-yet-valid'
  | 'revoked'
  | 'not-found'
  | 'refused'
  | 'credentials'
  | 'unavailable'
  | 'internal'

export type TransportFailureCode = 'connect' | 'timeout' | 'status' | 'rate-limited' | 'network' | 'invalid-response' | 'body-too-large' | 'redirect' | 'protocol' | 'client'

/** What failed between this package and the Clerk Backend API (the `cause` of an `unavailable` failure). */
export declare class ClerkTransportError extends Error {
  readonly name: 'ClerkTransportError'
  readonly code: TransportFailureCode
  /** The HTTP status, for `status`, `rate-limited` and `redirect`. */
  readonly status: number | undefined
  /** Seconds, from the Backend API's Retry-After. */
  readonly retryAfter: number | undefined
  /** How many times the request was sent. */
  readonly attempts: number
}

export declare class MachineTokenVerificationError extends Error {
  static kind: 'MachineTokenVerificationError'
  readonly clerkError: true
  code: MachineTokenVerificationErrorCodeValue
  longMessage: undefined
  docsUrl: undefined
  /** HTTP status of the Backend API answer, when there was one. */
  status?: number
  action?: string
  /** Ours, not enumerable (the reference's fields are unchanged): why, as a code. */
  readonly reason?: FailureReasonValue
  /** For a Backend API or JWKS that could not answer: what failed (the reference leaves it undefined). */
  cause: ClerkTransportError | undefined
  constructor(options: { message: string; code: MachineTokenVerificationErrorCodeValue; status?: number; action?: string })
  /** `<message> (code=<code>, status=<status or n/a>)`. */
  getFullMessage(): string
}

export interface ClerkAPIErrorMeta {
  paramName?: string
  sessionId?: string
  traceId?: string
  [key: string]: unknown
}

export declare class ClerkAPIError {
  code: string
  message: string
  longMessage?: string
  meta: ClerkAPIErrorMeta
}

export declare class ClerkAPIResponseError extends Error {
  static kind: 'ClerkAPIResponseError'
  readonly clerkError: true
  readonly code: 'api_response_error'
  /** Undefined for network failures and timeouts. */
  status?: number
  clerkTraceId?: string
  retryAfter?: number
  errors: ClerkAPIError[]
  /** Ours, not enumerable: why, as a code (`credentials`, `not-found`, `unavailable`…). */
  readonly reason?: FailureReasonValue
  /** Ours, not enumerable: for `unavailable`, what failed on the way. */
  readonly transport?: ClerkTransportError
  /** Ours, not enumerable: `timeout`, `connect`, `network`… for a failure without a status; null for an API answer. */
  readonly failureKind?: string | null
}

export declare function isClerkAPIResponseError(err: unknown): err is ClerkAPIResponseError

/** Options that cannot work (wrong types, non-finite numbers, a non-https apiUrl…). */
export declare class InvalidOptionsError extends TypeError {
  readonly code: 'invalid-options'
}

export interface OAuthActor {
  iss?: string
  sub: string
  act?: OAuthActor
}

export declare class IdPOAuthAccessToken {
  id: string
  clientId: string
  type: string
  subject: string
  scopes: string[]
  revoked: boolean
  revocationReason: string | null
  expired: boolean
  expiration: number | null
  createdAt: number
  updatedAt: number
  aud?: string[]
  act?: OAuthActor
}

export declare class APIKey {
  id: string
  type: string
  name: string
  subject: string
  scopes: string[]
  claims: Record<string, unknown> | null
  revoked: boolean
  revocationReason: string | null
  expired: boolean
  expiration: number | null
  createdBy: string | null
  description: string | null
  lastUsedAt: number | null
  createdAt: number
  updatedAt: number
  secret?: string
}

export type MachineTokenResult<T, K extends string> =
  | { data: T; tokenType: K; errors: undefined }
  | { data: undefined; tokenType: K; errors: [MachineTokenVerificationError] }

export type MachineAuthResult =
  | MachineTokenResult<M2MToken, 'm2m_token'>
  | MachineTokenResult<IdPOAuthAccessToken, 'oauth_token'>
  | MachineTokenResult<APIKey, 'api_key'>

/**
 * `verifyMachineAuthToken` of @clerk/backend: resolves `{ data, tokenType, errors }`;
 * rejects with `Error('Unknown machine token type')` for tokens it cannot route.
 */
export declare function verifyMachineAuthToken(token: string, options?: VerifyMachineTokenOptions): Promise<MachineAuthResult>

/** M2M tokens only (an M2M JWT or an opaque `mt_` token); anything else is a `token-invalid` result. */
export declare function verifyM2MToken(token: string, options?: VerifyMachineTokenOptions): Promise<MachineTokenResult<M2MToken, 'm2m_token'>>

export interface M2MVerifierOptions extends VerifyMachineTokenOptions {
  /** Behave like verifyM2MToken instead of verifyMachineAuthToken. */
  m2mOnly?: boolean
}

export interface M2MVerifierStats {
  /** Answers served from the JS reuse map (a repeated, already verified JWT), without native code. */
  reused: number
  /** Verifications settled by native code without the network (on the calling thread, or on a worker thread when offloaded). */
  local: number
  /** Verifications that went to the async runtime (network). */
  remote: number
  /** Native outcomes by token type × code (`ok`, or the error code). Process-wide counters: `processStats()`. */
  outcomes: import('./observability.mjs').OutcomeCounts
  /** Calls handed to worker threads because they overlapped others (a lone call never is). */
  offloaded: number
}

export interface M2MVerifier {
  verify(token: string): Promise<MachineAuthResult>
  /** One result per token, in order, using every core; an unroutable token's entry is an Error. */
  verifyMany(tokens: string[]): Promise<Array<MachineAuthResult | Error>>
  /** Throws once closed. */
  stats(): M2MVerifierStats
  /**
   * Releases the verifier: its reuse entries now, its native state (parsed key, counters, opt-in
   * opaque answers) once calls in flight have settled. Later calls reject with `code: 'verifier-closed'`.
   * A verifier dropped without close() is released when it is garbage-collected.
   */
  close(): void
}

/** A verifier bound to one option set (keys parsed once, no per-call option handling). */
export declare function createM2MVerifier(options?: M2MVerifierOptions): M2MVerifier
