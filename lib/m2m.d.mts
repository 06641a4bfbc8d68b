// Generated from m2m.d.ts by scripts/dual-types.mjs (the typings of the ESM entry); do not edit.
// Types of clerk-m2m-native/m2m: the M2M token API client (`createClerkClient(...).m2m` of @clerk/backend).

/** An M2M token as the Backend API or a verified JWT describes it. Times are milliseconds since the epoch. */
export declare class M2MToken {
  readonly id: string
  readonly subject: string
  readonly scopes: string[]
  readonly claims: Record<string, unknown> | null
  readonly revoked: boolean
  readonly revocationReason: string | null
  readonly expired: boolean
  /** `null` for a token that never expires. */
  readonly expiration: number | null
  readonly createdAt: number
  readonly updatedAt: number
  /** The token itself: only on the result of `createToken`. */
  readonly token?: string
  constructor(
    id: string,
    subject: string,
    scopes: string[],
    claims: Record<string, unknown> | null,
    revoked: boolean,
    revocationReason: string | null,
    expired: boolean,
    expiration: number | null,
    createdAt: number,
    updatedAt: number,
    token?: string,
  )
  static fromJSON(data: Record<string, unknown>): M2MToken
}

export interface M2MClientOptions {
  /** Instance secret key (sk_…): credential of last resort, and JWKS access for JWT verification. */
  secretKey?: string
  /** Machine secret key (ak_…): the credential used for every call unless a call gives its own. */
  machineSecretKey?: string
  /** PEM public key: M2M JWTs are then verified without any network. */
  jwtKey?: string
  /** Default `https://api.clerk.com`; must be https (http only for loopback hosts), without credentials. */
  apiUrl?: string
  /** Deadline of each call in milliseconds, retries included. Default 5000, 1–120000. */
  timeoutMs?: number
}

export interface CreateM2MTokenParams {
  /** Wins over the client's keys for this call. */
  machineSecretKey?: string
  /** Lifetime in seconds; `null`/omitted = the token never expires. */
  secondsUntilExpiration?: number | null
  /** Custom claims (nested keys are sent as written). */
  claims?: Record<string, unknown> | null
  /** Server-side reuse of an opaque token that still has at least this many seconds left. */
  minRemainingTtlSeconds?: number
  /** Default 'opaque'. */
  tokenFormat?: 'opaque' | 'jwt'
}

export interface RevokeM2MTokenParams {
  m2mTokenId: string
  revocationReason?: string | null
  machineSecretKey?: string
}

export interface ListM2MTokensParams {
  /** The machine id (mch_…) whose tokens to list. */
  subject: string
  revoked?: boolean
  expired?: boolean
  limit?: number
  offset?: number
  machineSecretKey?: string
}

export interface VerifyM2MTokenParams {
  token: string
  /** Used for opaque tokens only (JWTs are verified locally). */
  machineSecretKey?: string
}

export interface PaginatedM2MTokens {
  data: M2MToken[]
  totalCount: number
}

export declare class M2MClient {
  constructor(options?: M2MClientOptions)
  /** `POST /m2m_tokens`. Rejects with a ClerkAPIResponseError; never retried. */
  createToken(params?: CreateM2MTokenParams): Promise<M2MToken>
  /** `POST /m2m_tokens/{id}/revoke`. Throws `Error('A valid resource ID is required.')` for an empty id. */
  revokeToken(params: RevokeM2MTokenParams): Promise<M2MToken>
  /** `GET /m2m_tokens?…`. */
  list(params: ListM2MTokensParams): Promise<PaginatedM2MTokens>
  /**
   * An M2M JWT is verified locally and a failure is thrown as a MachineTokenVerificationError;
   * anything else goes to `POST /m2m_tokens/verify` (ClerkAPIResponseError on failure).
   */
  verify(params: VerifyM2MTokenParams): Promise<M2MToken>
}

/** `createClerkClient({ secretKey, machineSecretKey, apiUrl }).m2m`, standalone. Throws InvalidOptionsError for bad options. */
export declare function createM2MClient(options?: M2MClientOptions): M2MClient
