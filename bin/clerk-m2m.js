#!/usr/bin/env node
'use strict'
// clerk-m2m: create long-lived M2M tokens for services, inspect tokens, verify them.
// Exit codes: 0 success, 1 failure (token rejected, API error), 2 usage error.

const path = require('node:path')

const USAGE = `Usage: clerk-m2m <command> [options]

Commands:
  setup-tokens --service NAME [--service NAME…] [--ttl 365d] [--format opaque|jwt]
      Creates one long-lived token per service with the service's machine secret key
      (CLERK_MACHINE_SECRET_KEY_<SERVICE>) and prints the .env lines to add:
        CLERK_M2M_TOKEN_<SERVICE>=…   and   CLERK_M2M_MACHINE_ID_<SERVICE>=…
      --ttl: lifetime as 90s, 30m, 12h, 365d, 1y, a number of seconds, or "never"
             (default 365d; JWT tokens need an expiry).
      --format: opaque (default; revocable, verified through the Clerk API) or jwt
             (verified without network with CLERK_JWT_KEY or the JWKS).
  inspect <token|->
      Shows what a token is and, for a JWT, its decoded header, claims and expiry.
      Nothing is verified. "-" reads the token from stdin.
  verify <token|-> [--service NAME…] [--receiver NAME]
      Verifies with the environment's keys (CLERK_JWT_KEY, CLERK_SECRET_KEY,
      CLERK_MACHINE_SECRET_KEY_<RECEIVER>, CLERK_API_URL). Exit 0 if valid, 1 if not.
      --service: the token must belong to this sender; --receiver: this service's
      name (its machine id, if known, must be in the token's scopes).

Options:
  --api-url URL   overrides CLERK_API_URL
  --timeout MS    network deadline per call (default 10000)
  --json          machine-readable output (inspect, verify)
  -h, --help      this help
  -v, --version   the package version

Environment: CLERK_API_URL, CLERK_SECRET_KEY, CLERK_JWT_KEY, CLERK_MACHINE_SECRET_KEY_<SERVICE>.
`

class UsageError extends Error {}

const FLAGS_WITH_VALUE = new Set(['--service', '--ttl', '--format', '--receiver', '--api-url', '--timeout'])
const BOOLEAN_FLAGS = new Set(['--json', '--help', '-h', '--version', '-v'])

/** `{ command, positionals, flags: { name: [values] } }`; `--flag=value` and `--flag value` both work. */
function parseArgs(argv) {
  const flags = {}
  const positionals = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '-' || !arg.startsWith('-')) {
      positionals.push(arg)
      continue
    }
    const eq = arg.indexOf('=')
    const name = eq > 0 ? arg.slice(0, eq) : arg
    if (BOOLEAN_FLAGS.has(name)) {
      if (eq > 0) throw new UsageError(`${name} takes no value`)
      flags[name] = [true]
      continue
    }
    if (!FLAGS_WITH_VALUE.has(name)) throw new UsageError(`unknown option ${JSON.stringify(name.slice(0, 40))}`)
    let value
    if (eq > 0) value = arg.slice(eq + 1)
    else {
      value = argv[i + 1]
      i += 1
    }
    if (value === undefined || value === '') throw new UsageError(`${name} needs a value`)
    ;(flags[name] = flags[name] || []).push(value)
  }
  return { command: positionals[0], positionals: positionals.slice(1), flags }
}

function single(flags, name) {
  const values = flags[name]
  if (!values) return undefined
  if (values.length > 1) throw new UsageError(`${name} may be given only once`)
  return values[0]
}

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

function timeoutOption(flags) {
  const t = single(flags, '--timeout')
  if (t === undefined) return 10000
  const n = Number(t)
  if (!Number.isFinite(n) || n < 1 || n > 120000) throw new UsageError('--timeout must be a number of milliseconds between 1 and 120000')
  return n
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

async function setupTokens({ flags, positionals }, io) {
  const { createM2MClient } = require('../lib/m2m.js')
  const { serviceEnvName } = require('../lib/console.js')
  if (positionals.length) throw new UsageError(`setup-tokens takes no positional arguments (use --service NAME)`)
  const services = flags['--service'] || []
  if (services.length === 0) throw new UsageError('setup-tokens needs at least one --service NAME')
  if (new Set(services).size !== services.length) throw new UsageError('each --service may be given only once')
  const format = single(flags, '--format') ?? 'opaque'
  if (format !== 'opaque' && format !== 'jwt') throw new UsageError('--format must be opaque or jwt')
  const ttl = parseTtl(single(flags, '--ttl') ?? '365d')
  if (ttl === null && format === 'jwt') throw new UsageError('a JWT token needs an expiry: use --ttl with --format jwt')
  const env = io.env
  const apiUrl = single(flags, '--api-url') ?? env.CLERK_API_URL
  const timeoutMs = timeoutOption(flags)

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
    io.stderr(`clerk-m2m: set ${missing.join(', ')} (each service's machine secret key) and run again.\n`)
    return 1
  }

  const lines = []
  const created = []
  for (const p of plan) {
    try {
      const client = createM2MClient({ machineSecretKey: p.key, apiUrl, timeoutMs })
      const t = await client.createToken({ secondsUntilExpiration: ttl, tokenFormat: format })
      if (typeof t.token !== 'string' || typeof t.subject !== 'string') throw new Error('the Clerk API did not return a token')
      created.push(`${p.service} (${t.id})`)
      const expiry = typeof t.expiration === 'number' ? new Date(t.expiration).toISOString() : 'never'
      lines.push(`# ${p.service}: ${format} token ${t.id}, machine ${t.subject}, expires ${expiry}`)
      lines.push(`CLERK_M2M_TOKEN_${p.envName}=${t.token}`)
      lines.push(`CLERK_M2M_MACHINE_ID_${p.envName}=${t.subject}`)
    } catch (e) {
      if (e && e.name === 'InvalidOptionsError') {
        io.stderr(`clerk-m2m: ${e.message}\n`)
        return 2
      }
      io.stderr(`clerk-m2m: creating the token for "${p.service}" failed: ${describeError(e)}\n`)
      if (created.length) io.stderr(`clerk-m2m: already created (revoke them if you do not use them): ${created.join(', ')}\n`)
      if (lines.length) io.stdout(lines.join('\n') + '\n')
      return 1
    }
  }
  io.stderr(`clerk-m2m: created ${plan.length} token(s). Add these lines to your .env (they are secrets):\n`)
  io.stdout(lines.join('\n') + '\n')
  return 0
}

function decodeSegment(segment) {
  try {
    const text = Buffer.from(segment, 'base64url').toString('utf8')
    const value = JSON.parse(text)
    return value && typeof value === 'object' && !Array.isArray(value) ? value : undefined
  } catch {
    return undefined
  }
}

function describeTime(seconds, now) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return undefined
  const ms = seconds * 1000
  const date = new Date(ms)
  if (Number.isNaN(date.getTime())) return undefined
  const delta = Math.round((ms - now) / 1000)
  return { iso: date.toISOString(), relative: delta >= 0 ? `in ${delta} s` : `${-delta} s ago` }
}

/** What a token is, read without verifying anything. */
function inspectToken(token, now = Date.now()) {
  const shown = `${token.slice(0, 7)}…`
  if (token.startsWith('mt_')) return { verified: false, prefix: shown, kind: 'opaque-m2m', description: 'opaque M2M token (mt_…): its claims are known only to the Clerk API; use `clerk-m2m verify`' }
  if (token.startsWith('oat_')) return { verified: false, prefix: shown, kind: 'opaque-oauth', description: 'opaque OAuth access token (oat_…)' }
  if (token.startsWith('ak_')) return { verified: false, prefix: shown, kind: 'api-key', description: 'API key or machine secret key (ak_…): a secret, not a token to send to other services' }
  if (token.startsWith('sk_')) return { verified: false, prefix: shown, kind: 'secret-key', description: 'Clerk instance secret key (sk_…): a secret, never send it' }
  const parts = token.split('.')
  if (parts.length !== 3) return { verified: false, prefix: shown, kind: 'unknown', description: 'not a JWT and not a known Clerk token prefix' }
  const header = decodeSegment(parts[0])
  const claims = decodeSegment(parts[1])
  if (!header || !claims) return { verified: false, prefix: shown, kind: 'unknown', description: 'looks like a JWT but its header or payload is not a JSON object' }
  let kind = 'jwt'
  let description = 'a JWT that is not an M2M token'
  if (typeof claims.sub === 'string' && claims.sub.startsWith('mch_')) {
    kind = 'm2m-jwt'
    description = `M2M JWT of machine ${claims.sub}`
  } else if (header.typ === 'at+jwt' || header.typ === 'application/at+jwt') {
    kind = 'oauth-jwt'
    description = 'OAuth access token (JWT)'
  }
  const exp = describeTime(claims.exp, now)
  return {
    verified: false,
    prefix: shown,
    kind,
    description,
    header,
    claims,
    issuedAt: describeTime(claims.iat, now),
    notBefore: describeTime(claims.nbf, now),
    expiresAt: exp ?? null,
    expired: exp ? claims.exp * 1000 <= now : null,
  }
}

async function inspect({ flags, positionals }, io) {
  const token = await tokenArgument(positionals, 'inspect')
  const info = inspectToken(token)
  if (flags['--json']) {
    io.stdout(JSON.stringify(info, null, 2) + '\n')
  } else {
    const out = ['UNVERIFIED — decoded only; nothing here proves the token is genuine.', `token:       ${info.prefix}`, `kind:        ${info.kind} — ${info.description}`]
    if (info.header) {
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

async function verify({ flags, positionals }, io) {
  const { verifyM2MToken, M2MAuthError } = require('../lib/console.js')
  const token = await tokenArgument(positionals, 'verify')
  const options = {
    env: io.env,
    expectedService: flags['--service'],
    receiver: single(flags, '--receiver'),
    apiUrl: single(flags, '--api-url'),
    timeoutMs: timeoutOption(flags),
  }
  try {
    const t = await verifyM2MToken(token, options)
    const result = { valid: true, id: t.id, machineId: t.subject, scopes: t.scopes, claims: t.claims, expiration: t.expiration === null ? null : new Date(t.expiration).toISOString() }
    io.stdout(flags['--json'] ? JSON.stringify(result, null, 2) + '\n' : `VALID: M2M token ${t.id} of machine ${t.subject}\nscopes:     ${(t.scopes || []).join(', ') || '(none)'}\nclaims:     ${JSON.stringify(t.claims)}\nexpires at: ${result.expiration ?? 'never'}\n`)
    return 0
  } catch (e) {
    const err = e instanceof M2MAuthError ? e : new M2MAuthError('unavailable', 'verification failed unexpectedly', { cause: e, reason: 'internal' })
    const result = { valid: false, code: err.code, reason: err.reason, message: err.message, apiStatus: err.apiStatus, retryAfter: err.retryAfter }
    if (flags['--json']) io.stdout(JSON.stringify(result, null, 2) + '\n')
    else io.stderr(`INVALID (${err.code}${err.reason ? `, ${err.reason}` : ''}): ${err.message}\n`)
    return 1
  }
}

const COMMANDS = { 'setup-tokens': setupTokens, inspect, verify }

/** Runs the CLI; returns the exit code. `io` lets tests capture output and pass an environment. */
async function main(argv, io) {
  let args
  try {
    args = parseArgs(argv)
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`clerk-m2m: ${e.message}\n\n${USAGE}`)
      return 2
    }
    throw e
  }
  if (args.flags['--version'] || args.flags['-v']) {
    io.stdout(`${require(path.join(__dirname, '..', 'package.json')).version}\n`)
    return 0
  }
  if (args.flags['--help'] || args.flags['-h'] || args.command === 'help') {
    io.stdout(USAGE)
    return 0
  }
  const run = COMMANDS[args.command]
  if (!run) {
    io.stderr(args.command === undefined ? USAGE : `clerk-m2m: unknown command ${JSON.stringify(String(args.command).slice(0, 40))}\n\n${USAGE}`)
    return 2
  }
  try {
    return await run(args, io)
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`clerk-m2m: ${e.message}\n`)
      return 2
    }
    io.stderr(`clerk-m2m: ${e && e.message ? e.message : String(e)}\n`)
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
      process.stderr.write(`clerk-m2m: ${e && e.message ? e.message : String(e)}\n`)
      process.exitCode = 1
    },
  )
}

module.exports = { main, parseArgs, parseTtl, inspectToken }
