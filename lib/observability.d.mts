// Generated from observability.d.ts by scripts/dual-types.mjs (the typings of the ESM entry); do not edit.
// Types of the observability surface: the diagnostics channels' messages, `processStats()` and
// `metricsText()` (exported from the package's main entry).

/** Outcomes by token type × code (`ok`, or the error code): `{ m2m_token: { ok: 3, 'token-invalid': 1 } }`. */
export type OutcomeCounts = Partial<Record<'m2m_token' | 'oauth_token' | 'api_key' | 'session_token' | 'unroutable', Record<string, number>>>

/**
 * The context of the `clerk-m2m-native:verify` TracingChannel (start/end/asyncStart/asyncEnd/error).
 * Filled in as the verification goes: `source` once the answer's origin is known, the rest when it settles.
 */
export interface VerifyChannelContext {
  /** `machine` (verifyMachineAuthToken, a verifier) or `m2m` (verifyM2MToken, `m2mOnly`). */
  mode: 'machine' | 'm2m'
  /** 12 hex digits of the token's SHA-256: correlates calls, cannot be replayed. Never the token. */
  fingerprint: string
  /** The JWT header's `kid` (`'invalid'` when it is not a plain identifier); undefined for opaque tokens. */
  kid: string | undefined
  /** Where the answer came from: the JS reuse map, native code without the network (on the calling thread: `local`; on a worker thread, the call having overlapped others: `offload`), the network; `batch` for verifyMany. */
  source: 'reuse' | 'local' | 'offload' | 'remote' | 'batch' | undefined
  tokenType: string | undefined
  outcome: 'verified' | 'rejected' | 'unroutable' | 'error' | undefined
  /** The error code on a rejection (`token-invalid`…), `unroutable` for a token no verifier can route. */
  code: string | undefined
  /** The machine-readable reason of a rejection (`expired`, `signature`, `unavailable`…). */
  reason: string | undefined
  /** For `unavailable`: the transport failure (`timeout`, `connect`…). */
  transport: string | undefined
  /** The machine id (`mch_…`) of a verified M2M token. */
  machineId: string | undefined
  /** Backend API / JWKS requests made for this verification (each one an `http` message). */
  httpRequests: number
  durationMs: number | undefined
  /** Epoch ms. */
  startedAt: number
  /** On the `error` channel: what the call rejects with. */
  error?: unknown
}

/** A `clerk-m2m-native:http` message: one Backend API or JWKS request (all its attempts). */
export interface HttpChannelMessage {
  method: string
  /** The route template: `/v1/jwks`, `/m2m_tokens/verify`, `/m2m_tokens/{id}/revoke`… (no ids, no query). */
  route: string
  status: number | undefined
  attempts: number
  /** Epoch ms. */
  startedAt: number
  durationMs: number
  /** Seconds, from the final response's `Retry-After`. */
  retryAfter: number | undefined
  /** The transport failure (`timeout`, `connect`, `network`, `redirect`…) when no usable response came back. */
  error: string | undefined
  /** The verification that made the request. */
  verify: VerifyChannelContext | undefined
  /** The M2M client call that made it (`createToken`, `revokeToken`, `list`, `verifyOpaque`), for requests outside a verification. */
  operation: 'createToken' | 'revokeToken' | 'list' | 'verifyOpaque' | undefined
}

/** A `clerk-m2m-native:token-provider` message. */
export type TokenProviderChannelMessage =
  | { event: 'refresh'; fingerprint: string; expiresAt: number | null; durationMs: number }
  | { event: 'refresh-failed'; code: string | undefined; status: number | undefined; retryAfter: number | undefined; durationMs: number; nextAttemptAt: number }
  | { event: 'stale'; fingerprint: string; expiresAt: number | null }

export interface ProcessStats {
  /** Every verifier's outcomes since the process started (answers from the reuse map are in `reuse.hits`). */
  outcomes: OutcomeCounts
  reuse: { hits: number; entries: number; bytes: number; maxEntries: number; maxBytes: number; verifiersWithEntries: number; cachedVerifiers: number }
  jwks: { fetches: number; coalesced: number; cooldownRejections: number; scopes: number }
  signatureCache: { entries: number; capacity: number; hits: number; misses: number }
  /** Requests by route template: counts by result (`2xx`…`5xx`, `error`), attempts, a latency histogram (non-cumulative counts per bucket, then +Inf). */
  http: Array<{ route: string; requests: Record<string, number>; attempts: number; latency: { bucketsMs: number[]; counts: number[]; sumMs: number } }>
}

/** Process-wide counters. */
export declare function processStats(): ProcessStats
/** The process-wide counters in the Prometheus text exposition format 0.0.4. */
export declare function metricsText(): string
/** The diagnostics channel names. */
export declare const diagnosticsChannels: {
  readonly verify: 'clerk-m2m-native:verify'
  readonly http: 'clerk-m2m-native:http'
  readonly tokenProvider: 'clerk-m2m-native:token-provider'
}
