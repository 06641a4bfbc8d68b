#!/usr/bin/env node
'use strict'
// clerk-m2m-native (alias clerk-m2m): a local Backend API emulator, the demo, long-lived tokens
// for services, and inspecting and verifying tokens. Each subcommand parses its own arguments
// with node:util's parseArgs and has its own --help.
// Exit codes: 0 success, 1 failure (token rejected, API error), 2 usage error.

const path = require('node:path')
const { parseArgs } = require('node:util')

const NAME = 'clerk-m2m-native'

const USAGE = `Usage: ${NAME} <command> [options]   (also installed as clerk-m2m)

Commands:
  emulator      run a local Clerk Backend API on 127.0.0.1 (JWKS, M2M tokens, machines)
  demo          mint and verify M2M tokens against an emulator; prints a report
  setup-tokens  create one long-lived M2M token per service; prints the .env lines
  inspect       decode a token and say what it is (UNVERIFIED)
  verify        verify a token with the environment's keys (exit 0 valid, 1 not)

Run \`${NAME} <command> --help\` for a command's options.
  -h, --help      this help
  -v, --version   the package version

Environment: CLERK_API_URL, CLERK_SECRET_KEY, CLERK_JWT_KEY, CLERK_MACHINE_SECRET_KEY_<SERVICE>,
CLERK_M2M_TOKEN_<SERVICE>, CLERK_M2M_MACHINE_ID_<SERVICE>.
`

class UsageError extends Error {}

/** A subcommand: its help text, its parseArgs options and its implementation. */
const COMMANDS = {}

/** node:util parseArgs with this CLI's conventions: strict, errors as UsageError. */
function parse(argv, command) {
  const { options, positionals = false } = COMMANDS[command]
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: positionals, strict: true })
  } catch (e) {
    if (e && typeof e.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS')) throw new UsageError(`${command}: ${e.message}`)
    throw e
  }
}

/** The Backend API options setup-tokens and verify share. */
const NETWORK_OPTIONS = { 'api-url': { type: 'string' }, timeout: { type: 'string' } }
const NETWORK_HELP = `  --api-url URL    overrides CLERK_API_URL
  --timeout MS     network deadline per call (default 10000)
`

const TTL_UNITS = { s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 }

/** `365d` → 31536000; `never` → null. */
function parseTtl(text) {
  if (/^(never|none)$/i.test(text)) return null
  const m = /^(\d+)([smhdwy]?)$/.exec(text)
  if (!m) throw new UsageError(`--ttl ${JSON.stringify(text.slice(0, 40))} is not a duration (examples: 3600, 90s, 30m, 12h, 365d, 1y, never)`)
  const seconds = Number(m[1]) * TTL_UNITS[m[2] || 's']
  if (!Number.isSafeInteger(seconds) || seconds < 1) throw new UsageError('--ttl must be at least 1 second')
  return seconds
}

/** An integer option within [min, max]. */
function intOption(values, name, min, max) {
  const text = values[name]
  if (text === undefined) return undefined
  const n = Number(text)
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}`)
  return n
}

function readStdin() {
  return new Promise((resolve, reject) => {
    let data = ''
    process.stdin.setEncoding('utf8')
    process.stdin.on('data', (c) => {
      data += c
      if (data.length > 1024 * 1024) reject(new UsageError('stdin is larger than 1 MiB'))
    })
    process.stdin.on('end', () => resolve(data.trim()))
    process.stdin.on('error', reject)
  })
}

async function tokenArgument(positionals, command) {
  if (positionals.length !== 1) throw new UsageError(`${command} takes exactly one token (or "-" to read it from stdin)`)
  const token = positionals[0] === '-' ? await readStdin() : positionals[0].trim()
  if (!token) throw new UsageError(`${command}: the token is empty`)
  return token
}

function timeoutOption(values) {
  return intOption(values, 'timeout', 1, 120000) ?? 10000
}

/** A Clerk API error, summarised without anything secret. */
function describeError(e) {
  if (!e || typeof e !== 'object') return String(e)
  const parts = []
  if (e.status !== undefined) parts.push(`HTTP ${e.status}`)
  const first = Array.isArray(e.errors) && e.errors[0]
  if (first) parts.push([first.code, first.longMessage || first.message].filter(Boolean).join(': '))
  else if (e.message) parts.push(e.message)
  if (e.retryAfter !== undefined) parts.push(`retry after ${e.retryAfter} s`)
  if (e.clerkTraceId) parts.push(`trace ${e.clerkTraceId}`)
  return parts.join(' — ') || 'unknown error'
}

// ---------------------------------------------------------------------------------------------
// emulator

COMMANDS.emulator = {
  usage: `Usage: ${NAME} emulator [options]

Runs a local Clerk Backend API on 127.0.0.1 — JWKS, M2M tokens (opaque and JWT), machines,
OAuth access tokens, API keys, fault injection — with a dashboard in the browser
(its URL is printed), until Ctrl-C. For local development and tests; nothing leaves the machine.

Options:
  --port N                  port (default: any free port)
  --state FILE              keep instances, keys, machines, scopes and tokens in FILE across restarts
                            (written atomically; a file that is not an emulator state file is
                            refused, never overwritten)
  --seed S                  derive instance, key and machine identities from S, so the URL's keys,
                            CLERK_JWT_KEY and machine ids are the same at every start (with --port,
                            a .env written once keeps working)
  --env                     print .env lines: CLERK_API_URL, CLERK_SECRET_KEY, CLERK_JWT_KEY,
                            CLERK_MACHINE_SECRET_KEY_<NAME>, CLERK_M2M_MACHINE_ID_<NAME>
  --json                    print the start-up document (url, instances, keys, machines) as one JSON line
  --machine NAME[:A,B]      a machine NAME allowed to call machines A and B (repeatable);
                            default: trpc, webhook:trpc, worker:trpc
  --instances N             instances, each with the machines (default 1, at most 64)
  --reject-inactive-tokens  verify endpoints answer 404 for revoked/expired tokens (default: 200 with flags)
  --host ADDR               address to listen on (default 127.0.0.1; 0.0.0.0 lets other machines in)
  --allow-host NAME         a host name the dashboard and admin API answer besides IP addresses and
                            localhost (repeatable), e.g. a Docker service name
  --watch-stdin             exit when stdin closes (for a parent process that holds the pipe)
  -h, --help                this help

Examples:
  npx ${NAME} emulator --seed dev --port 4010 --state .emulator-state.json
  npx ${NAME} emulator --seed dev --port 4010 --env > .env.emulator
  set -a; . ./.env.emulator; set +a        # then run your services against it
`,
  options: {
    port: { type: 'string' },
    seed: { type: 'string' },
    env: { type: 'boolean' },
    json: { type: 'boolean' },
    machine: { type: 'string', multiple: true },
    instances: { type: 'string' },
    'reject-inactive-tokens': { type: 'boolean' },
    host: { type: 'string' },
    state: { type: 'string' },
    'allow-host': { type: 'string', multiple: true },
    'watch-stdin': { type: 'boolean' },
  },
  run: emulator,
}

/** The human start-up report (stdout). Secrets are shown: this is a local emulator's own keys. */
function describeEmulator(info, seed) {
  const inst = info.instances[0]
  const names = Object.fromEntries(info.machines.map((m) => [m.id, m.name]))
  const width = Math.max(...info.machines.map((m) => m.name.length), 4)
  const lines = [
    `Clerk Backend API emulator on ${info.url}  (Ctrl-C to stop)`,
    `  dashboard   ${info.dashboardUrl}`,
    `  instance    ${inst.id}   secret key ${inst.secretKey}`,
    `  JWKS        ${info.url}/v1/jwks   kid ${inst.kid}`,
    ...info.machines.map((m, i) => {
      const calls = m.scopedMachines.map((id) => names[id] ?? id)
      return `  ${i === 0 ? 'machines' : '        '}    ${m.name.padEnd(width)}  ${m.id}  ${m.secretKey}${calls.length ? `  → ${calls.join(', ')}` : ''}`
    }),
    ...(info.instances.length > 1 ? [`  (+${info.instances.length - 1} more instance(s): --json shows them)`] : []),
    seed === undefined ? '  seed        none: new keys at every start (--seed S keeps them)' : '  seed        given: the same keys and ids at every start with this seed',
    ...(info.stateFile ? [`  state       ${info.stateFile.path} (kept across restarts)`] : []),
    '',
    `Point your code at it with apiUrl: '${info.url}', or print .env lines with --env.`,
  ]
  return lines.join('\n') + '\n'
}

async function emulator(argv, io) {
  const { values, positionals } = parse(argv, 'emulator')
  if (positionals.length) throw new UsageError('emulator takes no positional arguments')
  if (values.env && values.json) throw new UsageError('emulator: --env and --json are exclusive')
  if (values.seed === '') throw new UsageError('emulator: --seed must not be empty')
  if (values.state === '') throw new UsageError('emulator: --state must name a file')
  const { startNativeEmulator } = require('../lib/native.js')
  let emu
  try {
    emu = await startNativeEmulator({
      port: intOption(values, 'port', 0, 65535),
      instances: intOption(values, 'instances', 1, 64),
      machines: values.machine,
      rejectInactiveTokens: values['reject-inactive-tokens'] ?? false,
      seed: values.seed,
      host: values.host,
      state: values.state,
      allowHosts: values['allow-host'],
    })
  } catch (e) {
    if (e && e.code === 'InvalidArg') throw new UsageError(`emulator: ${e.message}`)
    throw e
  }
  // Stop signals are registered before anything is printed, so a parent that signals as soon as
  // it reads the output is never missed.
  const stopped = new Promise((resolve) => {
    // Nothing native holds the event loop open: the timer does, until a stop signal.
    const keepAlive = setInterval(() => {}, 1 << 30)
    let stopping = false
    const stop = () => {
      if (stopping) return
      stopping = true
      clearInterval(keepAlive)
      if (values['watch-stdin']) process.stdin.destroy()
      emu.stop().then(() => resolve(0), () => resolve(1))
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    if (values['watch-stdin']) {
      // The parent's pipe: it closes when the parent exits, however it exits.
      process.stdin.on('end', stop)
      process.stdin.on('close', stop)
      process.stdin.on('error', stop)
      process.stdin.resume()
    }
  })
  const info = JSON.parse(emu.info)
  if (values.json) io.stdout(`${emu.info}\n`)
  else if (values.env) {
    io.stdout(emu.env)
    io.stderr(`${NAME}: emulator on ${info.url}, dashboard ${info.dashboardUrl} (Ctrl-C to stop)\n`)
  } else io.stdout(describeEmulator(info, values.seed))
  return stopped
}

// ---------------------------------------------------------------------------------------------
// demo

COMMANDS.demo = {
  usage: `Usage: ${NAME} demo

Starts a Backend API emulator, creates two machines, mints an opaque and a JWT M2M token,
verifies them (through the API, the JWKS and a PEM key), revokes one, rejects a session-category
JWT, and times a verification. When @clerk/backend@3.25.0 is installed next to this package, it
verifies every token side by side. Prints a report; exit 0 when every answer is as expected.

Options:
  -h, --help   this help
`,
  options: {},
  run: async (argv, io) => {
    const { positionals } = parse(argv, 'demo')
    if (positionals.length) throw new UsageError('demo takes no arguments')
    const { runDemo } = await import('../lib/demo.mjs')
    return runDemo(io)
  },
}

// ---------------------------------------------------------------------------------------------
// setup-tokens

COMMANDS['setup-tokens'] = {
  usage: `Usage: ${NAME} setup-tokens --service NAME [--service NAME…] [--ttl 365d] [--format opaque|jwt] [--json]

Creates one long-lived token per service with the service's machine secret key
(CLERK_MACHINE_SECRET_KEY_<SERVICE>) and prints the .env lines to add:
  CLERK_M2M_TOKEN_<SERVICE>=…   and   CLERK_M2M_MACHINE_ID_<SERVICE>=…

Options:
  --service NAME   a service (letters, digits, - and _; repeatable)
  --ttl T          lifetime as 90s, 30m, 12h, 365d, 1y, a number of seconds, or "never"
                   (default 365d; JWT tokens need an expiry)
  --format F       opaque (default; revocable, verified through the Clerk API) or jwt
                   (verified without network with CLERK_JWT_KEY or the JWKS)
  --json           {"env": {…}, "tokens": [{service, id, machineId, format, expiration}]} on stdout
${NETWORK_HELP}  -h, --help       this help
`,
  options: {
    service: { type: 'string', multiple: true },
    ttl: { type: 'string' },
    format: { type: 'string' },
    json: { type: 'boolean' },
    ...NETWORK_OPTIONS,
  },
  run: setupTokens,
}

async function setupTokens(argv, io) {
  const { values, positionals } = parse(argv, 'setup-tokens')
  const { createM2MClient } = require('../lib/m2m.js')
  const { serviceEnvName } = require('../lib/console.js')
  if (positionals.length) throw new UsageError(`setup-tokens takes no positional arguments (use --service NAME)`)
  const services = values.service || []
  if (services.length === 0) throw new UsageError('setup-tokens needs at least one --service NAME')
  if (new Set(services).size !== services.length) throw new UsageError('each --service may be given only once')
  const format = values.format ?? 'opaque'
  if (format !== 'opaque' && format !== 'jwt') throw new UsageError('--format must be opaque or jwt')
  const ttl = parseTtl(values.ttl ?? '365d')
  if (ttl === null && format === 'jwt') throw new UsageError('a JWT token needs an expiry: use --ttl with --format jwt')
  const env = io.env
  const apiUrl = values['api-url'] ?? env.CLERK_API_URL
  const timeoutMs = timeoutOption(values)

  // Check every service's key before creating anything, so a typo creates nothing.
  const plan = services.map((service) => {
    let envName
    try {
      envName = serviceEnvName(service)
    } catch (e) {
      throw new UsageError(`--service ${JSON.stringify(service.slice(0, 40))}: ${e.message}`)
    }
    const keyVar = `CLERK_MACHINE_SECRET_KEY_${envName}`
    const key = typeof env[keyVar] === 'string' ? env[keyVar].trim() : ''
    return { service, envName, keyVar, key }
  })
  const missing = plan.filter((p) => !p.key).map((p) => p.keyVar)
  if (missing.length) {
    io.stderr(`${NAME}: set ${missing.join(', ')} (each service's machine secret key) and run again.\n`)
    return 1
  }

  const lines = []
  const vars = {}
  const tokens = []
  const output = () => (values.json ? JSON.stringify({ env: vars, tokens }, null, 2) : lines.join('\n')) + '\n'
  for (const p of plan) {
    try {
      const client = createM2MClient({ machineSecretKey: p.key, apiUrl, timeoutMs })
      const t = await client.createToken({ secondsUntilExpiration: ttl, tokenFormat: format })
      if (typeof t.token !== 'string' || typeof t.subject !== 'string') throw new Error('the Clerk API did not return a token')
      const expiration = typeof t.expiration === 'number' ? new Date(t.expiration).toISOString() : null
      tokens.push({ service: p.service, id: t.id, machineId: t.subject, format, expiration })
      lines.push(`# ${p.service}: ${format} token ${t.id}, machine ${t.subject}, expires ${expiration ?? 'never'}`)
      lines.push(`CLERK_M2M_TOKEN_${p.envName}=${t.token}`)
      lines.push(`CLERK_M2M_MACHINE_ID_${p.envName}=${t.subject}`)
      vars[`CLERK_M2M_TOKEN_${p.envName}`] = t.token
      vars[`CLERK_M2M_MACHINE_ID_${p.envName}`] = t.subject
    } catch (e) {
      if (e && e.name === 'InvalidOptionsError') {
        io.stderr(`${NAME}: ${e.message}\n`)
        return 2
      }
      io.stderr(`${NAME}: creating the token for "${p.service}" failed: ${describeError(e)}\n`)
      if (tokens.length) io.stderr(`${NAME}: already created (revoke them if you do not use them): ${tokens.map((t) => `${t.service} (${t.id})`).join(', ')}\n`)
      if (tokens.length) io.stdout(output())
      return 1
    }
  }
  io.stderr(`${NAME}: created ${plan.length} token(s). Add these lines to your .env (they are secrets):\n`)
  io.stdout(output())
  return 0
}

// ---------------------------------------------------------------------------------------------
// inspect

COMMANDS.inspect = {
  usage: `Usage: ${NAME} inspect <token|-> [--json]

Says what a token is and, for a JWT, shows its header, claims and expiry, decoded by this
package's own decoder (the one verification uses). Nothing is verified. "-" reads the token from
stdin. Exit 0 for a recognised token, 1 otherwise.

Options:
  --json       machine-readable output
  -h, --help   this help
`,
  options: { json: { type: 'boolean' } },
  positionals: true,
  run: inspect,
}

function describeTime(seconds, now) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return undefined
  const ms = seconds * 1000
  const date = new Date(ms)
  if (Number.isNaN(date.getTime())) return undefined
  const delta = Math.round((ms - now) / 1000)
  return { iso: date.toISOString(), relative: delta >= 0 ? `in ${delta} s` : `${-delta} s ago` }
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)

/**
 * What a token is, read without verifying anything. The kind comes from the package's detectors
 * (so `inspect` and `isM2MJwt` never disagree); header and claims from its native decoder.
 */
function inspectToken(token, now = Date.now()) {
  const native = require('../lib/native.js')
  const shown = `${token.slice(0, 7)}…`
  const base = { verified: false, prefix: shown }
  if (token.startsWith('mt_')) return { ...base, kind: 'opaque-m2m', description: `opaque M2M token (mt_…): its claims are known only to the Clerk API; use \`${NAME} verify\`` }
  if (token.startsWith('oat_')) return { ...base, kind: 'opaque-oauth', description: 'opaque OAuth access token (oat_…)' }
  if (token.startsWith('ak_')) return { ...base, kind: 'api-key', description: 'API key or machine secret key (ak_…): a secret, not a token to send to other services' }
  if (token.startsWith('sk_')) return { ...base, kind: 'secret-key', description: 'Clerk instance secret key (sk_…): a secret, never send it' }
  if (!native.isJwtFormat(token)) return { ...base, kind: 'unknown', description: 'not a JWT (three base64url segments) and not a known Clerk token prefix' }
  let header
  let claims
  try {
    ;[header, claims] = JSON.parse(native.decodeJwt(token))
  } catch (e) {
    return { ...base, kind: 'unknown', description: `looks like a JWT but does not decode: ${e.message}` }
  }
  let kind = 'jwt'
  let description = 'a JWT that is not a machine token'
  if (native.isM2MJwt(token)) {
    kind = 'm2m-jwt'
    description = `M2M JWT of machine ${claims.sub}`
  } else if (native.isOAuthJwt(token)) {
    kind = 'oauth-jwt'
    description = 'OAuth access token (JWT)'
  }
  const c = isObject(claims) ? claims : {}
  const exp = describeTime(c.exp, now)
  return {
    ...base,
    kind,
    description,
    header,
    claims,
    issuedAt: describeTime(c.iat, now),
    notBefore: describeTime(c.nbf, now),
    expiresAt: exp ?? null,
    expired: exp ? c.exp * 1000 <= now : null,
  }
}

async function inspect(argv, io) {
  const { values, positionals } = parse(argv, 'inspect')
  const token = await tokenArgument(positionals, 'inspect')
  const info = inspectToken(token)
  if (values.json) {
    io.stdout(JSON.stringify(info, null, 2) + '\n')
  } else {
    const out = ['UNVERIFIED — decoded only; nothing here proves the token is genuine.', `token:       ${info.prefix}`, `kind:        ${info.kind} — ${info.description}`]
    if ('header' in info) {
      out.push(`header:      ${JSON.stringify(info.header)}`)
      out.push(`claims:      ${JSON.stringify(info.claims, null, 2).replace(/\n/g, '\n             ')}`)
      if (info.issuedAt) out.push(`issued at:   ${info.issuedAt.iso} (${info.issuedAt.relative})`)
      if (info.notBefore) out.push(`not before:  ${info.notBefore.iso} (${info.notBefore.relative})`)
      out.push(info.expiresAt ? `expires at:  ${info.expiresAt.iso} (${info.expiresAt.relative})${info.expired ? ' — EXPIRED' : ''}` : 'expires at:  no valid exp claim')
    }
    io.stdout(out.join('\n') + '\n')
  }
  return info.kind === 'unknown' ? 1 : 0
}

// ---------------------------------------------------------------------------------------------
// verify

COMMANDS.verify = {
  usage: `Usage: ${NAME} verify <token|-> [--service NAME…] [--receiver NAME] [--json]

Verifies an M2M token with the environment's keys (CLERK_JWT_KEY, CLERK_SECRET_KEY,
CLERK_MACHINE_SECRET_KEY_<RECEIVER>, CLERK_API_URL). Exit 0 if valid, 1 if not.
"-" reads the token from stdin.

Options:
  --service NAME   the token must belong to this sender (repeatable: any of them)
  --receiver NAME  this service's name (its machine id, if known, must be in the token's scopes)
  --json           machine-readable output
${NETWORK_HELP}  -h, --help       this help
`,
  options: {
    service: { type: 'string', multiple: true },
    receiver: { type: 'string' },
    json: { type: 'boolean' },
    ...NETWORK_OPTIONS,
  },
  positionals: true,
  run: verify,
}

async function verify(argv, io) {
  const { values, positionals } = parse(argv, 'verify')
  const { verifyM2MToken, M2MAuthError } = require('../lib/console.js')
  const token = await tokenArgument(positionals, 'verify')
  const options = {
    env: io.env,
    expectedService: values.service,
    receiver: values.receiver,
    apiUrl: values['api-url'],
    timeoutMs: timeoutOption(values),
  }
  try {
    const t = await verifyM2MToken(token, options)
    const result = { valid: true, id: t.id, machineId: t.subject, scopes: t.scopes, claims: t.claims, expiration: t.expiration === null ? null : new Date(t.expiration).toISOString() }
    io.stdout(values.json ? JSON.stringify(result, null, 2) + '\n' : `VALID: M2M token ${t.id} of machine ${t.subject}\nscopes:     ${(t.scopes || []).join(', ') || '(none)'}\nclaims:     ${JSON.stringify(t.claims)}\nexpires at: ${result.expiration ?? 'never'}\n`)
    return 0
  } catch (e) {
    const err = e instanceof M2MAuthError ? e : new M2MAuthError('unavailable', 'verification failed unexpectedly', { cause: e, reason: 'internal' })
    const result = { valid: false, code: err.code, reason: err.reason, message: err.message, apiStatus: err.apiStatus, retryAfter: err.retryAfter }
    if (values.json) io.stdout(JSON.stringify(result, null, 2) + '\n')
    else io.stderr(`INVALID (${err.code}${err.reason ? `, ${err.reason}` : ''}): ${err.message}\n`)
    return 1
  }
}

// ---------------------------------------------------------------------------------------------

/** Runs the CLI; returns the exit code. `io` lets tests capture output and pass an environment. */
async function main(argv, io) {
  const [command, ...rest] = argv
  if (command === undefined) {
    io.stderr(USAGE)
    return 2
  }
  if (command === '-h' || command === '--help' || command === 'help') {
    const topic = command === 'help' ? rest[0] : undefined
    io.stdout(topic && COMMANDS[topic] ? COMMANDS[topic].usage : USAGE)
    return 0
  }
  if (command === '-v' || command === '--version') {
    io.stdout(`${require(path.join(__dirname, '..', 'package.json')).version}\n`)
    return 0
  }
  const cmd = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined
  if (!cmd) {
    io.stderr(`${NAME}: unknown command ${JSON.stringify(String(command).slice(0, 40))}\n\n${USAGE}`)
    return 2
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(cmd.usage)
    return 0
  }
  try {
    return await cmd.run(rest, io)
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`${NAME}: ${e.message}\n\n${cmd.usage}`)
      return 2
    }
    io.stderr(`${NAME}: ${e && e.message ? e.message : String(e)}\n`)
    return 1
  }
}

if (require.main === module) {
  const io = { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s), env: process.env }
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code
    },
    (e) => {
      process.stderr.write(`${NAME}: ${e && e.message ? e.message : String(e)}\n`)
      process.exitCode = 1
    },
  )
}

module.exports = { main, parseTtl, inspectToken, COMMANDS }
