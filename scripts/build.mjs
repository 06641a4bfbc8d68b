#!/usr/bin/env node
// Builds the release addon (`<binaryName>.<platform>.node` at the package root) — the one
// binary the tests load and `npm run package` ships, so CI never builds it twice.
//
// On x86_64 Linux with glibc it links through napi's cross toolchain (`--use-napi-cross`,
// fetched from the npm registry once and cached under ~/.napi-rs): a sysroot with glibc 2.17,
// so the addon loads on Debian 8+, Ubuntu 14.04+, RHEL/Amazon Linux 2. Elsewhere (macOS,
// Windows, musl, arm64 Linux) it is a plain `napi build`, which is what the release workflow
// runs on those runners anyway.
//
// Usage: node scripts/build.mjs [--plain] [--debug] [extra napi build args…]
//   --plain  skip the cross toolchain (links against this machine's glibc)
//   --debug  a debug build (never cross: only for quick local iteration)
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const plain = args.includes('--plain') || process.env.CLERK_M2M_PLAIN_BUILD === '1'
const debug = args.includes('--debug')
const extra = args.filter((a) => a !== '--plain' && a !== '--debug')

/** x86_64 Linux on glibc: the one host whose shipped binary we link against an old glibc. */
function isX64LinuxGlibc() {
  if (process.platform !== 'linux' || process.arch !== 'x64') return false
  const header = process.report?.getReport?.().header
  return Boolean(header?.glibcVersionRuntime)
}

const cross = !plain && !debug && isX64LinuxGlibc()
const napiArgs = ['build', '--platform', ...(debug ? [] : ['--release'])]
if (cross) napiArgs.push('--use-napi-cross', '--target', 'x86_64-unknown-linux-gnu')
napiArgs.push(...extra)

// The napi CLI of this checkout, run with this Node (no npx lookup, no shell).
const require = createRequire(join(root, 'package.json'))
const napiCli = join(dirname(require.resolve('@napi-rs/cli/package.json')), 'dist', 'cli.js')
console.error(`==> napi ${napiArgs.join(' ')}${cross ? '  (glibc 2.17 sysroot)' : ''}`)
const result = spawnSync(process.execPath, [napiCli, ...napiArgs], { cwd: root, stdio: 'inherit' })
if (result.error) throw result.error
process.exit(result.status ?? 1)
