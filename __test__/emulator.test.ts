// The emulator speaks the real client's wire format: @clerk/backend@3.25.0 itself, pointed at
// the emulator with `apiUrl`, mints, lists, verifies and revokes M2M tokens and verifies opaque
// and JWT tokens. Also covers the JS helper (lib/emulator.js) and fault injection from JS.
// The child is the package's own CLI (the emulator linked into the addon); the cargo-built
// binary is exercised through `bin` where it exists.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { generateKeyPairSync, sign } from 'node:crypto'
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClerkClient } from '@clerk/backend'
import { verifyMachineAuthToken } from '@clerk/backend/internal'
import { emulatorCommand, startEmulator, type Emulator } from '../lib/emulator.js'

let emu: Emulator

beforeAll(async () => {
  emu = await startEmulator()
})

afterAll(async () => {
  await emu?.stop()
})

/**
 * `verifyMachineAuthToken` with the options the runtime reads: the published typings omit
 * `machineSecretKey`, which the opaque M2M path uses.
 */
function verify(token: string, options: { apiUrl?: string; secretKey?: string; machineSecretKey?: string; jwtKey?: string }) {
  return verifyMachineAuthToken(token, options as Parameters<typeof verifyMachineAuthToken>[1])
}

function clerk() {
  return createClerkClient({ secretKey: emu.secretKey, apiUrl: emu.url })
}

describe('startEmulator', () => {
  it('reports url, instance keys and the default machines', () => {
    expect(emu.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(emu.secretKey).toMatch(/^sk_test_/)
    const [inst] = emu.instances
    expect(inst.kid).toMatch(/^ins_/)
    expect(inst.publicKeyPem).toContain('-----BEGIN PUBLIC KEY-----')
    expect(Object.keys(emu.machines)).toEqual(['trpc', 'webhook', 'worker'])
    const { trpc, webhook, worker } = emu.machines
    expect(trpc.id).toMatch(/^mch_/)
    expect(webhook.secretKey).toMatch(/^ak_/)
    expect(webhook.scopedMachines).toEqual([trpc.id])
    expect(worker.scopedMachines).toEqual([trpc.id])
    expect(trpc.scopedMachines).toEqual([])
  })

  it('runs the package CLI with this Node by default; a named executable must exist', async () => {
    const { command, args } = emulatorCommand({ port: 0, instances: 2, machines: ['a', { name: 'b', scopes: ['a'] }], rejectInactiveTokens: true, seed: 's' })
    expect(command).toBe(process.execPath)
    expect(args[0]).toBe(join(__dirname, '..', 'bin', 'clerk-m2m-native.js'))
    expect(args.slice(1)).toEqual(['emulator', '--json', '--watch-stdin', '--port', '0', '--instances', '2', '--machine', 'a', '--machine', 'b:a', '--reject-inactive-tokens', '--seed', 's'])
    const empty = mkdtempSync(join(tmpdir(), 'emu-missing-'))
    expect(() => emulatorCommand({ bin: join(empty, 'nope') })).toThrow(/not found at .*nope \(from options\.bin\)/)
    await expect(startEmulator({ bin: join(empty, 'nope') })).rejects.toThrow(/not found/)
  })

  it('seed: the same instance, keys and machines at every start; another seed differs', async () => {
    const identity = (e: Emulator) => e.instances.map((i) => [i.id, i.secretKey, i.kid, i.publicKeyPem, i.machines.map((m) => [m.name, m.id, m.secretKey])])
    const [a, b, c] = await Promise.all([startEmulator({ seed: 'vitest' }), startEmulator({ seed: 'vitest' }), startEmulator({ seed: 'other' })])
    try {
      expect(identity(a)).toEqual(identity(b))
      expect(a.url).not.toBe(b.url)
      expect(identity(c)[0][1]).not.toBe(identity(a)[0][1])
      expect(identity(c)[0][3]).not.toBe(identity(a)[0][3])
      // A JWT minted by one verifies against the other's PEM (the same key).
      const { createM2MClient } = await import('../lib/m2m.js')
      const { verifyM2MToken } = await import('../lib/index.js')
      const t = await createM2MClient({ apiUrl: a.url, machineSecretKey: a.machines.webhook.secretKey }).createToken({ tokenFormat: 'jwt', secondsUntilExpiration: 60 })
      const r = await verifyM2MToken(t.token!, { jwtKey: b.instances[0].publicKeyPem! })
      expect(r.errors).toBeUndefined()
      expect(r.data!.subject).toBe(b.machines.webhook.id)
    } finally {
      await Promise.all([a.stop(), b.stop(), c.stop()])
    }
  })

  it.skipIf(process.platform === 'win32')('times out when the binary never reports ready', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-silent-'))
    const script = join(dir, 'silent.sh')
    writeFileSync(script, '#!/bin/sh\necho "starting" >&2\nexec sleep 30\n')
    chmodSync(script, 0o755)
    const started = Date.now()
    await expect(startEmulator({ bin: script, startupTimeoutMs: 300 })).rejects.toThrow(/did not report ready within 300 ms[\s\S]*starting/)
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('passes machines, instances and rejectInactiveTokens to the binary; stop() ends it', async () => {
    const other = await startEmulator({ instances: 2, machines: ['api', { name: 'cron', scopes: ['api'] }], rejectInactiveTokens: true })
    try {
      expect(other.instances).toHaveLength(2)
      expect(other.instances[1].machines.map((m) => m.name)).toEqual(['api', 'cron'])
      expect(other.machines.cron.scopedMachines).toEqual([other.machines.api.id])
      expect(other.instances[0].rejectInactiveTokens).toBe(true)
    } finally {
      await other.stop()
      await other.stop() // idempotent
    }
    await expect(fetch(`${other.url}/__emulator/info`)).rejects.toThrow()
  })
})

/** True while `pid` is a live (non-zombie) process; Linux only (reads /proc). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

async function waitGone(pid: number, ms = 5_000): Promise<boolean> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (!alive(pid)) return true
    await new Promise((r) => setTimeout(r, 50))
  }
  return !alive(pid)
}

/** Runs a Node parent that starts an emulator and prints its pid; resolves with both pids. */
function parentWithEmulator(keepAlive: boolean): Promise<{ parent: ReturnType<typeof spawn>; emulatorPid: number }> {
  const script = `require('./lib/emulator.js').startEmulator().then((e) => { console.log(e.pid); ${keepAlive ? 'setInterval(() => {}, 1000)' : ''} })`
  const parent = spawn(process.execPath, ['-e', script], { cwd: join(__dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    let out = ''
    parent.stdout!.on('data', (c) => {
      out += c
      const line = out.split('\n')[0]
      if (out.includes('\n')) resolve({ parent, emulatorPid: Number(line) })
    })
    parent.once('exit', (code) => {
      if (!out.includes('\n')) reject(new Error(`parent exited early with ${code}`))
    })
  })
}

describe.skipIf(process.platform !== 'linux')('the child never outlives its parent', () => {
  it('a parent that exits normally takes the emulator with it', async () => {
    const { emulatorPid } = await parentWithEmulator(false)
    expect(emulatorPid).toBeGreaterThan(0)
    expect(await waitGone(emulatorPid)).toBe(true)
  })

  it('a parent killed with SIGKILL (no exit hooks) still takes it down through the stdin pipe', async () => {
    const { parent, emulatorPid } = await parentWithEmulator(true)
    expect(alive(emulatorPid)).toBe(true)
    parent.kill('SIGKILL')
    expect(await waitGone(emulatorPid)).toBe(true)
  })
})

describe('@clerk/backend@3.25.0 against the emulator', () => {
  it('verifyMachineAuthToken verifies an opaque mt_ token with a machine secret key', async () => {
    const { trpc, webhook } = emu.machines
    const created = await clerk().m2m.createToken({ machineSecretKey: webhook.secretKey, secondsUntilExpiration: 3600, claims: { role: 'svc' } })
    expect(created.token).toMatch(/^mt_/)
    expect(created.id).toMatch(/^mt_/)
    expect(created.id).not.toBe(created.token)

    const result = await verify(created.token!, { apiUrl: emu.url, machineSecretKey: trpc.secretKey })
    expect(result.errors).toBeUndefined()
    expect(result.tokenType).toBe('m2m_token')
    const data = result.data as { id: string; subject: string; scopes: string[]; claims: unknown; expired: boolean; revoked: boolean; expiration: number }
    expect(data.id).toBe(created.id)
    expect(data.subject).toBe(webhook.id)
    expect(data.scopes).toEqual([trpc.id])
    expect(data.claims).toEqual({ role: 'svc' })
    expect(data.revoked).toBe(false)
    expect(data.expiration).toBe(created.expiration)

    // What the reference actually sent.
    const verifyReq = (await emu.requests()).filter((r) => r.route === 'm2m_verify').pop()!
    expect(verifyReq.method).toBe('POST')
    expect(verifyReq.path).toBe('/m2m_tokens/verify')
    expect(verifyReq.clerkApiVersion).toBe('2026-05-12')
    expect(verifyReq.userAgent).toBe('@clerk/backend@3.25.0')
    expect(verifyReq.contentType).toBe('application/json')
    expect(verifyReq.authorizationPrefix).toBe(trpc.secretKey.slice(0, 7))
    expect(verifyReq.body).toEqual({ token: created.token })

    // Out-of-scope machine: 404 → token-invalid.
    const denied = await verify(created.token!, { apiUrl: emu.url, machineSecretKey: emu.machines.worker.secretKey })
    expect(denied.errors?.[0]).toMatchObject({ code: 'token-invalid', message: 'Machine token not found', status: 404 })
    // Wrong key: 401 → secret-key-invalid with the emulator's message.
    const badKey = await verify(created.token!, { apiUrl: emu.url, machineSecretKey: 'ak_wrong' })
    expect(badKey.errors?.[0]).toMatchObject({ code: 'secret-key-invalid', message: 'The provided Machine Secret Key is invalid.', status: 401 })
  })

  it('verifyMachineAuthToken verifies a JWT token through JWKS (secretKey) and through jwtKey', async () => {
    const { trpc, webhook } = emu.machines
    const created = await clerk().m2m.createToken({ machineSecretKey: webhook.secretKey, secondsUntilExpiration: 600, tokenFormat: 'jwt', claims: { tier: 'gold' } })
    expect(created.token!.split('.')).toHaveLength(3)
    const before = (await emu.counters()).jwks

    const viaJwks = await verify(created.token!, { apiUrl: emu.url, secretKey: emu.secretKey })
    expect(viaJwks.errors).toBeUndefined()
    const data = viaJwks.data as { id: string; subject: string; scopes: string[]; claims: Record<string, unknown>; expiration: number; createdAt: number }
    expect(data.id).toBe(created.id)
    expect(data.subject).toBe(webhook.id)
    expect(data.scopes).toEqual([trpc.id])
    expect(data.claims).toMatchObject({ tier: 'gold', aud: [trpc.id] })
    expect(data.expiration).toBe(created.expiration)
    expect(data.createdAt).toBe(created.createdAt)
    expect((await emu.counters()).jwks).toBe(before + 1)
    const jwksReq = (await emu.requests()).filter((r) => r.route === 'jwks').pop()!
    expect(jwksReq.path).toBe('/v1/jwks')
    expect(jwksReq.authorizationPrefix).toBe(emu.secretKey.slice(0, 7))

    const viaPem = await verify(created.token!, { jwtKey: emu.instances[0].publicKeyPem! })
    expect(viaPem.errors).toBeUndefined()
    expect((viaPem.data as { id: string }).id).toBe(created.id)

    // The client's own verify() takes the local JWT path for M2M JWTs.
    const local = await clerk().m2m.verify({ token: created.token! })
    expect(local.id).toBe(created.id)
  })

  it('createClerkClient().m2m createToken / list / verify / revokeToken with a machine secret key', async () => {
    const machine = await emu.createMachine({ name: `svc-${Date.now()}`, scopedTo: ['trpc'] })
    const { trpc } = emu.machines
    const m2m = clerk().m2m
    const a = await m2m.createToken({ machineSecretKey: machine.secretKey })
    const b = await m2m.createToken({ machineSecretKey: machine.secretKey, secondsUntilExpiration: 60 })
    expect(a.expiration).toBeNull()
    expect(b.expiration).toBe(b.createdAt + 60_000)

    const createReq = (await emu.requests()).filter((r) => r.route === 'm2m_create').pop()!
    expect(createReq.path).toBe('/m2m_tokens')
    expect(createReq.body).toEqual({ seconds_until_expiration: 60, claims: null, token_format: 'opaque' })

    const list = await m2m.list({ machineSecretKey: machine.secretKey, subject: machine.id })
    expect(list.totalCount).toBe(2)
    expect(list.data.map((t) => t.id)).toEqual([b.id, a.id])
    expect(list.data[0].token).toBeUndefined()
    const listReq = (await emu.requests()).filter((r) => r.route === 'm2m_list').pop()!
    expect(listReq.query).toBe(`subject=${machine.id}`)

    const verified = await m2m.verify({ machineSecretKey: trpc.secretKey, token: a.token! })
    expect(verified.id).toBe(a.id)
    expect(verified.scopes).toEqual([trpc.id])

    const revoked = await m2m.revokeToken({ machineSecretKey: machine.secretKey, m2mTokenId: a.id, revocationReason: 'done' })
    expect(revoked.revoked).toBe(true)
    expect(revoked.revocationReason).toBe('done')
    const revokeReq = (await emu.requests()).filter((r) => r.route === 'm2m_revoke').pop()!
    expect(revokeReq.path).toBe(`/m2m_tokens/${a.id}/revoke`)
    expect(revokeReq.body).toEqual({ revocation_reason: 'done' })

    // Default: verify still answers 200 with revoked:true (the reference passes that through).
    const after = await m2m.verify({ machineSecretKey: trpc.secretKey, token: a.token! })
    expect(after.revoked).toBe(true)
    const listed = await m2m.list({ machineSecretKey: machine.secretKey, subject: machine.id, revoked: true })
    expect(listed.totalCount).toBe(2)
    expect((await m2m.list({ machineSecretKey: machine.secretKey, subject: machine.id })).totalCount).toBe(1)

    // With the per-instance switch the revoked token is "not found".
    await emu.setRejectInactiveTokens(true)
    try {
      const rejected = await verify(a.token!, { apiUrl: emu.url, machineSecretKey: trpc.secretKey })
      expect(rejected.errors?.[0]).toMatchObject({ code: 'token-invalid', status: 404 })
    } finally {
      await emu.setRejectInactiveTokens(false)
    }

    // An instance secret key cannot mint.
    await expect(m2m.createToken({ machineSecretKey: emu.secretKey })).rejects.toMatchObject({ status: 401 })
  })

  it('createClerkClient().machines update / delete / rotateSecretKey (with previousTokenTtl) / scopes', async () => {
    const machines = clerk().machines
    const made = await machines.create({ name: `svc-${Date.now()}`, scopedMachines: [emu.machines.trpc.id], defaultTokenTtl: 120 })
    expect(made.secretKey).toMatch(/^ak_/)

    const renamed = await machines.update({ machineId: made.id, name: 'renamed', defaultTokenTtl: 300 })
    expect(renamed).toMatchObject({ id: made.id, name: 'renamed', defaultTokenTtl: 300, instanceId: emu.instances[0].id })
    expect(renamed.scopedMachines.map((m) => m.id)).toEqual([emu.machines.trpc.id])
    expect(renamed.secretKey).toBeUndefined()
    const patch = (await emu.requests()).filter((r) => r.route === 'machines').pop()!
    expect([patch.method, patch.path, patch.body]).toEqual(['PATCH', `/v1/machines/${made.id}`, { name: 'renamed', default_token_ttl: 300 }])
    expect(patch.caller).toBe('instance')

    // Rotation: the new key at once, the old one for previousTokenTtl seconds.
    const rotated = await machines.rotateSecretKey({ machineId: made.id, previousTokenTtl: 30 })
    expect(rotated.secret).toMatch(/^ak_/)
    expect(rotated.secret).not.toBe(made.secretKey)
    const rotate = (await emu.requests()).filter((r) => r.route === 'machines').pop()!
    expect([rotate.method, rotate.path, rotate.body]).toEqual(['POST', `/v1/machines/${made.id}/secret_key/rotate`, { previous_token_ttl: 30 }])
    expect((await machines.getSecretKey(made.id)).secret).toBe(rotated.secret)
    const m2m = clerk().m2m
    expect((await m2m.createToken({ machineSecretKey: rotated.secret })).subject).toBe(made.id)
    expect((await m2m.createToken({ machineSecretKey: made.secretKey! })).subject).toBe(made.id)
    await emu.advanceClock(30_000)
    try {
      await expect(m2m.createToken({ machineSecretKey: made.secretKey! })).rejects.toMatchObject({ status: 401 })
    } finally {
      await emu.setClockOffset(0)
    }

    const scope = await machines.createScope(made.id, emu.machines.worker.id)
    expect(scope).toMatchObject({ fromMachineId: made.id, toMachineId: emu.machines.worker.id })
    expect((await machines.deleteScope(made.id, emu.machines.worker.id)).deleted).toBe(true)

    const deleted = await machines.delete(made.id)
    expect(deleted).toMatchObject({ object: 'machine', id: made.id, deleted: true })
    await expect(machines.get(made.id)).rejects.toMatchObject({ status: 404 })
    await expect(m2m.createToken({ machineSecretKey: rotated.secret })).rejects.toMatchObject({ status: 401 })
  })

  it('verifies seeded OAuth access tokens and API keys', async () => {
    const oat = await emu.seedOAuthToken({ subject: 'user_1', clientId: 'client_1', scopes: ['read'], aud: ['api'] })
    const oauth = await verify(oat.secret, { apiUrl: emu.url, secretKey: emu.secretKey })
    expect(oauth.errors).toBeUndefined()
    expect(oauth.tokenType).toBe('oauth_token')
    expect(oauth.data).toMatchObject({ id: oat.id, clientId: 'client_1', subject: 'user_1', scopes: ['read'], aud: ['api'] })

    const ak = await emu.seedApiKey({ subject: 'user_2', name: 'ci' })
    const apiKey = await verify(ak.secret, { apiUrl: emu.url, secretKey: emu.secretKey })
    expect(apiKey.errors).toBeUndefined()
    expect(apiKey.tokenType).toBe('api_key')
    expect(apiKey.data).toMatchObject({ id: ak.id, name: 'ci', subject: 'user_2' })

    const missing = await verify('ak_unknown', { apiUrl: emu.url, secretKey: emu.secretKey })
    expect(missing.errors?.[0]).toMatchObject({ code: 'token-invalid', message: 'API key not found' })
  })

  it('key rotation: a token signed by the new key verifies through a fresh JWKS fetch', async () => {
    const key = await emu.rotateKey()
    const created = await clerk().m2m.createToken({ machineSecretKey: emu.machines.webhook.secretKey, tokenFormat: 'jwt', secondsUntilExpiration: 60 })
    const header = JSON.parse(Buffer.from(created.token!.split('.')[0], 'base64url').toString())
    expect(header).toEqual({ alg: 'RS256', typ: 'JWT', kid: key.kid, cat: 'cl_B7d4PD333AAA' })
    const result = await verify(created.token!, { apiUrl: emu.url, secretKey: emu.secretKey })
    expect(result.errors).toBeUndefined()
    await emu.retireKey(key.kid)
    const jwks = await fetch(`${emu.url}/v1/jwks`, { headers: { authorization: `Bearer ${emu.secretKey}` } }).then((r) => r.json())
    expect(jwks.keys.map((k: { kid: string }) => k.kid)).not.toContain(key.kid)
  })
})

describe('the dashboard API of startEmulator', () => {
  it('names the dashboard, mints, lists, revokes and inspects tokens, and edits machines by name', async () => {
    expect(emu.dashboardUrl).toBe(`${emu.url}/__emulator/ui`)
    const page = await fetch(emu.dashboardUrl)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<title>Clerk Backend API emulator</title>')
    const m = await emu.createMachine({ name: `dash-${Date.now()}` })
    await emu.allowMachine(m.name, 'trpc')
    const t = await emu.mintToken({ machine: m.name, format: 'jwt', secondsUntilExpiration: 60, claims: { role: 'svc' } })
    expect(t).toMatchObject({ format: 'jwt', machineName: m.name, scopeNames: ['trpc'], claims: { role: 'svc' } })
    expect(await emu.inspect(t.token!)).toMatchObject({ kind: 'm2m_jwt', verifies: true, reason: null })
    await emu.revokeToken(t.id, 'test')
    expect((await emu.tokens({ machine: m.name })).totalCount).toBe(0)
    expect((await emu.tokens({ machine: m.name, revoked: true })).tokens[0]).toMatchObject({ id: t.id, revoked: true, revocationReason: 'test' })
    expect((await emu.inspect('mt_nope')).reason).toBe('unknown-token')
    const rotated = await emu.rotateMachineSecretKey(m.name, { previousTokenTtl: 10 })
    expect(rotated.secretKey).not.toBe(m.secretKey)
    expect(rotated.previousSecretKeyExpiresAt).toBeGreaterThan(Date.now())
    expect((await emu.updateMachine(m.id, { name: `${m.name}-2` })).name).toBe(`${m.name}-2`)
    await emu.disallowMachine(`${m.name}-2`, 'trpc')
    await emu.deleteMachine(`${m.name}-2`)
    expect((await emu.info()).machines.some((x) => x.id === m.id)).toBe(false)
  })

  it('keeps its state in a file across restarts (state option)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-state-'))
    const file = join(dir, 'state.json')
    const first = await startEmulator({ state: file })
    const m = await first.createMachine({ name: 'kept', scopedTo: ['trpc'] })
    const t = await first.mintToken({ machine: 'kept' })
    await first.stop()
    const second = await startEmulator({ state: file })
    try {
      expect(second.secretKey).toBe(first.secretKey)
      expect(second.machines.kept).toMatchObject({ id: m.id, secretKey: m.secretKey })
      expect((await second.inspect(t.token!)).verifies).toBe(true)
      expect((await second.info()).stateFile).toMatchObject({ path: file, error: null })
    } finally {
      await second.stop()
    }
    writeFileSync(file, '{"not":"ours"}')
    await expect(startEmulator({ state: file })).rejects.toThrow(/is not an emulator state file/)
    expect(readFileSync(file, 'utf8')).toBe('{"not":"ours"}')
  })
})

describe('importSigningKey', () => {
  it('serves a caller-held key in JWKS, so tokens the test signs itself verify through @clerk/backend', async () => {
    const other = await startEmulator()
    try {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
      const kid = other.instances[0].kid!
      const key = await other.importSigningKey({ kid, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() })
      expect(key.kid).toBe(kid)
      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
      const now = Math.floor(Date.now() / 1000)
      const input = `${b64({ alg: 'RS256', typ: 'JWT', kid, cat: 'cl_B7d4PD333AAA' })}.${b64({ sub: other.machines.trpc.id, jti: 'mt_self', iat: now, exp: now + 60 })}`
      const jwt = `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`
      const result = await verify(jwt, { apiUrl: other.url, secretKey: other.secretKey })
      expect(result.errors).toBeUndefined()
      expect((result.data as { id: string }).id).toBe('mt_self')
      await expect(other.importSigningKey({ kid, privateKeyPem: 'not a key' })).rejects.toThrow(/400/)
    } finally {
      await other.stop()
    }
  })
})

describe('fault injection from JS', () => {
  it('a 503 and a dropped connection become unexpected-error; then verification recovers', async () => {
    const { trpc, webhook } = emu.machines
    const created = await clerk().m2m.createToken({ machineSecretKey: webhook.secretKey })
    await emu.resetCounters()

    await emu.setFault('m2m_verify', { type: 'status', status: 503, retryAfter: 1, times: 1 })
    const unavailable = await verify(created.token!, { apiUrl: emu.url, machineSecretKey: trpc.secretKey })
    expect(unavailable.errors?.[0]).toMatchObject({ code: 'unexpected-error', message: 'Unexpected error', status: 503 })

    await emu.setFault('m2m_verify', { type: 'drop', times: 1 })
    const dropped = await verify(created.token!, { apiUrl: emu.url, machineSecretKey: trpc.secretKey })
    expect(dropped.errors?.[0]).toMatchObject({ code: 'unexpected-error' })
    expect(dropped.errors?.[0].status).toBeUndefined()

    const ok = await verify(created.token!, { apiUrl: emu.url, machineSecretKey: trpc.secretKey })
    expect(ok.errors).toBeUndefined()
    expect((await emu.counters()).m2m_verify).toBe(3)
    expect(await emu.faults()).toEqual({})
  })

  it('non-JSON and truncated bodies, delays, and clearing', async () => {
    const { trpc, webhook } = emu.machines
    const created = await clerk().m2m.createToken({ machineSecretKey: webhook.secretKey })
    await emu.setFault('m2m_verify', { type: 'truncated_json' })
    const truncated = await verify(created.token!, { apiUrl: emu.url, machineSecretKey: trpc.secretKey })
    expect(truncated.errors?.[0]).toMatchObject({ code: 'unexpected-error' })
    await emu.setFault('m2m_verify', { type: 'delay', ms: 250 })
    expect(Object.keys(await emu.faults())).toEqual(['m2m_verify'])
    const started = Date.now()
    const delayed = await verify(created.token!, { apiUrl: emu.url, machineSecretKey: trpc.secretKey })
    expect(Date.now() - started).toBeGreaterThanOrEqual(240)
    expect(delayed.errors).toBeUndefined()
    await emu.clearFaults()
    expect(await emu.faults()).toEqual({})
    await expect(emu.setFault('nope' as never, { type: 'hang' })).rejects.toThrow(/404/)
    await expect(emu.setFault('jwks', { type: 'status', status: 42 })).rejects.toThrow(/400/)
  })

  it('clock offset expires opaque tokens (reported with expired: true)', async () => {
    const { trpc, webhook } = emu.machines
    const created = await clerk().m2m.createToken({ machineSecretKey: webhook.secretKey, secondsUntilExpiration: 30 })
    await emu.advanceClock(31_000)
    try {
      const result = await verify(created.token!, { apiUrl: emu.url, machineSecretKey: trpc.secretKey })
      expect((result.data as { expired: boolean }).expired).toBe(true)
    } finally {
      await emu.setClockOffset(0)
    }
  })
})
