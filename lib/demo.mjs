// The demo (`npx clerk-m2m-native demo`, `npm run demo`): a local Clerk Backend API (the
// emulator, linked into the addon), two machines, an opaque and a JWT M2M token, verified by
// clerk-m2m-native and — side by side — by @clerk/backend@3.25.0 when that exact version is
// installed next to it. Prints a short report; resolves to the exit code.
import { createRequire } from 'node:module'
import { performance } from 'node:perf_hooks'

const require = createRequire(import.meta.url)
const native = require('./index.js')
const { createM2MClient } = require('./m2m.js')
const { startEmulator } = require('./emulator.js')

/** The version the parity suites pin: another version may answer differently, so it is not compared. */
const REFERENCE_VERSION = '3.25.0'

/** `@clerk/backend/internal` when @clerk/backend@3.25.0 resolves from here, else null. */
async function loadReference() {
  try {
    const { version } = require('@clerk/backend/package.json')
    if (version !== REFERENCE_VERSION) return null
    return await import('@clerk/backend/internal')
  } catch {
    return null
  }
}

const pad = (s, n) => String(s).padEnd(n)
const fmtMs = (ms) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`)

function summary(result) {
  if (result.errors) {
    const e = result.errors[0]
    return `REJECTED ${result.tokenType} ${e.code}: ${e.message}`
  }
  return `OK ${result.tokenType} subject=${result.data.subject} scopes=${JSON.stringify(result.data.scopes)}`
}

async function timed(fn) {
  const t0 = performance.now()
  const value = await fn()
  return { value, ms: performance.now() - t0 }
}

/** Median time of `n` sequential calls (after one warm-up). */
async function median(fn, n = 200) {
  await fn()
  const times = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await fn()
    times.push(performance.now() - t0)
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(n / 2)]
}

/** Verifies with this package and, when loaded, the reference; prints both and whether they agree. */
async function compare({ line, reference }, label, token, options, divergence) {
  const ours = await timed(() => native.verifyMachineAuthToken(token, options))
  line(`  ${pad(label, 34)} clerk-m2m-native: ${summary(ours.value)}`)
  if (reference) {
    const theirs = await timed(() => reference.verifyMachineAuthToken(token, { ...options }))
    line(`  ${pad('', 34)} @clerk/backend:   ${summary(theirs.value)}`)
    const same = JSON.stringify([ours.value.tokenType, !!ours.value.errors, ours.value.errors?.[0]?.code]) ===
      JSON.stringify([theirs.value.tokenType, !!theirs.value.errors, theirs.value.errors?.[0]?.code])
    line(`  ${pad('', 34)} same answer: ${same ? 'yes' : `no — deliberate: ${divergence ?? 'unexpected!'}`}`)
    if (!same && !divergence) throw new Error(`unexpected difference from @clerk/backend: ${label}`)
  }
  return ours.value
}

/**
 * Runs the demo, writing the report through `io.stdout`; resolves to the exit code (0 when every
 * answer is as expected). Throws when something unexpected happens.
 */
export async function runDemo(io = { stdout: (s) => process.stdout.write(s) }) {
  const line = (s = '') => io.stdout(`${s}\n`)
  const reference = await loadReference()
  const ctx = { line, reference }
  const emu = await startEmulator()
  try {
    line('clerk-m2m-native demo')
    line(`  Backend API emulator at ${emu.url}`)
    line(reference ? `  side by side with @clerk/backend@${REFERENCE_VERSION}` : `  (install @clerk/backend@${REFERENCE_VERSION} next to it to compare side by side)`)

    // Two machines: a sender ("billing-webhook") allowed to call a receiver ("orders-api").
    const createMachine = async (name, scopedMachines = []) => {
      const res = await fetch(`${emu.url}/v1/machines`, {
        method: 'POST',
        headers: { authorization: `Bearer ${emu.secretKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name, scoped_machines: scopedMachines }),
      })
      if (!res.ok) throw new Error(`creating machine ${name} failed: ${res.status}`)
      return res.json()
    }
    const receiver = await createMachine('orders-api')
    const sender = await createMachine('billing-webhook', [receiver.id])
    line(`  machines: ${sender.name} (${sender.id}) -> ${receiver.name} (${receiver.id})`)

    const client = createM2MClient({ apiUrl: emu.url, machineSecretKey: sender.secret_key })
    const opaque = await client.createToken({ secondsUntilExpiration: 3600, claims: { purpose: 'demo' } })
    const jwt = await client.createToken({ secondsUntilExpiration: 3600, tokenFormat: 'jwt', claims: { purpose: 'demo' } })
    line(`  minted: opaque ${opaque.token.slice(0, 7)}… and JWT ${jwt.token.slice(0, 7)}… for ${sender.name}`)
    line()

    const receiverOpts = { apiUrl: emu.url, machineSecretKey: receiver.secret_key }
    const jwksOpts = { apiUrl: emu.url, secretKey: emu.secretKey }
    const pemOpts = { jwtKey: emu.instances[0].publicKeyPem }

    line('Verification')
    await compare(ctx, 'opaque token (Backend API)', opaque.token, receiverOpts)
    await compare(ctx, 'JWT token (JWKS from the API)', jwt.token, jwksOpts)
    await compare(ctx, 'JWT token (PEM, no network)', jwt.token, pemOpts)

    await client.revokeToken({ m2mTokenId: opaque.id, revocationReason: 'demo' })
    const afterRevoke = await compare(ctx, 'opaque token after revocation', opaque.token, receiverOpts, 'the API answers revoked:true and the reference still accepts the token (README, O-09)')
    if (!afterRevoke.errors) throw new Error('a revoked token was accepted')

    // A session-category JWT signed by the same instance key must not pass as an M2M token.
    const now = Math.floor(Date.now() / 1000)
    const crossCategory = await emu.signJwt(
      { alg: 'RS256', typ: 'JWT', kid: emu.instances[0].kid, cat: 'cl_B7d4PD111AAA' },
      { sub: sender.id, iat: now, exp: now + 60 },
    )
    const crossResult = await compare(ctx, 'session-category JWT (cat check)', crossCategory, pemOpts)
    if (!crossResult.errors || crossResult.errors[0].code !== 'token-invalid') throw new Error('cross-category JWT was not rejected')
    line()

    line('Timings (median of 200 sequential verifications of the same JWT with the PEM key: a repeated token is answered from memory; docs/BENCHMARKS.md in the repository has distinct tokens)')
    const oursMs = await median(() => native.verifyMachineAuthToken(jwt.token, pemOpts))
    line(`  clerk-m2m-native   ${fmtMs(oursMs)}`)
    if (reference) {
      const theirsMs = await median(() => reference.verifyMachineAuthToken(jwt.token, { ...pemOpts }))
      line(`  @clerk/backend     ${fmtMs(theirsMs)}   (${(theirsMs / oursMs).toFixed(1)}x slower)`)
    }
    line()
    line('demo: ok')
  } finally {
    await emu.stop()
  }
  return 0
}
