// Generated from console.d.ts by scripts/dual-types.mjs (the typings of the ESM entry); do not edit.
// Types of clerk-m2m-native/console: machine auth for services configured through environment variables.
import type { M2MToken } from './m2m.mjs'
import type { M2MVerifierStats } from './verify.mjs'

export type { M2MToken }

export type M2MAuthErrorCodeValue = 'missing' | 'invalid' | 'expired' | 'revoked' | 'wrong-machine' | 'not-in-scope' | 'unavailable'

export declare const M2MAuthErrorCode: {
  readonly Missing: 'missing'
  readonly Invalid: 'invalid'
  readonly Expired: 'expired'
  readonly Revoked: 'revoked'
  readonly WrongMachine: 'wrong-machine'
  readonly NotInScope: 'not-in-scope'
  readonly Unavailable: 'unavailable'
}

/**
 * Why a machine was not authenticated. Messages never contain a token or a secret, and are one line
 * (no control characters) of at most 300 characters.
 */
export declare class M2MAuthError extends Error {
  readonly name: 'M2MAuthError'
  readonly code: M2MAuthErrorCodeValue
  /** For `unavailable`: the Backend API's HTTP status when there was one (429, 503…). */
  readonly apiStatus: number | undefined
  /** For `unavailable`: seconds to wait, from the Backend API's Retry-After, when known. */
  readonly retryAfter: number | undefined
  /**
   * Why, from the core's failure reason. For `invalid`: what was wrong with the token (`signature`,
   * `malformed`, `wrong-type`, `too-large`, `category`, `algorithm`, `claims`, `kid-missing`,
   * `key-unusable`, `not-yet-valid`, `not-found`, `refused`) or with the Authorization header
   * (`duplicate-header`, `malformed-header`); for `missing`: `no-header`, `other-scheme`, `no-token`;
   * `expired` and `revoked` for those codes; for `unavailable`: `rate-limited`, `server-error`,
   * `timeout`, `connect`, `network`, `invalid-response`, `body-too-large`, `redirect`,
   * `misconfigured`, `internal`…
   */
  readonly reason: string | undefined
  /** The underlying error (MachineTokenVerificationError, ClerkAPIResponseError…); not enumerable. */
  readonly cause: unknown
  constructor(code: M2MAuthErrorCodeValue, message: string, extra?: { cause?: unknown; apiStatus?: number; retryAfter?: number; reason?: string })
}

/** A missing or malformed environment variable (named in `variable`, never its value). */
export declare class M2MConfigError extends Error {
  readonly name: 'M2MConfigError'
  readonly code: 'm2m-config'
  readonly variable: string
}

/** Where the CLERK_* variables are read from (default `process.env`). */
export interface EnvOption {
  env?: Record<string, string | undefined>
}

/** `CLERK_M2M_TOKEN_<SERVICE>`; throws M2MConfigError naming the variable when it is not set. */
export declare function getM2MToken(service: string, options?: EnvOption): string
/** True when `CLERK_M2M_TOKEN_<SERVICE>` is set. */
export declare function isM2MConfigured(service: string, options?: EnvOption): boolean
/** `CLERK_M2M_MACHINE_ID_<SERVICE>` (mch_…); throws M2MConfigError when unset or not a machine id. */
export declare function getExpectedMachineId(service: string, options?: EnvOption): string

export interface VerifyM2MTokenOptions extends EnvOption {
  /** The sender(s) the token must come from (service names). */
  expectedService?: string | string[]
  /** This service's name: its CLERK_MACHINE_SECRET_KEY_<RECEIVER> verifies opaque tokens, its CLERK_M2M_MACHINE_ID_<RECEIVER> must be in the token's scopes. */
  receiver?: string
  /** This service's machine id (or service name), overriding CLERK_M2M_MACHINE_ID_<RECEIVER>. */
  receiverMachineId?: string
  /** Overrides CLERK_SECRET_KEY. */
  secretKey?: string
  /** Overrides CLERK_JWT_KEY (PEM; literal `\n` sequences in the variable are accepted). */
  jwtKey?: string
  /** Overrides CLERK_MACHINE_SECRET_KEY_<RECEIVER>. */
  machineSecretKey?: string
  /** Overrides CLERK_API_URL. */
  apiUrl?: string
  /** Deadline of a Backend API call (default 5000 ms). */
  timeoutMs?: number
  /** Allowed clock skew for expiry checks in ms (default 5000; 0 is honoured). */
  clockSkewInMs?: number
  /** Tokens longer than this are refused before any work (default 16384). */
  maxTokenBytes?: number
  /** Reuse a successful opaque-token answer for this long (ms, 0–60000; default 0 = off); see createM2MVerifier. */
  opaqueCacheTtlMs?: number
  /** Expected audience(s) of JWTs (strict for OAuth tokens). */
  audience?: string | string[]
}

/** The verified token, or throws an M2MAuthError. */
export declare function verifyM2MToken(token: string | null | undefined, options?: VerifyM2MTokenOptions): Promise<M2MToken>

/** Anything an `Authorization` header can be read from. */
export type RequestOrHeaders =
  | Request
  | Headers
  | { headers: Headers | Record<string, string | string[] | undefined> }
  | Record<string, string | string[] | undefined>

export interface M2MAuthenticated {
  isAuthenticated: true
  tokenType: 'm2m_token'
  id: string
  machineId: string
  subject: string
  scopes: string[]
  claims: Record<string, unknown> | null
  expiration: number | null
  error: null
}

export interface M2MUnauthenticated {
  isAuthenticated: false
  tokenType: 'm2m_token'
  id: null
  machineId: null
  subject: null
  scopes: null
  claims: null
  expiration: null
  error: M2MAuthError
}

export type M2MAuthResult = M2MAuthenticated | M2MUnauthenticated

/** Reads `Authorization: Bearer <token>` (case-insensitive, trimmed) and verifies it as an M2M token. Never throws. */
export declare function authenticateM2MRequest(requestOrHeaders: RequestOrHeaders | null | undefined, options?: VerifyM2MTokenOptions): Promise<M2MAuthResult>

/** The machine token types a receiver can accept. */
export type MachineTokenType = 'm2m_token' | 'api_key' | 'oauth_token'

/** As in Clerk's SDKs: one type, a list of types, or `'any'` (all three). Default `'m2m_token'`. */
export type AcceptsToken = MachineTokenType | readonly MachineTokenType[] | 'any'

/** The token types an `acceptsToken` value lets through. */
export type AcceptedTokenType<A extends AcceptsToken> = A extends 'any' ? MachineTokenType : A extends readonly (infer T)[] ? Extract<T, MachineTokenType> : Extract<A, MachineTokenType>

interface MachineBase {
  /** The token's id (`mt_…`, `ak_…`, `oat_…`). */
  id: string
  /** Who the token belongs to: a machine (`mch_…`) for M2M tokens, a user or organization for the others. */
  subject: string
  scopes: string[]
  claims: Record<string, unknown> | null
  /** Epoch milliseconds, or null when the token never expires. */
  expiration: number | null
  /** The `allow` entry (service name) that matched, when there was a list of service names. */
  service: string | null
}

/** A machine that presented an M2M token. */
export interface M2MMachine extends MachineBase {
  tokenType: 'm2m_token'
  /** The calling machine (the token's subject). */
  machineId: string
}

/** A caller that presented an API key. */
export interface ApiKeyMachine extends MachineBase {
  tokenType: 'api_key'
  machineId: null
}

/** A caller that presented an OAuth access token. */
export interface OAuthMachine extends MachineBase {
  tokenType: 'oauth_token'
  machineId: null
}

/** Who called, for the accepted token types. The raw token is deliberately not included. */
export type Machine<T extends MachineTokenType = MachineTokenType> = Extract<M2MMachine | ApiKeyMachine | OAuthMachine, { tokenType: T }>

export type MachineAuthenticated<T extends MachineTokenType = MachineTokenType> = Machine<T> & { isAuthenticated: true; error: null }

export interface MachineUnauthenticated {
  isAuthenticated: false
  /** The type of the token that was presented, when it had one. */
  tokenType: MachineTokenType | null
  id: null
  subject: null
  machineId: null
  scopes: null
  claims: null
  expiration: null
  service: null
  error: M2MAuthError
}

/** What authenticating a request found: the machine, or why not. */
export type MachineRequestAuth<T extends MachineTokenType = MachineTokenType> = MachineAuthenticated<T> | MachineUnauthenticated

/** Who may call: service names (CLERK_M2M_MACHINE_ID_<SERVICE>) or machine ids, or a predicate over the machine. */
export type AllowOption<T extends MachineTokenType = MachineTokenType> = string | readonly string[] | ((machine: Machine<T>) => boolean | Promise<boolean>)

export interface MachineAuthOptions<A extends AcceptsToken = 'm2m_token'> extends VerifyM2MTokenOptions {
  /** The token types accepted (default `'m2m_token'`). */
  acceptsToken?: A
  /**
   * Who may call. A list names machines (service names or `mch_…` ids), so it admits M2M tokens
   * only; a predicate sees every accepted token type. Omitted: any verified caller.
   */
  allow?: AllowOption<AcceptedTokenType<A>>
  /** Machine ids or service names that must all be among the token's scopes. */
  requireScope?: string | readonly string[]
}

/**
 * Reads `Authorization: Bearer <token>` and verifies it for this receiver: the accepted token types,
 * the Backend API's revoked/expired flags, `allow`, and (M2M tokens) this receiver among the token's
 * scopes. Never throws. Options and keys are read at each call; a server should prefer
 * createMachineAuthenticator (one verifier, built once).
 */
export declare function authenticateMachineRequest<A extends AcceptsToken = 'm2m_token'>(
  requestOrHeaders: RequestOrHeaders | null | undefined,
  options?: MachineAuthOptions<A>,
): Promise<MachineRequestAuth<AcceptedTokenType<A>>>

export interface MachineAuthenticator<A extends AcceptsToken = 'm2m_token'> {
  /** Never throws. */
  authenticate(requestOrHeaders: RequestOrHeaders | null | undefined): Promise<MachineRequestAuth<AcceptedTokenType<A>>>
  /** The machine a bare token belongs to; rejects with an M2MAuthError. */
  verifyToken(token: string | null | undefined): Promise<Machine<AcceptedTokenType<A>>>
  /** The verifier's counters; the verifier is built at the first request and reused after. */
  stats(): M2MVerifierStats
  /** Releases the verifier; later requests fail (`unavailable`, reason `internal`). */
  close(): void
}

/**
 * One receiver's authenticator: options read once, one verifier (built at the first request, so
 * environment variables loaded after start-up count). Throws a TypeError or InvalidOptionsError for
 * `acceptsToken`, `allow` or `requireScope` values that cannot work.
 */
export declare function createMachineAuthenticator<A extends AcceptsToken = 'm2m_token'>(options?: MachineAuthOptions<A>): MachineAuthenticator<A>

/** An HTTP answer to an authentication failure. */
export interface MachineAuthErrorResponse {
  /** 401, 403, 429, 500 or 503. */
  status: 401 | 403 | 429 | 500 | 503
  /** `WWW-Authenticate` (401, 403), `Retry-After` (429; 503 when known), `Cache-Control: no-store`. */
  headers: Record<string, string>
  body: {
    error: {
      /** The M2MAuthError code, except `rate-limited` (429) and `internal` (500). */
      code: M2MAuthErrorCodeValue | 'rate-limited' | 'internal'
      /** A fixed description: no token, key, id or request data. */
      message: string
    }
  }
}

/**
 * The one table from a failure to an HTTP answer (RFC 6750): no token → 401 `Bearer realm="…"`;
 * invalid, expired, revoked, wrong type → 401 `error="invalid_token"`; wrong machine, not in
 * scope → 403 `error="insufficient_scope"`; Backend API 429 → 429 with Retry-After; Backend API
 * down → 503 (Retry-After when known); misconfigured receiver → 500. `realm` defaults to "api".
 */
export declare function machineAuthErrorResponse(error: unknown, options?: { realm?: string }): MachineAuthErrorResponse

export interface M2MTokenProviderOptions extends EnvOption {
  /** The sender's machine secret key (ak_…). */
  machineSecretKey?: string
  /** Instead of machineSecretKey: read CLERK_MACHINE_SECRET_KEY_<SERVICE>. */
  service?: string
  /** Lifetime of each minted token (default 3600). */
  ttlSeconds?: number
  /** Refresh this long before expiry (default min(60, ttlSeconds / 2)); must be < ttlSeconds. */
  refreshBeforeSeconds?: number
  /** Default 'opaque'. */
  tokenFormat?: 'opaque' | 'jwt'
  claims?: Record<string, unknown> | null
  /** Overrides CLERK_API_URL. */
  apiUrl?: string
  timeoutMs?: number
  /** Wait after a failed refresh before trying again while the old token is valid (default 1000, or the API's Retry-After). */
  retryDelayMs?: number
  /** Clock in milliseconds (default Date.now), for tests. */
  now?: () => number
}

export interface M2MTokenProvider {
  /** A valid token: cached, refreshed before expiry by one shared request. Rejects with the API's error when no valid token is left. */
  getToken(): Promise<string>
  /** `Bearer <token>`. */
  getAuthorizationHeader(): Promise<string>
  /** Forgets the cached token. */
  invalidate(): void
  stats(): { refreshes: number; failures: number; expiresAt: number | null }
}

export declare function createM2MTokenProvider(options: M2MTokenProviderOptions): M2MTokenProvider
