#!/usr/bin/env node
// `npm run package`: builds this machine's addon and writes installable tarballs into dist/ —
// the main package and this platform's binary package (npm/<platform>/), as `npm publish` would
// upload them. Install both into any project:
//   npm install ./dist/clerk-m2m-native-<version>.tgz ./dist/clerk-m2m-native-<platform>-<version>.tgz
//
// The main package's optionalDependencies (every platform package at exactly this version) are
// written into the packed manifest only, as `napi prepublish` does at publish time: in the
// checkout they would name packages the registry does not have yet (a new version is published
// after it is committed), and `npm ci` refuses a lockfile that cannot contain them.
//
// Usage: node scripts/package.mjs [--no-build]   (--no-build: package the addon already built)
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(join(root, 'package.json'))
const pkg = require('./package.json')
const { platformKey, supportedPlatforms } = require('./lib/binding-error.js')
const dist = join(root, 'dist')

function run(command, args, cwd = root) {
  const r = spawnSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', shell: process.platform === 'win32' })
  if (r.status !== 0) {
    process.stdout.write(r.stdout ?? '')
    throw new Error(`${command} ${args.join(' ')} failed (${r.status ?? r.signal})`)
  }
  return r.stdout
}

if (!process.argv.includes('--no-build')) run(process.execPath, [join(root, 'scripts', 'build.mjs')])
run(process.execPath, [join(root, 'scripts', 'dual-types.mjs'), '--check'])

const libc = process.platform === 'linux' ? (process.report?.getReport?.().header?.glibcVersionRuntime ? 'gnu' : 'musl') : undefined
const platform = platformKey(process.platform, process.arch, libc)
const binary = `${pkg.napi.binaryName}.${platform}.node`
const platformDir = join(root, 'npm', platform)
if (!existsSync(platformDir)) throw new Error(`${platform} is not among the napi targets (no npm/${platform}/)`)
if (!existsSync(join(root, binary))) throw new Error(`${binary} is not built (run node scripts/build.mjs)`)
// What `napi artifacts` does in the release workflow, for this one platform.
copyFileSync(join(root, binary), join(platformDir, binary))
copyFileSync(join(root, 'LICENSE'), join(platformDir, 'LICENSE'))

rmSync(dist, { recursive: true, force: true })
mkdirSync(dist)

// The main package, staged: the files `npm pack` would take, and the manifest with its
// optionalDependencies.
const stage = join(dist, 'stage')
const [{ files }] = JSON.parse(run('npm', ['pack', '--dry-run', '--json', '--silent']))
for (const { path } of files) {
  mkdirSync(dirname(join(stage, path)), { recursive: true })
  copyFileSync(join(root, path), join(stage, path))
}
const manifest = { ...pkg, optionalDependencies: Object.fromEntries(supportedPlatforms().map((p) => [`${pkg.name}-${p}`, pkg.version])) }
writeFileSync(join(stage, 'package.json'), JSON.stringify(manifest, null, 2) + '\n')
for (const dir of [stage, platformDir]) run('npm', ['pack', '--pack-destination', dist, '--silent', '--ignore-scripts'], dir)
rmSync(stage, { recursive: true, force: true })
for (const file of readdirSync(dist).sort()) {
  console.log(`dist/${file}  ${(statSync(join(dist, file)).size / 1024 / 1024).toFixed(2)} MiB`)
}
