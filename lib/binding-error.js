'use strict'
// The error a failed load of the native addon becomes (see native.js). Pure: tests call it with
// any platform.

const path = require('node:path')

const PACKAGE = 'clerk-m2m-native'

/** This process's libc on Linux (only on the failure path: `process.report` is slow). */
function libcOf(platform) {
  if (platform !== 'linux') return null
  try {
    const header = process.report?.getReport?.().header
    if (header?.glibcVersionRuntime) return { libc: 'gnu', version: header.glibcVersionRuntime }
  } catch {
    // Reports can be disabled; fall through to "musl" as napi's loader does.
  }
  return { libc: 'musl', version: null }
}

/** `linux-x64-gnu`, `darwin-arm64`, `win32-x64-msvc`: napi's platform key, as in the package names. */
function platformKey(platform, arch, libc) {
  if (platform === 'linux') return `linux-${arch}-${libc}`
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

/** The platform keys this version ships, from the package's own napi targets. */
function supportedPlatforms() {
  const { napi } = require(path.join(__dirname, '..', 'package.json'))
  return napi.targets.map((triple) => {
    const [cpu] = triple.split('-')
    const arch = { x86_64: 'x64', aarch64: 'arm64', i686: 'ia32', armv7: 'arm' }[cpu] ?? cpu
    if (triple.includes('-apple-darwin')) return `darwin-${arch}`
    if (triple.includes('-windows-msvc')) return `win32-${arch}-msvc`
    if (triple.includes('-linux-musl')) return `linux-${arch}-musl`
    return `linux-${arch}-gnu`
  })
}

/** The error a failed load of the addon becomes, with the loader's error as `cause`. */
function bindingLoadError(original, { platform = process.platform, arch = process.arch, libc = libcOf(platform) } = {}) {
  const key = platformKey(platform, arch, libc?.libc)
  const supported = supportedPlatforms()
  const runtime = `${platform} ${arch}${libc ? ` with ${libc.libc === 'gnu' ? `glibc ${libc.version}` : 'musl libc'}` : ''}`
  const packageName = `${PACKAGE}-${key}`
  const lines = [`${PACKAGE} could not load its native addon on ${runtime} (Node.js ${process.version}).`]
  if (!supported.includes(key)) {
    lines.push(`${key} is not a supported platform. Supported: ${supported.join(', ')}.`)
  } else {
    lines.push(
      `It looked for ${PACKAGE}.${key}.node next to its loader and for the package ${packageName}, an optional dependency installed only on ${key}.`,
      'Usually the package is missing: node_modules was installed on another platform (copied into a Docker image,',
      'a lockfile from another OS with npm < 11.3, npm/cli#4828), or with --omit=optional / --no-optional.',
      `Fix: run \`npm install\` on this platform (delete node_modules and package-lock.json first if it persists), or add ${packageName} as a dependency.`,
    )
    if (libc?.libc === 'gnu' && compareVersions(libc.version, '2.17') < 0) lines.push(`The ${key} binary needs glibc 2.17 or newer.`)
  }
  lines.push(`Supported platforms: ${supported.join(', ')}. The loader's own errors are in \`cause\`.`)
  const error = new Error(lines.join('\n'), { cause: original })
  error.name = 'NativeBindingError'
  error.code = 'ERR_CLERK_M2M_NATIVE_BINDING'
  error.platform = key
  error.packageName = packageName
  error.supportedPlatforms = supported
  return error
}

function compareVersions(a, b) {
  const pa = String(a).split('.').map(Number)
  const pb = String(b).split('.').map(Number)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}

module.exports = { bindingLoadError, platformKey, supportedPlatforms }
