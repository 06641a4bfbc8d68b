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
  /** When the secret key replaced by the last rotation stops working (Unix ms), or null. */
  previousSecretKeyExpiresAt: number | null
}

export interface EmulatorInstance {
  index: number
  id: string
  /** Instance secret key (`sk_test_…`). */
  secretKey: string
  /** A Clerk-shaped publishable key (`pk_test_…`), derived from the instance id. */
  publishableKey: string
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
  /** The dashboard, `{url}/__emulator/ui`. */
  dashboardUrl: string
  /** What a browser's state-changing admin requests must send in `X-Clerk-Emulator-Token`. */
  adminToken: string
  instances: EmulatorInstance[]
  /** Machines of instance 0. */
  machines: EmulatorMachine[]
  clockOffsetMs: number
  /** `--state FILE`: its path, the last save and the last error; null without one. */
  stateFile: { path: string; savedAtMs: number | null; error: string | null } | null
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
  /** `instance`, `machine`, `unknown` (a key the emulator does not know) or null (no key). */
  caller: 'instance' | 'machine' | 'unknown' | null
  callerMachineId: string | null
  callerMachineName: string | null
  /** Milliseconds from arrival to the response head; null while pending or when none was sent. */
  latencyMs: number | null
}

/** An M2M token as the dashboard and `tokens()` show it (with its value). */
export interface EmulatorToken {
  id: string
  format: 'opaque' | 'jwt'
  /** The minting machine's id, and its name. */
  subject: string
  machineName: string | null
  /** Ids of the machines it is for, and their names. */
  scopes: string[]
  scopeNames: Array<string | null>
  claims: Record<string, unknown> | null
  revoked: boolean
  revocationReason: string | null
  expired: boolean
  expiration: number | null
  createdAt: number
  /** The bearer value (`mt_…` or the JWT). */
  token: string | null
}

/** What `inspect()` says of a pasted token. */
export interface EmulatorInspection {
  kind: 'm2m_jwt' | 'm2m_opaque' | 'oauth_token' | 'machine_secret_key' | 'instance_secret_key' | 'empty' | 'unknown'
  verifies: boolean
  /** Why not: `expired`, `revoked`, `signature`, `kid-unknown`, `unknown-token`, `machine-deleted`, `not-m2m`… */
  reason: string | null
  message: string
  decoded: { header: Record<string, unknown>; payload: Record<string, unknown> } | null
  /** What `POST /m2m_tokens/verify` answers for it, when it finds it. */
  token: Record<string, unknown> | null
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
  /** Keep instances, keys, machines, scopes and tokens in this file across restarts. */
  state?: string
  /** Address to listen on; default 127.0.0.1. */
  host?: string
  /** Host names the dashboard and admin API answer besides IP addresses and localhost. */
  allowHosts?: string[]
  /** Default 30 000 ms. */
  startupTimeoutMs?: number
  env?: Record<string, string>
}

export interface Emulator {
  /** Base URL to pass as `apiUrl`. */
  url: string
  /** The dashboard, `{url}/__emulator/ui`. */
  dashboardUrl: string
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
  /** Adds a key (random or given kid) that becomes the active signer; old keys stay in JWKS unless `retirePrevious`. */
  rotateKey(options?: InstanceSelector & { kid?: string; retirePrevious?: boolean }): Promise<EmulatorKey>
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
  /** Renames a machine (by id or name) or changes its default token TTL. */
  updateMachine(machine: string, changes: { name?: string; defaultTokenTtl?: number }, options?: InstanceSelector): Promise<EmulatorMachine>
  /** Deletes a machine: it leaves every scope list and its tokens stop verifying. */
  deleteMachine(machine: string, options?: InstanceSelector): Promise<void>
  /** Lets machine `from` send to machine `to` (ids or names). */
  allowMachine(from: string, to: string, options?: InstanceSelector): Promise<EmulatorMachine>
  disallowMachine(from: string, to: string, options?: InstanceSelector): Promise<EmulatorMachine>
  /** A new secret key; the old one keeps working `previousTokenTtl` seconds (default 0). */
  rotateMachineSecretKey(machine: string, rotation?: { previousTokenTtl?: number }, options?: InstanceSelector): Promise<EmulatorMachine>
  /** Mints as the machine would (`POST /m2m_tokens`), untouched by faults and not logged. */
  mintToken(request: { machine: string; format?: 'opaque' | 'jwt'; secondsUntilExpiration?: number | null; claims?: Record<string, unknown> }, options?: InstanceSelector): Promise<EmulatorToken>
  /** Tokens, newest first; revoked and expired ones only when asked. */
  tokens(filter?: { machine?: string; revoked?: boolean; expired?: boolean; limit?: number }, options?: InstanceSelector): Promise<{ tokens: EmulatorToken[]; totalCount: number }>
  revokeToken(id: string, reason?: string, options?: InstanceSelector): Promise<EmulatorToken>
  /** Decodes a token and says whether it verifies against the instance, and why not. */
  inspect(token: string, options?: InstanceSelector): Promise<EmulatorInspection>
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
