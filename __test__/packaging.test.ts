// What the npm packages promise, checked from the checkout (scripts/user-install.mjs checks the
// packed tarballs): every ESM entry matches its CommonJS module, the typings of ./native leave out
// only the test hooks, package.json's exports/optionalDependencies/napi targets and npm/ agree,
// the ESM typings are fresh, and a failed load of the addon explains itself.
import { describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

const require = createRequire(import.meta.url)
const root = join(__dirname, '..')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const { bindingLoadError, platformKey, supportedPlatforms } = require('../lib/binding-error.js')

/** CommonJS exports the ESM entries leave out on purpose: helpers shared inside lib/, not in the typings. */
const INTERNAL: Record<string, string[]> = { console: ['serviceEnvName'], trpc: ['useTrpcServer'] }

describe('entry points', () => {
  it('each lib/<name>.mjs exports exactly the public exports of lib/<name>.js, the same objects', () => {
    // In a plain Node process: Vitest loads ESM and CommonJS through different module graphs.
    const script = `
      import { createRequire } from 'node:module'
      const require = createRequire(${JSON.stringify(join(root, 'package.json'))})
      const out = {}
      for (const name of ['index', 'm2m', 'console', 'trpc', 'emulator', 'native', 'express', 'fastify', 'hono', 'next', 'otel']) {
        const cjs = require('./lib/' + name + '.js')
        const esm = await import(${JSON.stringify(root)} + '/lib/' + name + '.mjs')
        out[name] = {
          cjs: Object.keys(cjs).filter((k) => !k.startsWith('__')),
          esm: Object.keys(esm).filter((k) => k !== 'default'),
          different: Object.keys(esm).filter((k) => k !== 'default' && esm[k] !== cjs[k]),
          defaultIsModule: esm.default === cjs,
        }
      }
      console.log(JSON.stringify(out))`
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
    expect(r.stderr).toBe('')
    const out = JSON.parse(r.stdout)
    for (const [name, { cjs, esm, different, defaultIsModule }] of Object.entries<any>(out)) {
      const internal = INTERNAL[name] ?? []
      expect([name, [...esm].sort()]).toEqual([name, cjs.filter((k: string) => !internal.includes(k)).sort()])
      expect([name, different, defaultIsModule]).toEqual([name, [], true])
    }
  })

  it('the typings of ./native name every binding export but the test hooks', () => {
    const binding = require('../lib/native.js')
    const runtime = Object.keys(binding).filter((k) => !k.startsWith('__')).sort()
    const dts = readFileSync(join(root, 'lib', 'native.d.ts'), 'utf8')
    const block = /export \{([^}]*)\} from '\.\.\/index'/.exec(dts)![1]
    const typed = block.split(',').map((s) => s.trim()).filter(Boolean).sort()
    expect(typed).toEqual(runtime)
    expect(dts).not.toMatch(/__panicProbe/)
  })

  it('the ESM typings (lib/*.d.mts) are generated from the current lib/*.d.ts', () => {
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'dual-types.mjs'), '--check'], { encoding: 'utf8' })
    expect([r.status, r.stderr]).toEqual([0, ''])
  })

  it('edge runtimes and browsers get the "needs the Node.js runtime" error', () => {
    for (const file of ['unsupported-runtime.js', 'unsupported-runtime.mjs']) {
      const r = spawnSync(process.execPath, [join(root, 'lib', file)], { encoding: 'utf8' })
      expect(r.status).toBe(1)
      expect(r.stderr).toMatch(/clerk-m2m-native needs the Node\.js runtime/)
      expect(r.stderr).toMatch(/ERR_CLERK_M2M_NATIVE_RUNTIME/)
    }
  })
})

describe('package.json', () => {
  const platforms = supportedPlatforms()

  it('every subpath has edge, import and require conditions whose files exist; typesVersions cover them for node10', () => {
    for (const [subpath, entry] of Object.entries<any>(pkg.exports)) {
      if (subpath === './package.json') continue
      expect(Object.keys(entry), subpath).toEqual(['edge-light', 'workerd', 'browser', 'import', 'require', 'default'])
      for (const cond of ['import', 'require']) {
        expect(Object.keys(entry[cond])[0], `${subpath} ${cond}: types first`).toBe('types')
        for (const file of Object.values<string>(entry[cond])) expect(existsSync(join(root, file)), file).toBe(true)
      }
      expect(entry.import.types).toMatch(/\.d\.mts$/)
      expect(entry.require.types).toMatch(/\.d\.ts$/)
      if (subpath !== '.') expect(pkg.typesVersions['*'][subpath.slice(2)]).toEqual([entry.require.types])
    }
  })

  it('the frameworks are optional peers, and no adapter loads its framework (nothing is imported unless its subpath is used)', () => {
    for (const peer of ['@trpc/server', 'express', 'fastify', 'hono', 'next', '@opentelemetry/api']) {
      expect([peer, pkg.peerDependenciesMeta[peer]]).toEqual([peer, { optional: true }])
      expect(pkg.dependencies?.[peer]).toBeUndefined()
    }
    const script = `
      const before = new Set(Object.keys(require.cache))
      for (const name of ['express', 'fastify', 'hono', 'next', 'otel']) require('./lib/' + name + '.js')
      const loaded = Object.keys(require.cache).filter((f) => !before.has(f) && f.includes('node_modules'))
      console.log(JSON.stringify(loaded))`
    const r = spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' })
    expect([r.stderr, JSON.parse(r.stdout)]).toEqual(['', []])
  })

  it('npm/ has one package per napi target; optionalDependencies are left to packing (scripts/package.mjs, napi prepublish)', () => {
    // In the checkout they would name versions the registry does not have yet, and `npm ci` fails;
    // scripts/user-install.mjs checks them in the packed manifest.
    expect(pkg.optionalDependencies).toBeUndefined()
    expect(pkg.scripts.prepublishOnly).toBe('napi prepublish -t npm')
    expect(readdirSync(join(root, 'npm')).sort()).toEqual([...platforms].sort())
    for (const p of platforms) {
      const sub = JSON.parse(readFileSync(join(root, 'npm', p, 'package.json'), 'utf8'))
      expect([sub.name, sub.version, sub.main, sub.files]).toEqual([`${pkg.name}-${p}`, pkg.version, `${pkg.napi.binaryName}.${p}.node`, [`${pkg.napi.binaryName}.${p}.node`]])
    }
    expect(platforms).toEqual(expect.arrayContaining(['linux-x64-gnu', 'linux-arm64-gnu', 'linux-x64-musl', 'linux-arm64-musl', 'darwin-x64', 'darwin-arm64', 'win32-x64-msvc', 'win32-arm64-msvc']))
  })

  it('the bin is named after the package, clerk-m2m an alias; repository, license and files are set', () => {
    expect(pkg.bin).toEqual({ 'clerk-m2m-native': 'bin/clerk-m2m-native.js', 'clerk-m2m': 'bin/clerk-m2m-native.js' })
    expect(pkg.license).toBe('MIT')
    expect(existsSync(join(root, 'LICENSE'))).toBe(true)
    expect(existsSync(join(root, 'CHANGELOG.md'))).toBe(true)
    expect(pkg.repository.url).toMatch(/^git\+https:\/\/github\.com\//)
    expect(pkg.files).toEqual(expect.arrayContaining(['index.js', 'index.d.ts', 'lib/', 'bin/', 'CHANGELOG.md']))
  })
})

describe('a failed load of the addon', () => {
  const original = Object.assign(new Error('Cannot find native binding. npm has a bug…'), { cause: new Error('Cannot find module') })

  it('names the platform, libc, the package it looked for and the supported list, keeping the loader error as cause', () => {
    const e = bindingLoadError(original, { platform: 'linux', arch: 'x64', libc: { libc: 'musl', version: null } })
    expect(e.code).toBe('ERR_CLERK_M2M_NATIVE_BINDING')
    expect(e.name).toBe('NativeBindingError')
    expect(e.cause).toBe(original)
    expect(e.platform).toBe('linux-x64-musl')
    expect(e.packageName).toBe('clerk-m2m-native-linux-x64-musl')
    expect(e.message).toContain('linux x64 with musl libc')
    expect(e.message).toContain('clerk-m2m-native-linux-x64-musl')
    expect(e.message).toContain(`Supported platforms: ${supportedPlatforms().join(', ')}`)
    expect(e.message).toMatch(/--omit=optional/)
    const gnu = bindingLoadError(original, { platform: 'linux', arch: 'arm64', libc: { libc: 'gnu', version: '2.31' } })
    expect(gnu.message).toContain('linux arm64 with glibc 2.31')
    expect(gnu.packageName).toBe('clerk-m2m-native-linux-arm64-gnu')
    const win = bindingLoadError(original, { platform: 'win32', arch: 'arm64', libc: null })
    expect(win.packageName).toBe('clerk-m2m-native-win32-arm64-msvc')
  })

  it('says so when the platform is not supported at all, and when glibc is too old', () => {
    const e = bindingLoadError(original, { platform: 'freebsd', arch: 'x64', libc: null })
    expect(e.message).toContain('freebsd-x64 is not a supported platform')
    const old = bindingLoadError(original, { platform: 'linux', arch: 'x64', libc: { libc: 'gnu', version: '2.12' } })
    expect(old.message).toContain('needs glibc 2.17 or newer')
  })

  it('the platform key of this process is what the loader looks for', () => {
    const libc = process.platform === 'linux' ? ((process.report as any).getReport().header.glibcVersionRuntime ? 'gnu' : 'musl') : undefined
    const key = platformKey(process.platform, process.arch, libc)
    expect(existsSync(join(root, `${pkg.napi.binaryName}.${key}.node`))).toBe(true)
  })
})
