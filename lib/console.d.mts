// Generated from console.d.ts by scripts/dual-types.mjs (the typings of the ESM entry); do not edit.
// Types of clerk-m2m-native/console: machine auth for services configured through environment variables.
import type { M2MToken } from './m2m.mjs'

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

/** Why a machine was not authenticated. Messages never contain a token or a secret. */
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
   * `key-unusable`, `not-yet-valid`, `not-found`, `refused`); `expired` and `revoked` for those
   * codes; for `unavailable`: `rate-limited`, `server-error`, `timeout`, `connect`, `network`,
   * `invalid-response`, `body-too-large`, `redirect`, `misconfigured`, `internal`…
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

/** Reads `Authorization: Bearer <token>` (case-insensitive, trimmed) and verifies it. Never throws. */
export declare function authenticateM2MRequest(requestOrHeaders: RequestOrHeaders | null | undefined, options?: VerifyM2MTokenOptions): Promise<M2MAuthResult>

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
