#!/usr/bin/env node
// The package as a user gets it: `npm run package`, then a new project in a temporary directory
// that installs only those tarballs (plus @trpc/server and typescript from the registry) with no
// cargo or rustc on its PATH, and there:
//   - require and import of every subpath, and the edge-runtime condition's clear error;
//   - the loader's diagnostic error when the platform package is missing;
//   - `npx clerk-m2m-native emulator --env`, a token minted against it with `setup-tokens`, and
//     that token verified by the installed package (API, CLI and the clerk-m2m alias); the
//     dashboard URL it prints, and the page and its assets served from the installed addon;
//   - startEmulator() from ESM and CJS; `npx clerk-m2m-native demo`;
//   - tsc over a .mts and a .cts file using the tRPC helper (requireMachine must narrow
//     ctx.machine) under nodenext, node16, bundler and node10 — and a negative file that must
//     fail, so the check can fail;
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
    const pinned = (name) => `${name}@${JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version}`
    const deps = [...tarballs, existsSync(join(root, 'node_modules', '@trpc', 'server')) ? pinned('@trpc/server') : '@trpc/server@11', existsSync(join(root, 'node_modules', 'typescript')) ? pinned('typescript') : 'typescript@5']
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

  const subpaths = ['.', './m2m', './console', './trpc', './emulator', './native']
  const spec = (s) => (s === '.' ? pkg.name : `${pkg.name}/${s.slice(2)}`)
  const expectedExports = {
    '.': ['isM2MJwt', 'verifyMachineAuthToken', 'verifyM2MToken', 'createM2MVerifier', 'createM2MClient', 'MachineTokenVerificationError', 'M2MToken', 'TokenType'],
    './m2m': ['createM2MClient', 'M2MToken'],
    './console': ['getM2MToken', 'verifyM2MToken', 'authenticateM2MRequest', 'createM2MTokenProvider', 'M2MAuthError'],
    './trpc': ['createM2MContext', 'requireMachine', 'trpcErrorFor'],
    './emulator': ['startEmulator', 'emulatorCommand'],
    './native': ['isM2MJwt', 'decodeJwt', 'NativeVerifier', 'startNativeEmulator'],
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
      for (const [flag, code] of [['-e', `require('${pkg.name}')`], ['--input-type=module', `import '${pkg.name}/console'`]]) {
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

  await step('tsc: the tRPC helper narrows ctx.machine under nodenext, node16, bundler and node10 (.mts and .cts)', () => {
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
    writeFileSync(join(project, 'app.mts'), app('mts'))
    writeFileSync(join(project, 'app.cts'), app('cts'))
    writeFileSync(join(project, 'app-node10.ts'), app('node10'))
    writeFileSync(join(project, 'negative.mts'), negative)
    const base = { strict: true, noEmit: true, skipLibCheck: false, target: 'es2022', lib: ['es2022', 'esnext.disposable', 'dom'], types: [] }
    const configs = {
      nodenext: { compilerOptions: { ...base, module: 'nodenext', moduleResolution: 'nodenext' }, files: ['app.mts', 'app.cts'] },
      node16: { compilerOptions: { ...base, module: 'node16', moduleResolution: 'node16' }, files: ['app.mts', 'app.cts'] },
      bundler: { compilerOptions: { ...base, module: 'preserve', moduleResolution: 'bundler' }, files: ['app.mts', 'app.cts'] },
      // node10 has no .mts/.cts modes: the same file as a .ts under CommonJS.
      node10: { compilerOptions: { ...base, module: 'commonjs', moduleResolution: 'node10', ignoreDeprecations: '5.0' }, files: ['app-node10.ts'] },
      negative: { compilerOptions: { ...base, module: 'nodenext', moduleResolution: 'nodenext' }, files: ['negative.mts'] },
    }
    const tsc = join(project, 'node_modules', 'typescript', 'bin', 'tsc')
    for (const [name, config] of Object.entries(configs)) {
      writeFileSync(join(project, `tsconfig.${name}.json`), JSON.stringify(config, null, 2))
      const r = run(process.execPath, [tsc, '-p', `tsconfig.${name}.json`], { cwd: project, env, expect: null })
      if (name === 'negative') {
        assert.notEqual(r.status, 0, 'the negative file compiled: the narrowing check cannot fail')
        assert.match(r.stdout, /TS1804[789]/, r.stdout)
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
