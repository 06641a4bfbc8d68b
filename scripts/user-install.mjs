#!/usr/bin/env node
// The package as a user gets it: `npm run package`, then a new project in a temporary directory
// that installs only those tarballs (plus @trpc/server, express, fastify, hono, @hono/node-server,
// @types/express and typescript from the registry) with no cargo or rustc on its PATH, and there:
//   - require and import of every subpath, and the edge-runtime condition's clear error;
//   - the loader's diagnostic error when the platform package is missing;
//   - `npx clerk-m2m-native emulator --env`, a token minted against it with `setup-tokens`, and
//     that token verified by the installed package (API, CLI and the clerk-m2m alias); the
//     dashboard URL it prints, and the page and its assets served from the installed addon;
//   - an Express, a Fastify and a Hono app and a Next.js route handler, as the README writes them,
//     answering that token 200 and a request without one 401 with the Bearer challenge;
//   - startEmulator() from ESM and CJS; `npx clerk-m2m-native demo`;
//   - tsc over a .mts and a .cts file using the tRPC helper (requireMachine must narrow
//     ctx.machine) and the four framework adapters under nodenext, node16, bundler and node10 —
//     and a negative file that must fail, so the check can fail;
//   - attw and publint on the tarball (run from this checkout).
// Every step asserts; the first failure exits 1 with what went wrong.
//
// Usage: node scripts/user-install.mjs [--tarballs DIR] [--keep]
//   --tarballs DIR  use the tarballs already in DIR (release smoke tests: no build, no attw/publint)
//   --keep          keep the temporary project (its path is printed)
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const tarballsArg = args.includes('--tarballs') ? args[args.indexOf('--tarballs') + 1] : undefined
const keep = args.includes('--keep')
const isWindows = process.platform === 'win32'
const started = Date.now()
const timings = []

async function step(name, fn) {
  const t0 = Date.now()
  process.stdout.write(`--> ${name}\n`)
  await fn()
  timings.push([name, Date.now() - t0])
}

/** Runs a command to completion; asserts its exit code (0 unless `expect` says otherwise). */
function run(command, argv, { cwd, env, expect = 0, input } = {}) {
  // npm and npx are .cmd scripts on Windows, which only a shell runs (their arguments have no spaces).
  const shell = isWindows && (command === 'npm' || command === 'npx')
  const r = spawnSync(command, argv, { cwd, env, input, encoding: 'utf8', shell, maxBuffer: 64 * 1024 * 1024 })
  if (r.error) throw r.error
  if (expect !== null && r.status !== expect) {
    throw new Error(`${command} ${argv.join(' ')} exited with ${r.status ?? r.signal} (expected ${expect})\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`)
  }
  return r
}

// -------------------------------------------------------------------------------------------
// The tarballs

let dist = tarballsArg ? resolve(tarballsArg) : join(root, 'dist')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const mainTarball = () => join(dist, `${pkg.name}-${pkg.version}.tgz`)

if (!tarballsArg) {
  await step('npm run package', () => run('npm', ['run', '--silent', 'package'], { cwd: root }))
  await step('attw (node10, node16 CJS/ESM, bundler) and publint on the tarball', () => {
    const attw = run(process.execPath, [join(root, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js'), mainTarball(), '--format', 'ascii'], { cwd: root, expect: null })
    assert.equal(attw.status, 0, `attw found problems:\n${attw.stdout}${attw.stderr}`)
    assert.match(attw.stdout, /No problems found/)
    for (const tarball of readdirSync(dist).filter((f) => f.endsWith('.tgz'))) {
      const publint = run(process.execPath, [join(root, 'node_modules', 'publint', 'src', 'cli.js'), 'run', join(dist, tarball), '--strict'], { cwd: root, expect: null })
      assert.equal(publint.status, 0, `publint on ${tarball}:\n${publint.stdout}${publint.stderr}`)
      assert.match(publint.stdout, /All good!/, `publint on ${tarball} reported something:\n${publint.stdout}`)
    }
  })
}
const tarballs = readdirSync(dist).filter((f) => f.startsWith(`${pkg.name}-`) && f.endsWith('.tgz')).map((f) => join(dist, f))
assert.ok(existsSync(mainTarball()), `${mainTarball()} is missing`)
assert.ok(tarballs.length >= 2, `expected the main and a platform tarball in ${dist}, found ${tarballs.join(', ')}`)

// -------------------------------------------------------------------------------------------
// A project with no Rust

const project = mkdtempSync(join(tmpdir(), 'clerk-m2m-user-'))
const exe = (name) => (isWindows ? [`${name}.exe`] : [name])
const pathKey = Object.keys(process.env).find((k) => k.toUpperCase() === 'PATH') ?? 'PATH'
const path = (process.env[pathKey] ?? '')
  .split(delimiter)
  .filter((dir) => dir && !['cargo', 'rustc', 'rustup'].some((tool) => exe(tool).some((f) => existsSync(join(dir, f)))))
  .join(delimiter)
// A minimal environment: no CARGO_*/RUSTUP_* and no CLERK_* from the caller.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(CARGO|RUSTUP|RUSTC|CLERK_|NAPI_RS_)/.test(k)))
env[pathKey] = path
env.npm_config_audit = 'false'
env.npm_config_fund = 'false'
env.npm_config_update_notifier = 'false'

const node = (script, opts = {}) => run(process.execPath, [script], { cwd: project, env, ...opts })
const npx = (argv, opts = {}) => run('npx', ['--no-install', ...argv], { cwd: project, env, ...opts })

try {
  await step('install the tarballs into an empty project (cargo and rustc off the PATH)', () => {
    for (const tool of ['cargo', 'rustc']) {
      const r = spawnSync(tool, ['--version'], { env, shell: false })
      assert.ok(r.error || r.status !== 0, `${tool} is still reachable on the install project's PATH`)
    }
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user-app', version: '1.0.0', private: true }, null, 2))
    // The versions this checkout tests with (the registry's latest of the major where it has none).
    const pinned = (name, fallback) => (existsSync(join(root, 'node_modules', name, 'package.json')) ? `${name}@${JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version}` : `${name}@${fallback}`)
    const frameworks = [pinned('express', '5'), pinned('fastify', '5'), pinned('hono', '4'), pinned('@hono/node-server', '2'), pinned('@types/express', '5')]
    const deps = [...tarballs, pinned('@trpc/server', '11'), pinned('typescript', '5'), ...frameworks]
    run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...deps], { cwd: project, env })
    const installed = join(project, 'node_modules', pkg.name)
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'))
    const platforms = readdirSync(join(root, 'npm'))
    assert.deepEqual(Object.keys(manifest.optionalDependencies).sort(), platforms.map((p) => `${pkg.name}-${p}`).sort(), 'optionalDependencies name every platform package')
    assert.ok(Object.values(manifest.optionalDependencies).every((v) => v === pkg.version), 'at exactly this version')
    assert.ok(!readdirSync(installed, { recursive: true }).some((f) => String(f).endsWith('.node')), 'the main package carries no binary')
    const platformPackages = readdirSync(join(project, 'node_modules')).filter((d) => d.startsWith(`${pkg.name}-`))
    assert.equal(platformPackages.length, 1, `exactly one platform package is installed: ${platformPackages}`)
  })

  const subpaths = ['.', './m2m', './console', './trpc', './emulator', './native', './express', './fastify', './hono', './next', './otel']
  const spec = (s) => (s === '.' ? pkg.name : `${pkg.name}/${s.slice(2)}`)
  const expectedExports = {
    '.': ['isM2MJwt', 'verifyMachineAuthToken', 'verifyM2MToken', 'createM2MVerifier', 'createM2MClient', 'MachineTokenVerificationError', 'M2MToken', 'TokenType', 'processStats', 'metricsText', 'diagnosticsChannels'],
    './m2m': ['createM2MClient', 'M2MToken'],
    './console': ['getM2MToken', 'verifyM2MToken', 'authenticateM2MRequest', 'authenticateMachineRequest', 'createMachineAuthenticator', 'machineAuthErrorResponse', 'createM2MTokenProvider', 'M2MAuthError'],
    './trpc': ['createM2MContext', 'requireMachine', 'trpcErrorFor'],
    './emulator': ['startEmulator', 'emulatorCommand'],
    './native': ['isM2MJwt', 'decodeJwt', 'NativeVerifier', 'startNativeEmulator'],
    './express': ['requireMachine', 'machineAuth', 'getMachine'],
    './fastify': ['machineAuthPlugin', 'requireMachine', 'getMachine'],
    './hono': ['requireMachine', 'machineAuth'],
    './next': ['withMachine'],
    './otel': ['instrument'],
  }

  await step('require() and import of every subpath; startEmulator() from CJS and ESM', () => {
    writeFileSync(
      join(project, 'check.cjs'),
      `const assert = require('node:assert/strict')
const expected = ${JSON.stringify(Object.fromEntries(subpaths.map((s) => [spec(s), expectedExports[s]])))}
for (const [id, names] of Object.entries(expected)) {
  const m = require(id)
  for (const name of names) assert.ok(m[name] !== undefined, id + ' lacks ' + name)
  assert.ok(require.resolve(id).includes('node_modules'), id)
}
assert.equal(require('${pkg.name}/package.json').version, '${pkg.version}')
assert.equal(require('${pkg.name}').isM2MJwt('x'), false)
require('${pkg.name}/emulator').startEmulator({ seed: 'cjs' }).then(async (emu) => {
  assert.match(emu.url, /^http:\\/\\/127\\.0\\.0\\.1:\\d+$/)
  assert.deepEqual(Object.keys(emu.machines), ['trpc', 'webhook', 'worker'])
  await emu.stop()
  console.log('cjs ok')
})
`,
    )
    writeFileSync(
      join(project, 'check.mjs'),
      `import assert from 'node:assert/strict'
const expected = ${JSON.stringify(Object.fromEntries(subpaths.map((s) => [spec(s), expectedExports[s]])))}
for (const [id, names] of Object.entries(expected)) {
  const m = await import(id)
  for (const name of names) assert.ok(m[name] !== undefined, id + ' lacks named export ' + name)
  assert.ok(m.default !== undefined, id + ' has a default export')
}
const { isM2MJwt } = await import('${pkg.name}')
assert.equal(isM2MJwt('x'), false)
const { startEmulator } = await import('${pkg.name}/emulator')
const emu = await startEmulator({ seed: 'esm' })
assert.equal(emu.instances.length, 1)
await emu.stop()
console.log('esm ok')
`,
    )
    assert.match(node('check.cjs').stdout, /cjs ok/)
    assert.match(node('check.mjs').stdout, /esm ok/)
  })

  await step('edge runtimes get a clear "needs the Node.js runtime" error', () => {
    for (const condition of ['edge-light', 'workerd', 'browser']) {
      for (const [flag, code] of [['-e', `require('${pkg.name}')`], ['--input-type=module', `import '${pkg.name}/console'`], ['-e', `require('${pkg.name}/next')`]]) {
        const r = run(process.execPath, [`--conditions=${condition}`, ...(flag === '-e' ? ['-e', code] : [flag, '-e', code])], { cwd: project, env, expect: 1 })
        assert.match(r.stderr, /ERR_CLERK_M2M_NATIVE_RUNTIME|needs the Node\.js runtime/, r.stderr)
      }
    }
  })

  await step('a missing platform package: the loader names the platform, the package and the supported list', () => {
    const platformDir = readdirSync(join(project, 'node_modules')).find((d) => d.startsWith(`${pkg.name}-`))
    const from = join(project, 'node_modules', platformDir)
    const aside = join(project, 'platform-package-aside')
    renameSync(from, aside)
    try {
      const r = run(process.execPath, ['-e', `try { require('${pkg.name}') } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, platform: e.platform, packageName: e.packageName, cause: String(e.cause && e.cause.message) })) }`], { cwd: project, env })
      const e = JSON.parse(r.stdout)
      assert.equal(e.code, 'ERR_CLERK_M2M_NATIVE_BINDING')
      assert.equal(e.packageName, platformDir)
      assert.ok(e.message.includes(platformDir) && e.message.includes('Supported platforms:') && e.message.includes('linux-x64-musl'), e.message)
      assert.match(e.cause, /Cannot find native binding/)
    } finally {
      renameSync(aside, from)
    }
  })

  let vars
  let webhookToken
  let emulator
  await step('npx clerk-m2m-native emulator --env: usable environment lines', async () => {
    emulator = spawn('npx', ['--no-install', 'clerk-m2m-native', 'emulator', '--seed', 'user-install', '--env', '--watch-stdin'], { cwd: project, env, shell: isWindows, stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    emulator.stderr.on('data', (d) => (err += d))
    const exited = new Promise((resolve) => emulator.on('exit', (code, signal) => resolve(code ?? signal)))
    emulator.exited = exited
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no env lines within 60 s: ${out}${err}`)), 60_000)
      emulator.stdout.on('data', (d) => {
        out += d
        if (/^CLERK_M2M_MACHINE_ID_WORKER=.*$/m.test(out)) {
          clearTimeout(timer)
          resolve()
        }
      })
      exited.then((code) => reject(new Error(`the emulator exited with ${code}: ${err}`)))
    })
    emulator.out = out
    vars = {}
    for (const line of out.split(/\r?\n/)) {
      const m = /^([A-Z0-9_]+)=(.*)$/.exec(line)
      if (m) vars[m[1]] = m[2].replace(/^"(.*)"$/, '$1')
    }
    for (const name of ['CLERK_API_URL', 'CLERK_SECRET_KEY', 'CLERK_JWT_KEY', 'CLERK_MACHINE_SECRET_KEY_WEBHOOK', 'CLERK_M2M_MACHINE_ID_WEBHOOK', 'CLERK_MACHINE_SECRET_KEY_TRPC', 'CLERK_M2M_MACHINE_ID_TRPC']) {
      assert.ok(vars[name], `${name} missing from:\n${out}`)
    }
  })

  await step('a token minted against it (setup-tokens), verified by the installed package', () => {
    const withVars = { ...env, ...vars }
    const minted = npx(['clerk-m2m-native', 'setup-tokens', '--service', 'webhook', '--format', 'jwt', '--ttl', '1h', '--json'], { env: withVars })
    const { env: tokenVars } = JSON.parse(minted.stdout)
    const token = tokenVars.CLERK_M2M_TOKEN_WEBHOOK
    assert.match(token, /^ey/)
    webhookToken = token
    writeFileSync(
      join(project, 'verify.mjs'),
      `import assert from 'node:assert/strict'
import { verifyM2MToken } from '${pkg.name}/console'
import { verifyM2MToken as raw, createM2MClient } from '${pkg.name}'
const t = await verifyM2MToken(process.env.CLERK_M2M_TOKEN_WEBHOOK, { receiver: 'trpc', expectedService: 'webhook' })
assert.equal(t.subject, process.env.CLERK_M2M_MACHINE_ID_WEBHOOK)
const viaJwks = await raw(process.env.CLERK_M2M_TOKEN_WEBHOOK, { apiUrl: process.env.CLERK_API_URL, secretKey: process.env.CLERK_SECRET_KEY })
assert.equal(viaJwks.errors, undefined)
const opaque = await createM2MClient({ apiUrl: process.env.CLERK_API_URL, machineSecretKey: process.env.CLERK_MACHINE_SECRET_KEY_WEBHOOK }).createToken({})
const viaApi = await raw(opaque.token, { apiUrl: process.env.CLERK_API_URL, machineSecretKey: process.env.CLERK_MACHINE_SECRET_KEY_TRPC })
assert.equal(viaApi.data.subject, process.env.CLERK_M2M_MACHINE_ID_WEBHOOK)
console.log('verified')
`,
    )
    assert.match(node('verify.mjs', { env: { ...withVars, ...tokenVars } }).stdout, /verified/)
    const cli = npx(['clerk-m2m-native', 'verify', token, '--receiver', 'trpc', '--service', 'webhook', '--json'], { env: withVars })
    assert.equal(JSON.parse(cli.stdout).valid, true)
    const alias = npx(['clerk-m2m', 'verify', '-', '--receiver', 'trpc'], { env: withVars, input: token })
    assert.match(alias.stdout, /^VALID: M2M token/)
    const inspect = npx(['clerk-m2m-native', 'inspect', token, '--json'])
    assert.equal(JSON.parse(inspect.stdout).kind, 'm2m-jwt')
  })

  await step('Express, Fastify and Hono apps and a Next.js route handler, as the README writes them: 200 for the token, 401 without', () => {
    writeFileSync(
      join(project, 'apps.mjs'),
      `import assert from 'node:assert/strict'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import { serve } from '@hono/node-server'
import * as forExpress from '${pkg.name}/express'
import * as forFastify from '${pkg.name}/fastify'
import * as forHono from '${pkg.name}/hono'
import { withMachine } from '${pkg.name}/next'

const token = process.env.CLERK_M2M_TOKEN_WEBHOOK
const webhook = process.env.CLERK_M2M_MACHINE_ID_WEBHOOK
async function check(name, url) {
  const ok = await fetch(url, { headers: { authorization: 'Bearer ' + token } })
  assert.equal(ok.status, 200, name)
  assert.equal((await ok.json()).from, webhook, name)
  const none = await fetch(url)
  assert.equal(none.status, 401, name)
  assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="api"', name)
  assert.deepEqual(await none.json(), { error: { code: 'missing', message: 'A Bearer token is required.' } }, name)
  console.log(name + ' ok')
}

const app = express()
app.get('/jobs', forExpress.requireMachine({ receiver: 'trpc', allow: ['webhook'] }), (req, res) => res.json({ from: req.machine.machineId }))
const server = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)) })
await check('express', 'http://127.0.0.1:' + server.address().port + '/jobs')
server.close()

const f = Fastify()
await f.register(forFastify.machineAuthPlugin, { receiver: 'trpc' })
f.get('/jobs', { onRequest: forFastify.requireMachine({ allow: ['webhook'] }) }, async (request) => ({ from: request.machine.machineId }))
await f.listen({ port: 0, host: '127.0.0.1' })
await check('fastify', 'http://127.0.0.1:' + f.server.address().port + '/jobs')
await f.close()

const h = new Hono()
h.use('/jobs/*', forHono.requireMachine({ receiver: 'trpc', allow: ['webhook'] }))
h.get('/jobs/latest', (c) => c.json({ from: c.get('machine').machineId }))
const hs = await new Promise((resolve) => { const s = serve({ fetch: h.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve({ s, port: info.port })) })
await check('hono', 'http://127.0.0.1:' + hs.port + '/jobs/latest')
hs.s.close()

const GET = withMachine(async (request, context, machine) => Response.json({ from: machine.machineId }), { receiver: 'trpc', allow: ['webhook'] })
const nextServer = (await import('node:http')).createServer(async (req, res) => {
  const response = await GET(new Request('http://x' + req.url, { headers: req.headers }), { params: Promise.resolve({}) })
  res.writeHead(response.status, Object.fromEntries(response.headers)).end(await response.text())
})
await new Promise((resolve) => nextServer.listen(0, '127.0.0.1', resolve))
await check('next', 'http://127.0.0.1:' + nextServer.address().port + '/api/jobs')
nextServer.close()
`,
    )
    const out = node('apps.mjs', { env: { ...env, ...vars, CLERK_M2M_TOKEN_WEBHOOK: webhookToken } }).stdout
    for (const name of ['express', 'fastify', 'hono', 'next']) assert.match(out, new RegExp(`^${name} ok$`, 'm'))
  })

  await step('the emulator prints its dashboard URL; the page and its assets load from the installed package', async () => {
    const url = /^# dashboard: (http:\/\/\S+)$/m.exec(emulator.out)?.[1]
    assert.ok(url, `no dashboard URL in:\n${emulator.out}`)
    assert.equal(url, `${vars.CLERK_API_URL}/__emulator/ui`)
    const page = await fetch(url)
    assert.equal(page.status, 200)
    const html = await page.text()
    assert.match(html, /<title>Clerk Backend API emulator<\/title>/)
    for (const asset of ['/__emulator/ui/app.js', '/__emulator/ui/app.css']) {
      const res = await fetch(`${vars.CLERK_API_URL}${asset}`)
      assert.equal(res.status, 200, asset)
      assert.ok((await res.text()).length > 1000, asset)
    }
  })

  await step('the emulator stops when its stdin closes', async () => {
    emulator.stdin.end()
    const code = await Promise.race([emulator.exited, new Promise((resolve) => setTimeout(() => resolve('timeout'), 10_000))])
    if (code === 'timeout') emulator.kill('SIGKILL')
    assert.equal(code, 0)
  })

  await step('npx clerk-m2m-native demo', () => {
    const r = npx(['clerk-m2m-native', 'demo'])
    assert.match(r.stdout, /^clerk-m2m-native demo/)
    assert.match(r.stdout, /demo: ok\s*$/)
  })

  await step('tsc: the tRPC helper and the framework adapters type the machine under nodenext, node16, bundler and node10 (.mts and .cts)', () => {
    const app = (kind) => `import { initTRPC } from '@trpc/server'
import { isM2MJwt, verifyM2MToken, type MachineAuthResult } from '${pkg.name}'
import { getM2MToken, M2MAuthError } from '${pkg.name}/console'
import { createM2MContext, requireMachine, type MachineAuth } from '${pkg.name}/trpc'
import type { Emulator } from '${pkg.name}/emulator'
import { startNativeEmulator } from '${pkg.name}/native'

const createContext = createM2MContext({ receiver: 'trpc' })
const t = initTRPC.context<Awaited<ReturnType<typeof createContext>>>().create()
const webhookOnly = t.procedure.use(requireMachine({ allow: ['webhook'] }))

export const router = t.router({
  ingest: webhookOnly.mutation(({ ctx }) => {
    const machine: MachineAuth = ctx.machine
    return { from: ctx.machine.machineId, scopes: machine.scopes }
  }),
})
export type Router = typeof router
export const kind = '${kind}'
export async function use(token: string, emu: Emulator): Promise<boolean> {
  const r: MachineAuthResult = await verifyM2MToken(token, { apiUrl: emu.url, secretKey: emu.secretKey })
  void startNativeEmulator
  try {
    getM2MToken('webhook')
  } catch (e) {
    if (e instanceof M2MAuthError) return false
  }
  return isM2MJwt(token) && !r.errors
}
`
    const negative = `import { initTRPC } from '@trpc/server'
import { createM2MContext } from '${pkg.name}/trpc'
const createContext = createM2MContext()
const t = initTRPC.context<Awaited<ReturnType<typeof createContext>>>().create()
// No requireMachine: ctx.machine may be null, so this must not compile.
export const router = t.router({ open: t.procedure.query(({ ctx }) => ctx.machine.machineId) })
`
    // The adapters as an application uses them. Hono's typings are ESM only (its package is
    // "type": "module"), so a .cts file cannot import Hono itself under node16/nodenext; there it
    // only uses this package's hono entry.
    const adapters = (kind) => `import express from 'express'
import { fastify } from 'fastify'
${kind === 'cts' ? '' : "import { Hono } from 'hono'\n"}import type { Machine } from '${pkg.name}/console'
import { requireMachine as expressMachine, machineAuth, getMachine } from '${pkg.name}/express'
import { machineAuthPlugin, requireMachine as fastifyMachine } from '${pkg.name}/fastify'
import { requireMachine as honoMachine, type MachineVariables } from '${pkg.name}/hono'
import { withMachine } from '${pkg.name}/next'

export const app = express()
app.post('/jobs', expressMachine({ receiver: 'trpc', allow: ['worker'], realm: 'orders' }), (req, res) => {
  const machine: Machine | null | undefined = req.machine
  res.json({ from: getMachine(req).machineId, tokenType: machine?.tokenType })
})
app.get('/who', machineAuth({ acceptsToken: 'any' }), (req, res) => {
  res.json(req.machineAuth?.isAuthenticated ? { subject: req.machineAuth.subject } : { error: req.machineAuth?.error.code })
})

export async function start() {
  const f = fastify()
  await f.register(machineAuthPlugin, { receiver: 'trpc', acceptsToken: ['m2m_token', 'api_key'], hookName: 'onRequest' })
  f.get('/jobs', { onRequest: fastifyMachine({ allow: ['worker'] }) }, async (request) => ({ from: request.machine?.machineId ?? null }))
  f.get('/keys', { preHandler: fastifyMachine({ acceptsToken: 'api_key' }) }, async (request) => ({ local: f.machineAuthenticator.stats().local, auth: request.machineAuth?.tokenType }))
  return f
}

const honoGate = honoMachine({ receiver: 'trpc' })
export const honoStats = (): number => honoGate.stats().remote
export type JobVariables = MachineVariables
${kind === 'cts' ? '' : `export const hono = new Hono().get('/jobs', honoGate, (c) => {
  const id: string = c.get('machine').machineId
  return c.json({ id })
}).get('/keys', honoMachine({ acceptsToken: 'api_key' }), (c) => c.json({ subject: c.get('machine').subject, machineId: c.get('machine').machineId satisfies null }))
`}
export const POST = withMachine(
  async (request, context: { params: Promise<{ id: string }> }, machine) => Response.json({ id: (await context.params).id, from: machine.machineId satisfies string, url: request.url }),
  { receiver: 'trpc', allow: ['worker'] },
)
export const GET = withMachine(async (_request, _context, machine) => Response.json({ type: machine.tokenType }), { acceptsToken: ['api_key', 'oauth_token'] })
export const kind = '${kind}'
`
    // Each must fail: the machine is possibly null on a Fastify request (the plugin never rejects),
    // and a Hono route behind requireMachine() has an M2M machine, whose machineId is a string.
    const negativeFastify = `import type { FastifyRequest } from 'fastify'
import '${pkg.name}/fastify'
export const id = (request: FastifyRequest): string => request.machine.machineId
`
    const negativeHono = `import { Hono } from 'hono'
import { requireMachine } from '${pkg.name}/hono'
export const app = new Hono().get('/jobs', requireMachine(), (c) => c.json({ none: c.get('machine').machineId satisfies null }))
`
    writeFileSync(join(project, 'app.mts'), app('mts'))
    writeFileSync(join(project, 'app.cts'), app('cts'))
    writeFileSync(join(project, 'app-node10.ts'), app('node10'))
    writeFileSync(join(project, 'adapters.mts'), adapters('mts'))
    writeFileSync(join(project, 'adapters.cts'), adapters('cts'))
    writeFileSync(join(project, 'adapters-node10.ts'), adapters('node10'))
    writeFileSync(join(project, 'negative.mts'), negative)
    writeFileSync(join(project, 'negative-fastify.mts'), negativeFastify)
    writeFileSync(join(project, 'negative-hono.mts'), negativeHono)
    const base = { strict: true, noEmit: true, skipLibCheck: false, esModuleInterop: true, target: 'es2022', lib: ['es2022', 'esnext.disposable', 'dom'], types: [] }
    const both = ['app.mts', 'app.cts', 'adapters.mts', 'adapters.cts']
    const configs = {
      nodenext: { compilerOptions: { ...base, module: 'nodenext', moduleResolution: 'nodenext' }, files: both },
      node16: { compilerOptions: { ...base, module: 'node16', moduleResolution: 'node16' }, files: both },
      bundler: { compilerOptions: { ...base, module: 'preserve', moduleResolution: 'bundler' }, files: both },
      // node10 has no .mts/.cts modes: the same files as .ts under CommonJS.
      node10: { compilerOptions: { ...base, module: 'commonjs', moduleResolution: 'node10', ignoreDeprecations: '5.0' }, files: ['app-node10.ts', 'adapters-node10.ts'] },
    }
    // Negative files, each with the error it must produce (so none of these checks can pass vacuously).
    const negatives = {
      negative: [/TS1804[789]/, 'negative.mts'],
      'negative-fastify': [/TS18047/, 'negative-fastify.mts'],
      'negative-hono': [/TS1360/, 'negative-hono.mts'],
    }
    for (const [name, [, file]] of Object.entries(negatives)) configs[name] = { compilerOptions: { ...base, module: 'nodenext', moduleResolution: 'nodenext' }, files: [file] }
    const tsc = join(project, 'node_modules', 'typescript', 'bin', 'tsc')
    for (const [name, config] of Object.entries(configs)) {
      writeFileSync(join(project, `tsconfig.${name}.json`), JSON.stringify(config, null, 2))
      const r = run(process.execPath, [tsc, '-p', `tsconfig.${name}.json`], { cwd: project, env, expect: null })
      if (negatives[name]) {
        assert.notEqual(r.status, 0, `${name} compiled: its check cannot fail`)
        assert.match(r.stdout, negatives[name][0], r.stdout)
      } else {
        assert.equal(r.status, 0, `tsc under ${name}:\n${r.stdout}${r.stderr}`)
      }
    }
  })
} finally {
  if (keep) console.log(`kept ${project}`)
  else rmSync(project, { recursive: true, force: true })
}

for (const [name, ms] of timings) console.log(`   ${(ms / 1000).toFixed(1).padStart(6)} s  ${name}`)
console.log(`user-install: ok (${((Date.now() - started) / 1000).toFixed(1)} s)`)
