'use strict'
// The environment conventions of the console layer: which variable holds what for a service.
//
//   CLERK_M2M_TOKEN_<SERVICE>            the token a sender presents (pre-created, e.g. by `clerk-m2m setup-tokens`)
//   CLERK_M2M_MACHINE_ID_<SERVICE>       the machine id (mch_…) of that service
//   CLERK_MACHINE_SECRET_KEY_<SERVICE>   a machine's own secret key (the receiver's, e.g. CLERK_MACHINE_SECRET_KEY_TRPC)
//   CLERK_SECRET_KEY, CLERK_JWT_KEY, CLERK_API_URL
//
// <SERVICE> is the service name upper-cased with `-` turned into `_`
// (`inngest` → INNGEST, `billing-worker` → BILLING_WORKER). Errors name a variable, never its value.

const { argValueError } = require('./guards.js')
const { isJwtFormat } = require('./detect.js')
const { M2M_TOKEN_PREFIX, M2M_SUBJECT_PREFIX } = require('./constants.js')

const SERVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/

/** A missing or malformed environment variable; names the variable, never its value. */
class M2MConfigError extends Error {
  constructor(message, variable) {
    super(message)
    this.code = 'm2m-config'
    this.variable = variable
  }

  get name() {
    return 'M2MConfigError'
  }
}

/** Where the CLERK_* variables are read from: `options.env`, else `process.env`. */
function envOf(options) {
  const env = options && options.env
  return env && typeof env === 'object' ? env : process.env
}

/** `webhook` → `WEBHOOK`, `billing-worker` → `BILLING_WORKER`. */
function serviceEnvName(service) {
  if (typeof service !== 'string' || !SERVICE_NAME.test(service)) {
    throw argValueError('service must be a name of letters, digits, "-" or "_" (at most 64 characters), such as "webhook"')
  }
  return service.toUpperCase().replace(/-/g, '_')
}

const tokenVar = (service) => `CLERK_M2M_TOKEN_${serviceEnvName(service)}`
const machineIdVar = (service) => `CLERK_M2M_MACHINE_ID_${serviceEnvName(service)}`
const machineSecretKeyVar = (service) => `CLERK_MACHINE_SECRET_KEY_${serviceEnvName(service)}`

/** The trimmed value of an environment variable, or undefined when unset or blank. */
function readVar(env, name) {
  const v = env[name]
  if (typeof v !== 'string') return undefined
  const t = v.trim()
  return t === '' ? undefined : t
}

/** The token a sender presents, from `CLERK_M2M_TOKEN_<SERVICE>`; throws M2MConfigError naming the variable when unset. */
function getM2MToken(service, options) {
  const name = tokenVar(service)
  const token = readVar(envOf(options), name)
  if (token === undefined) {
    throw new M2MConfigError(`${name} is not set. Create the token with \`npx clerk-m2m-native setup-tokens --service ${service}\` and add the printed lines to the environment.`, name)
  }
  if (!token.startsWith(M2M_TOKEN_PREFIX) && !isJwtFormat(token)) {
    throw new M2MConfigError(`${name} does not hold an M2M token (expected an opaque mt_… token or a JWT).`, name)
  }
  return token
}

/** True when `CLERK_M2M_TOKEN_<SERVICE>` is set (non-blank). */
function isM2MConfigured(service, options) {
  return readVar(envOf(options), tokenVar(service)) !== undefined
}

/** The machine id (mch_…) of a service, from `CLERK_M2M_MACHINE_ID_<SERVICE>`; throws M2MConfigError when unset or not a machine id. */
function getExpectedMachineId(service, options) {
  const name = machineIdVar(service)
  const id = readVar(envOf(options), name)
  if (id === undefined) throw new M2MConfigError(`${name} is not set (the machine id, mch_…, of the "${service}" service).`, name)
  if (!id.startsWith(M2M_SUBJECT_PREFIX)) throw new M2MConfigError(`${name} must be a machine id starting with mch_.`, name)
  return id
}

/** A machine id given directly (mch_…) or a service name resolved through the environment. */
function resolveMachineId(idOrService, options) {
  if (typeof idOrService === 'string' && idOrService.startsWith(M2M_SUBJECT_PREFIX)) return idOrService
  return getExpectedMachineId(idOrService, options)
}

const given = (v) => v !== undefined && v !== null && v !== ''

/**
 * This receiver's own machine id, which must be among an M2M token's scopes: `receiverMachineId`
 * (an id or a service name), else CLERK_M2M_MACHINE_ID_<RECEIVER> when `receiver` is named and the
 * variable is set; undefined when neither (no scope check).
 */
function receiverMachineIdOf(options) {
  if (given(options.receiverMachineId)) return resolveMachineId(options.receiverMachineId, options)
  if (options.receiver !== undefined && readVar(envOf(options), machineIdVar(options.receiver)) !== undefined) {
    return getExpectedMachineId(options.receiver, options)
  }
  return undefined
}

/** PEMs kept in one-line environment variables often carry literal `\n`. */
function pemFromEnv(value) {
  return value && value.includes('\\n') ? value.replace(/\\n/g, '\n') : value
}

/** Verifier options passed through as given (validated by the verifier itself, lib/verify.js). */
const PASSED_THROUGH = ['timeoutMs', 'clockSkewInMs', 'maxTokenBytes', 'opaqueCacheTtlMs', 'audience']

/**
 * The verifier options of a receiver: explicit options first, then the environment
 * (CLERK_SECRET_KEY, CLERK_MACHINE_SECRET_KEY_<RECEIVER>, CLERK_JWT_KEY, CLERK_API_URL). Values are
 * not type-checked here: the verifier does that once, with the same messages as everywhere else.
 */
function receiverKeys(options) {
  const env = envOf(options)
  const pick = (name, fallback) => (given(options[name]) ? options[name] : fallback())
  const keys = {
    secretKey: pick('secretKey', () => readVar(env, 'CLERK_SECRET_KEY')),
    machineSecretKey: pick('machineSecretKey', () => (options.receiver !== undefined ? readVar(env, machineSecretKeyVar(options.receiver)) : undefined)),
    jwtKey: pick('jwtKey', () => pemFromEnv(readVar(env, 'CLERK_JWT_KEY'))),
    apiUrl: pick('apiUrl', () => readVar(env, 'CLERK_API_URL')),
  }
  for (const name of PASSED_THROUGH) if (options[name] !== undefined) keys[name] = options[name]
  return keys
}

module.exports = {
  M2MConfigError,
  envOf,
  readVar,
  serviceEnvName,
  machineSecretKeyVar,
  getM2MToken,
  isM2MConfigured,
  getExpectedMachineId,
  resolveMachineId,
  receiverMachineIdOf,
  receiverKeys,
}
