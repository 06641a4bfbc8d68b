// Generated from emulator.d.ts by scripts/dual-types.mjs (the typings of the ESM entry); do not edit.
// Types of clerk-m2m-native/emulator: runs the local Clerk Backend API emulator (linked into the
// addon) as a child process, for tests and local development.

/** Routes that can be faulted and are counted. */
export type EmulatorRoute =
  | 'jwks'
  | 'm2m_create'
  | 'm2m_list'
  | 'm2m_revoke'
  | 'm2m_verify'
  | 'oauth_verify'
  | 'api_key_verify'
  | 'machines'

/** How a route misbehaves; `times` limits it to the next N requests (default: until cleared). */
export type EmulatorFault = (
  | { type: 'delay'; ms: number }
  | { type: 'hang' }
  | { type: 'status'; status: number; retryAfter?: number | string; body?: string; contentType?: string }
  | { type: 'non_json'; status?: number; body?: string; contentType?: string }
  | { type: 'truncated_json' }
  | { type: 'oversized'; bytes: number; status?: number }
  | { type: 'slow_drip'; chunkBytes?: number; intervalMs?: number }
  | { type: 'drop' }
  | { type: 'reset'; afterBytes?: number }
  | { type: 'redirect'; location: string; status?: number }
) & { times?: number }

export interface EmulatorJwk {
  use: 'sig'
  kty: 'RSA'
  kid: string
  alg: 'RS256'
  n: string
  e: string
}

export interface EmulatorKey {
  kid: string
  publicKeyPem: string
  jwk: EmulatorJwk
}

export interface EmulatorMachine {
  id: string
  name: string
  /** Machine secret key (`ak_…`). */
  secretKey: string
  /** Ids of the machines this machine may call (its tokens' scopes). */
  scopedMachines: string[]
  instanceId: string
  defaultTokenTtl: number
}

export interface EmulatorInstance {
  index: number
  id: string
  /** Instance secret key (`sk_test_…`). */
  secretKey: string
  issuer: string
  /** Kid of the active signing key (null once every key is retired). */
  kid: string | null
  /** SPKI PEM of the active signing key (usable as `jwtKey`). */
  publicKeyPem: string | null
  keys: EmulatorKey[]
  rejectInactiveTokens: boolean
  machines: EmulatorMachine[]
}

export interface EmulatorInfo {
  url: string
  instances: EmulatorInstance[]
  /** Machines of instance 0. */
  machines: EmulatorMachine[]
  clockOffsetMs: number
}

export interface RecordedRequest {
  seq: number
  atMs: number
  route: EmulatorRoute | null
  method: string
  path: string
  query: string | null
  clerkApiVersion: string | null
  userAgent: string | null
  contentType: string | null
  authorizationPresent: boolean
  authorizationScheme: string | null
  /** First 7 characters of the credential after the scheme. */
  authorizationPrefix: string | null
  /** Body parsed as JSON (verbatim), null when empty or not JSON. */
  body: unknown
  bodyLength: number
  /** Null while pending or when no response was sent (hang, drop). */
  status: number | null
  fault: EmulatorFault['type'] | null
}

export type EmulatorCounters = Record<EmulatorRoute | 'other', number>

export interface SeededToken {
  id: string
  /** Bearer value: `oat_…` or `ak_…`. */
  secret: string
}

export interface OAuthTokenSeed {
  subject: string
  clientId?: string
  scopes?: string[]
  aud?: string[]
  /** Negative = already expired; omitted = never expires. */
  expiresInSeconds?: number
  revoked?: boolean
}

export interface ApiKeySeed {
  subject: string
  name?: string
  scopes?: string[]
  claims?: Record<string, unknown>
  description?: string
  expiresInSeconds?: number
  revoked?: boolean
}

/** Which instance an admin call targets: index (default 0) or id (`ins_…`). */
export interface InstanceSelector {
  instance?: number | string
}

export interface StartEmulatorOptions {
  /**
   * An emulator executable to run instead of this package's CLI, e.g. the cargo-built
   * `clerk-bapi-emulator` (default: `$CLERK_BAPI_EMULATOR_BIN`, else the package's own).
   */
  bin?: string
  /** Port on 127.0.0.1; default 0 (any free port). */
  port?: number
  /** Number of instances (each gets the machines); default 1. */
  instances?: number
  /** Machines by name, or `{name, scopes}` / `'name:scope,scope'`; default trpc, webhook→trpc, worker→trpc. */
  machines?: Array<string | { name: string; scopes?: string[] }>
  /** Verify endpoints answer 404 for revoked/expired tokens (default: 200 with flags). */
  rejectInactiveTokens?: boolean
  /** Derive instance ids, secret keys, signing keys and machine identities from this text: the same at every start. */
  seed?: string
  /** Default 30 000 ms. */
  startupTimeoutMs?: number
  env?: Record<string, string>
}

export interface Emulator {
  /** Base URL to pass as `apiUrl`. */
  url: string
  /** Secret key of instance 0. */
  secretKey: string
  instances: EmulatorInstance[]
  /** Machines of instance 0 by name. */
  machines: Record<string, EmulatorMachine>
  pid: number | undefined
  info(): Promise<EmulatorInfo>
  setFault(route: EmulatorRoute, fault: EmulatorFault): Promise<void>
  clearFault(route: EmulatorRoute): Promise<void>
  clearFaults(): Promise<void>
  faults(): Promise<Partial<Record<EmulatorRoute, EmulatorFault>>>
  counters(): Promise<EmulatorCounters>
  resetCounters(): Promise<void>
  requests(): Promise<RecordedRequest[]>
  clearRequests(): Promise<void>
  /** Adds a key (random or given kid) that becomes the active signer; old keys stay in JWKS. */
  rotateKey(options?: InstanceSelector & { kid?: string }): Promise<EmulatorKey>
  /**
   * Installs an RSA private key you hold (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY` PEM)
   * under `kid` as the active signer, replacing a live key with that kid; JWKS then serves it.
   */
  importSigningKey(key: { privateKeyPem: string; kid: string } & InstanceSelector): Promise<EmulatorKey>
  /** Removes a key from JWKS and signing. */
  retireKey(kid: string, options?: InstanceSelector): Promise<void>
  setClockOffset(offsetMs: number): Promise<{ offsetMs: number; nowMs: number }>
  advanceClock(deltaMs: number): Promise<{ offsetMs: number; nowMs: number }>
  setRejectInactiveTokens(reject: boolean, options?: InstanceSelector): Promise<void>
  createMachine(machine: { name: string; scopedTo?: string[]; defaultTokenTtl?: number }, options?: InstanceSelector): Promise<EmulatorMachine>
  seedOAuthToken(seed: OAuthTokenSeed, options?: InstanceSelector): Promise<SeededToken>
  seedApiKey(seed: ApiKeySeed, options?: InstanceSelector): Promise<SeededToken>
  /** Signs any header/payload with the instance's active key (RS256, or RS384/RS512 per `alg`). */
  signJwt(header: Record<string, unknown>, payload: unknown, options?: InstanceSelector): Promise<string>
  /** Stops the child (SIGTERM, then SIGKILL after 5 s) and waits for it to exit. Idempotent. */
  stop(): Promise<void>
}

export declare function startEmulator(options?: StartEmulatorOptions): Promise<Emulator>

/** The command `startEmulator` runs for these options; throws when a named executable does not exist. */
export declare function emulatorCommand(options?: StartEmulatorOptions): { command: string; args: string[] }
