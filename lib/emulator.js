'use strict'
// Runs the Clerk Backend API emulator as a child process and drives its admin API
// (`/__emulator/…`). The child is this package's own CLI (`clerk-m2m-native emulator --json`,
// the emulator linked into the addon) run with this Node, so it works from an npm install with no
// Rust; `bin` or CLERK_BAPI_EMULATOR_BIN runs the cargo-built `clerk-bapi-emulator` instead.
// The child never outlives this process: it exits when its stdin closes (which happens when this
// process dies, however it dies), and a process 'exit' hook kills any emulator still running.

const { spawn } = require('node:child_process')
const { statSync } = require('node:fs')
const path = require('node:path')

const CLI = path.join(__dirname, '..', 'bin', 'clerk-m2m-native.js')
const DEFAULT_STARTUP_TIMEOUT_MS = 30_000
const STOP_TIMEOUT_MS = 5_000
const ADMIN_TIMEOUT_MS = 10_000
/** Bytes of the child's stderr kept for error messages. */
const STDERR_TAIL_BYTES = 8 * 1024
/** Longest start-up line accepted (the line carries PEM keys; 16 MiB is far beyond that). */
const MAX_LINE_BYTES = 16 * 1024 * 1024

/** Emulators still running, killed when this process exits. */
const running = new Set()
let exitHookInstalled = false

function installExitHook() {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const child of running) {
      try {
        child.kill('SIGKILL')
      } catch {
        // Already gone.
      }
    }
  })
}

function isFile(p) {
  try {
    return statSync(p).isFile()
  } catch {
    return false
  }
}

/**
 * The command `startEmulator` runs: `process.execPath <package>/bin/clerk-m2m-native.js emulator
 * --json --watch-stdin`, or an executable named by `options.bin` / `$CLERK_BAPI_EMULATOR_BIN` (the
 * cargo-built `clerk-bapi-emulator`, which prints the same line and watches stdin by default).
 * A named executable that does not exist is an error (no silent fallback).
 */
function emulatorCommand(options = {}) {
  const explicit = options.bin ?? process.env.CLERK_BAPI_EMULATOR_BIN
  if (explicit) {
    if (!isFile(explicit)) {
      throw new Error(`emulator executable not found at ${explicit} (from ${options.bin ? 'options.bin' : 'CLERK_BAPI_EMULATOR_BIN'}).`)
    }
    return { command: explicit, args: buildArgs(options) }
  }
  return { command: process.execPath, args: [CLI, 'emulator', '--json', '--watch-stdin', ...buildArgs(options)] }
}

function machineArg(m) {
  if (typeof m === 'string') return m
  if (!m || typeof m.name !== 'string' || m.name === '') throw new TypeError('each machine needs a non-empty name')
  const scopes = m.scopes ?? []
  return scopes.length > 0 ? `${m.name}:${scopes.join(',')}` : m.name
}

function buildArgs(options) {
  const args = []
  if (options.port != null) args.push('--port', String(options.port))
  if (options.instances != null) args.push('--instances', String(options.instances))
  for (const m of options.machines ?? []) args.push('--machine', machineArg(m))
  if (options.rejectInactiveTokens) args.push('--reject-inactive-tokens')
  if (options.seed != null) args.push('--seed', String(options.seed))
  if (options.state != null) args.push('--state', String(options.state))
  if (options.host != null) args.push('--host', String(options.host))
  for (const name of options.allowHosts ?? []) args.push('--allow-host', String(name))
  return args
}

function byName(machines) {
  const out = {}
  for (const m of machines) out[m.name] = m
  return out
}

/** Waits for the child's first stdout line (the JSON start-up document). */
function readStartupLine(child, timeoutMs, stderrTail) {
  return new Promise((resolve, reject) => {
    let buffered = ''
    let settled = false
    const fail = (message) => {
      if (settled) return
      settled = true
      cleanup()
      try {
        child.kill('SIGKILL')
      } catch {
        // Already gone.
      }
      const tail = stderrTail().trim()
      reject(new Error(tail ? `${message}\n--- emulator stderr ---\n${tail}` : message))
    }
    const onData = (chunk) => {
      buffered += chunk.toString('utf8')
      const newline = buffered.indexOf('\n')
      if (newline === -1) {
        if (buffered.length > MAX_LINE_BYTES) fail('the emulator printed an oversized start-up line')
        return
      }
      if (settled) return
      try {
        const info = JSON.parse(buffered.slice(0, newline))
        settled = true
        cleanup()
        resolve(info)
      } catch (e) {
        fail(`the emulator printed an unparsable start-up line: ${e.message}`)
      }
    }
    const onExit = (code, signal) => fail(`the emulator exited before it was ready (code ${code}, signal ${signal})`)
    const onError = (e) => fail(`could not start the emulator: ${e.message}`)
    const timer = setTimeout(() => fail(`the emulator did not report ready within ${timeoutMs} ms`), timeoutMs)
    function cleanup() {
      clearTimeout(timer)
      child.stdout.off('data', onData)
      child.off('exit', onExit)
      child.off('error', onError)
    }
    child.stdout.on('data', onData)
    child.once('exit', onExit)
    child.once('error', onError)
  })
}

/**
 * Starts an emulator child process and resolves once it listens.
 * @param {import('./emulator').StartEmulatorOptions} [options]
 * @returns {Promise<import('./emulator').Emulator>}
 */
async function startEmulator(options = {}) {
  const { command, args } = emulatorCommand(options)
  const timeoutMs = options.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS
  installExitHook()
  const child = spawn(command, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...(options.env ?? {}) },
    windowsHide: true,
  })
  running.add(child)
  let stderr = ''
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES)
  })
  // The stdin pipe is the lifeline: never written, it closes when this process dies.
  child.stdin.on('error', () => {})
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  exited.then(() => running.delete(child))

  let info
  try {
    info = await readStartupLine(child, timeoutMs, () => stderr)
  } catch (e) {
    running.delete(child)
    throw e
  }
  // Keep draining stdout so the child can never block on a full pipe.
  child.stdout.on('data', () => {})
  // A forgotten emulator must not keep this process alive; the exit hook and the stdin lifeline
  // still stop it.
  child.unref()
  for (const stream of [child.stdin, child.stdout, child.stderr]) stream.unref?.()

  const url = info.url
  // The emulator's own token: its admin API refuses state changes from browsers without it
  // (CSRF), and sending it from here keeps these calls working whatever fetch adds.
  const tokenHeader = info.adminToken ? { 'x-clerk-emulator-token': info.adminToken } : {}

  async function admin(method, adminPath, body) {
    const res = await fetch(`${url}/__emulator${adminPath}`, {
      method,
      headers: body === undefined ? tokenHeader : { ...tokenHeader, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS),
    })
    const text = await res.text()
    let json
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
    if (!res.ok) {
      const detail = json?.errors?.[0]?.long_message ?? text
      throw new Error(`emulator admin ${method} ${adminPath} failed with ${res.status}: ${detail}`)
    }
    return json
  }

  const inst = (opts) => encodeURIComponent(String(opts?.instance ?? 0))
  const machine = (m) => encodeURIComponent(String(m))
  let stopping

  const emulator = {
    url,
    dashboardUrl: info.dashboardUrl,
    secretKey: info.instances[0].secretKey,
    instances: info.instances,
    machines: byName(info.machines),
    pid: child.pid,
    info: () => admin('GET', '/info'),
    setFault: (route, fault) => admin('PUT', `/faults/${encodeURIComponent(route)}`, fault).then(() => undefined),
    clearFault: (route) => admin('DELETE', `/faults/${encodeURIComponent(route)}`).then(() => undefined),
    clearFaults: () => admin('DELETE', '/faults').then(() => undefined),
    faults: () => admin('GET', '/faults').then((r) => r.faults),
    counters: () => admin('GET', '/counters'),
    resetCounters: () => admin('DELETE', '/counters').then(() => undefined),
    requests: () => admin('GET', '/requests').then((r) => r.requests),
    clearRequests: () => admin('DELETE', '/requests').then(() => undefined),
    rotateKey: (opts) => admin('POST', `/instances/${inst(opts)}/keys`, { ...(opts?.kid ? { kid: opts.kid } : {}), ...(opts?.retirePrevious ? { retirePrevious: true } : {}) }),
    importSigningKey: ({ privateKeyPem, kid, instance } = {}) => admin('POST', `/instances/${inst({ instance })}/keys`, { kid, privateKeyPem }),
    retireKey: (kid, opts) => admin('DELETE', `/instances/${inst(opts)}/keys/${encodeURIComponent(kid)}`).then(() => undefined),
    setClockOffset: (offsetMs) => admin('PUT', '/clock', { offsetMs }),
    advanceClock: (deltaMs) => admin('PUT', '/clock', { advanceMs: deltaMs }),
    setRejectInactiveTokens: (reject, opts) => admin('PUT', `/instances/${inst(opts)}/settings`, { rejectInactiveTokens: reject }).then(() => undefined),
    createMachine: (m, opts) => admin('POST', `/instances/${inst(opts)}/machines`, m),
    updateMachine: (m, changes, opts) => admin('PATCH', `/instances/${inst(opts)}/machines/${machine(m)}`, changes),
    deleteMachine: (m, opts) => admin('DELETE', `/instances/${inst(opts)}/machines/${machine(m)}`).then(() => undefined),
    allowMachine: (from, to, opts) => admin('POST', `/instances/${inst(opts)}/machines/${machine(from)}/scopes`, { to }),
    disallowMachine: (from, to, opts) => admin('DELETE', `/instances/${inst(opts)}/machines/${machine(from)}/scopes/${machine(to)}`),
    rotateMachineSecretKey: (m, rotation, opts) => admin('POST', `/instances/${inst(opts)}/machines/${machine(m)}/secret_key/rotate`, { previousTokenTtl: rotation?.previousTokenTtl ?? 0 }),
    mintToken: (request, opts) => admin('POST', `/instances/${inst(opts)}/m2m_tokens`, request),
    tokens: (filter, opts) => {
      const q = new URLSearchParams()
      if (filter?.machine) q.set('machine', filter.machine)
      if (filter?.revoked) q.set('revoked', 'true')
      if (filter?.expired) q.set('expired', 'true')
      if (filter?.limit != null) q.set('limit', String(filter.limit))
      const query = q.toString()
      return admin('GET', `/instances/${inst(opts)}/m2m_tokens${query ? `?${query}` : ''}`)
    },
    revokeToken: (id, reason, opts) => admin('POST', `/instances/${inst(opts)}/m2m_tokens/${encodeURIComponent(id)}/revoke`, { reason }),
    inspect: (token, opts) => admin('POST', `/instances/${inst(opts)}/inspect`, { token }),
    seedOAuthToken: (seed, opts) => admin('POST', `/instances/${inst(opts)}/oauth_tokens`, seed),
    seedApiKey: (seed, opts) => admin('POST', `/instances/${inst(opts)}/api_keys`, seed),
    signJwt: (header, payload, opts) => admin('POST', `/instances/${inst(opts)}/sign`, { header, payload }).then((r) => r.token),
    stop() {
      if (!stopping) {
        stopping = (async () => {
          if (child.exitCode !== null || child.signalCode !== null) return
          // Hold the event loop open until the child is really gone.
          child.ref()
          child.stdin.end()
          child.kill('SIGTERM')
          let timer
          const timedOut = new Promise((resolve) => {
            timer = setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS)
          })
          const outcome = await Promise.race([exited, timedOut])
          clearTimeout(timer)
          if (outcome === 'timeout') {
            child.kill('SIGKILL')
            await exited
          }
        })()
      }
      return stopping
    },
  }
  return emulator
}

module.exports = { startEmulator, emulatorCommand }
