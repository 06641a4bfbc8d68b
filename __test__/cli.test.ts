// The clerk-m2m-native command line (package.json "bin", alias clerk-m2m) against the emulator:
// setup-tokens prints .env lines (or JSON) that getM2MToken and verifyM2MToken accept; inspect is
// clearly unverified and agrees with the detectors; verify exits 0/1; emulator serves and prints
// usable .env lines; demo reports; usage errors exit 2; every subcommand has --help; no secret is
// ever printed where it should not be.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createRequire } from 'node:module'
import { spawn, spawnSync } from 'node:child_process'
import { accessSync, constants, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const require = createRequire(import.meta.url)
const { getM2MToken, getExpectedMachineId, verifyM2MToken, isM2MConfigured } = require('../lib/console.js')
const { createM2MClient } = require('../lib/m2m.js')
const { startEmulator } = require('../lib/emulator.js')

const root = join(__dirname, '..')
const BIN = join(root, 'bin', 'clerk-m2m-native.js')

let emu: any
let webhook: any
let trpc: any
let worker: any

beforeAll(async () => {
  emu = await startEmulator()
  ;({ webhook, trpc, worker } = emu.machines)
})

afterAll(async () => {
  await emu?.stop()
})

afterEach(async () => {
  await emu.clearFaults()
})

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the CLI as `npx clerk-m2m-native` would after install: a child process with only the given environment. */
function cli(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(stdin ?? '')
  })
}

function dotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line)
    if (m) out[m[1]] = m[2]
  }
  return out
}

const senderKeys = () => ({ CLERK_API_URL: emu.url, CLERK_MACHINE_SECRET_KEY_WEBHOOK: webhook.secretKey, CLERK_MACHINE_SECRET_KEY_BILLING_WORKER: worker.secretKey })

describe('package wiring', () => {
  it('package.json names the bin after the package (clerk-m2m as an alias); the file is an executable node script', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
    expect(pkg.bin).toEqual({ 'clerk-m2m-native': 'bin/clerk-m2m-native.js', 'clerk-m2m': 'bin/clerk-m2m-native.js' })
    expect(readFileSync(BIN, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true)
    accessSync(BIN, constants.X_OK)
  })

  it('every subcommand has its own --help (and `help <command>`)', async () => {
    for (const command of ['emulator', 'demo', 'setup-tokens', 'inspect', 'verify']) {
      for (const args of [[command, '--help'], [command, '-h'], ['help', command]]) {
        const r = await cli(args)
        expect([args.join(' '), r.code, r.stdout.split('\n')[0]]).toEqual([args.join(' '), 0, expect.stringMatching(new RegExp(`^Usage: clerk-m2m-native ${command}\\b`))])
      }
    }
  })
})

describe('setup-tokens', () => {
  it('prints .env lines that getM2MToken reads back and verifyM2MToken accepts (opaque)', async () => {
    const r = await cli(['setup-tokens', '--service', 'webhook', '--service', 'billing-worker', '--ttl', '365d'], senderKeys())
    expect(r.code).toBe(0)
    const env = dotenv(r.stdout)
    expect(Object.keys(env).sort()).toEqual(['CLERK_M2M_MACHINE_ID_BILLING_WORKER', 'CLERK_M2M_MACHINE_ID_WEBHOOK', 'CLERK_M2M_TOKEN_BILLING_WORKER', 'CLERK_M2M_TOKEN_WEBHOOK'])
    expect(env.CLERK_M2M_MACHINE_ID_WEBHOOK).toBe(webhook.id)
    expect(env.CLERK_M2M_MACHINE_ID_BILLING_WORKER).toBe(worker.id)
    // Secrets go to stdout only as the token values; stderr names no secret.
    expect(r.stderr).toMatch(/created 2 token/)
    expect(r.stderr).not.toContain(webhook.secretKey)
    expect(r.stdout).not.toContain(webhook.secretKey)

    // The sender side reads them…
    expect(isM2MConfigured('webhook', { env })).toBe(true)
    const token = getM2MToken('webhook', { env })
    expect(token).toMatch(/^mt_/)
    // …and the receiver accepts them, checking the sender's machine id from the same lines.
    const receiverEnv = { ...env, CLERK_API_URL: emu.url, CLERK_MACHINE_SECRET_KEY_TRPC: trpc.secretKey, CLERK_M2M_MACHINE_ID_TRPC: trpc.id }
    expect(getExpectedMachineId('billing-worker', { env: receiverEnv })).toBe(worker.id)
    const v = await verifyM2MToken(token, { env: receiverEnv, receiver: 'trpc', expectedService: 'webhook' })
    expect(v.subject).toBe(webhook.id)
    expect(v.expiration - v.createdAt).toBe(365 * 86400 * 1000)
    const w = await verifyM2MToken(getM2MToken('billing-worker', { env }), { env: receiverEnv, receiver: 'trpc', expectedService: 'billing-worker' })
    expect(w.subject).toBe(worker.id)
    // The wire: one create per service with that service's own key.
    const creates = (await emu.requests()).filter((q: any) => q.route === 'm2m_create').slice(-2)
    expect(creates.map((q: any) => q.authorizationPrefix)).toEqual([webhook.secretKey.slice(0, 7), worker.secretKey.slice(0, 7)])
    expect(creates[0].body).toEqual({ seconds_until_expiration: 31536000, claims: null, token_format: 'opaque' })
  })

  it('--json prints the variables and the tokens it created', async () => {
    const r = await cli(['setup-tokens', '--service', 'webhook', '--json', '--ttl', '1h'], senderKeys())
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(Object.keys(out.env).sort()).toEqual(['CLERK_M2M_MACHINE_ID_WEBHOOK', 'CLERK_M2M_TOKEN_WEBHOOK'])
    expect(out.env.CLERK_M2M_MACHINE_ID_WEBHOOK).toBe(webhook.id)
    expect(out.tokens).toEqual([{ service: 'webhook', id: expect.stringMatching(/^mt_/), machineId: webhook.id, format: 'opaque', expiration: expect.any(String) }])
    const v = await verifyM2MToken(out.env.CLERK_M2M_TOKEN_WEBHOOK, { env: { CLERK_API_URL: emu.url, CLERK_MACHINE_SECRET_KEY_TRPC: trpc.secretKey, ...out.env }, expectedService: 'webhook', receiver: 'trpc' })
    expect(v.id).toBe(out.tokens[0].id)
    expect(r.stdout).not.toContain(webhook.secretKey)
  })

  it('creates JWT tokens with --format jwt that verify networklessly with CLERK_JWT_KEY', async () => {
    const r = await cli(['setup-tokens', '--service=webhook', '--format=jwt', '--ttl=12h'], senderKeys())
    expect(r.code).toBe(0)
    const token = getM2MToken('webhook', { env: dotenv(r.stdout) })
    expect(token.split('.')).toHaveLength(3)
    const v = await verifyM2MToken(token, { env: { CLERK_JWT_KEY: emu.instances[0].publicKeyPem, CLERK_M2M_MACHINE_ID_WEBHOOK: webhook.id, CLERK_M2M_MACHINE_ID_TRPC: trpc.id }, expectedService: 'webhook', receiver: 'trpc' })
    expect(v.expiration - v.createdAt).toBe(12 * 3600 * 1000)
  })

  it('refuses to start when a key is missing (nothing created), and reports API failures with exit 1', async () => {
    const before = (await emu.counters()).m2m_create
    const r = await cli(['setup-tokens', '--service', 'webhook', '--service', 'inngest'], senderKeys())
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/CLERK_MACHINE_SECRET_KEY_INNGEST/)
    expect(r.stdout).toBe('')
    expect((await emu.counters()).m2m_create).toBe(before)

    await emu.setFault('m2m_create', { type: 'status', status: 503 })
    const f = await cli(['setup-tokens', '--service', 'webhook'], senderKeys())
    expect(f.code).toBe(1)
    expect(f.stderr).toMatch(/creating the token for "webhook" failed: HTTP 503/)
    expect(f.stderr).not.toContain(webhook.secretKey)
    await emu.clearFaults()

    const bad = await cli(['setup-tokens', '--service', 'webhook'], { ...senderKeys(), CLERK_MACHINE_SECRET_KEY_WEBHOOK: 'ak_CANARY_wrong_key_123456' })
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/HTTP 401/)
    expect(bad.stderr + bad.stdout).not.toMatch(/CANARY/)
  })

  it('usage errors exit 2', async () => {
    for (const args of [
      [],
      ['bogus'],
      ['setup-tokens'],
      ['setup-tokens', '--service', 'webhook', '--ttl', 'soon'],
      ['setup-tokens', '--service', 'webhook', '--ttl', '0'],
      ['setup-tokens', '--service', 'webhook', '--format', 'paseto'],
      ['setup-tokens', '--service', 'webhook', '--format', 'jwt', '--ttl', 'never'],
      ['setup-tokens', '--service', 'web hook'],
      ['setup-tokens', '--service', 'webhook', '--service', 'webhook'],
      ['setup-tokens', '--service'],
      ['setup-tokens', '--service', 'webhook', '--bogus'],
      ['inspect'],
      ['inspect', 'a', 'b'],
      ['verify'],
    ]) {
      const r = await cli(args, senderKeys())
      expect([args.join(' '), r.code]).toEqual([args.join(' '), 2])
      expect(r.stderr).toMatch(/clerk-m2m|Usage/)
    }
    const bad = await cli(['setup-tokens', '--service', 'webhook', '--api-url', 'http://api.example.com'], senderKeys())
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/apiUrl must use https/)
    const help = await cli(['--help'])
    expect([help.code, help.stdout.startsWith('Usage: clerk-m2m-native <command>')]).toEqual([0, true])
    const version = await cli(['--version'])
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version)
  })
})

describe('inspect', () => {
  it('decodes a JWT, marked UNVERIFIED, with its expiry; reads from stdin with "-"', async () => {
    const t = await createM2MClient({ machineSecretKey: webhook.secretKey, apiUrl: emu.url }).createToken({ tokenFormat: 'jwt', secondsUntilExpiration: 600, claims: { team: 'billing' } })
    const r = await cli(['inspect', t.token])
    expect(r.code).toBe(0)
    expect(r.stdout.split('\n')[0]).toMatch(/^UNVERIFIED/)
    expect(r.stdout).toContain(`M2M JWT of machine ${webhook.id}`)
    expect(r.stdout).toContain('"team": "billing"')
    expect(r.stdout).toContain(new Date(t.expiration).toISOString())
    expect(r.stdout).not.toContain(t.token)
    const j = await cli(['inspect', '-', '--json'], {}, `${t.token}\n`)
    const info = JSON.parse(j.stdout)
    expect(info).toMatchObject({ verified: false, kind: 'm2m-jwt', header: { alg: 'RS256', cat: 'cl_B7d4PD333AAA' }, claims: { sub: webhook.id, team: 'billing' }, expired: false })
    expect(info.expiresAt.iso).toBe(new Date(t.expiration).toISOString())
  })

  it('names opaque tokens and secrets without printing them; unknown input exits 1', async () => {
    const opaque = await cli(['inspect', 'mt_CANARYsecretvalue0123456789'])
    expect([opaque.code, /opaque M2M token/.test(opaque.stdout)]).toEqual([0, true])
    expect(opaque.stdout).not.toMatch(/CANARY/)
    const key = await cli(['inspect', 'sk_test_CANARY0123456789'])
    expect(key.stdout).toMatch(/secret key/)
    expect(key.stdout).not.toMatch(/CANARY/)
    const junk = await cli(['inspect', 'not-a-token'])
    expect(junk.code).toBe(1)
    const badJwt = await cli(['inspect', 'aaa.bbb.ccc'])
    expect([badJwt.code, /UNVERIFIED/.test(badJwt.stdout)]).toEqual([1, true])
  })
})

describe('verify', () => {
  it('exits 0 for a valid token and 1 for revoked, wrong-machine and unreachable', async () => {
    const client = createM2MClient({ machineSecretKey: webhook.secretKey, apiUrl: emu.url })
    const t = await client.createToken({ secondsUntilExpiration: 600 })
    const env = { CLERK_API_URL: emu.url, CLERK_MACHINE_SECRET_KEY_TRPC: trpc.secretKey, CLERK_M2M_MACHINE_ID_TRPC: trpc.id, CLERK_M2M_MACHINE_ID_WEBHOOK: webhook.id, CLERK_M2M_MACHINE_ID_WORKER: worker.id }
    const ok = await cli(['verify', t.token, '--receiver', 'trpc', '--service', 'webhook'], env)
    expect(ok.code).toBe(0)
    expect(ok.stdout).toMatch(new RegExp(`^VALID: M2M token ${t.id} of machine ${webhook.id}`))
    const json = await cli(['verify', '-', '--receiver', 'trpc', '--json'], env, t.token)
    expect(JSON.parse(json.stdout)).toMatchObject({ valid: true, id: t.id, machineId: webhook.id, scopes: [trpc.id] })

    const wrong = await cli(['verify', t.token, '--receiver', 'trpc', '--service', 'worker'], env)
    expect([wrong.code, /INVALID \(wrong-machine\)/.test(wrong.stderr)]).toEqual([1, true])

    await client.revokeToken({ m2mTokenId: t.id })
    const revoked = await cli(['verify', t.token, '--receiver', 'trpc', '--json'], env)
    expect(revoked.code).toBe(1)
    expect(JSON.parse(revoked.stdout)).toMatchObject({ valid: false, code: 'revoked' })

    const down = await cli(['verify', t.token, '--receiver', 'trpc', '--timeout', '500'], { ...env, CLERK_API_URL: 'http://127.0.0.1:9' })
    expect(down.code).toBe(1)
    expect(down.stderr).toMatch(/INVALID \(unavailable, connect\)/)
    for (const out of [ok, json, wrong, revoked, down]) expect(out.stdout + out.stderr).not.toContain(t.token)
  })
})

describe('inspect agrees with the detectors', () => {
  const { inspectToken } = require('../bin/clerk-m2m-native.js')
  const native = require('../lib/index.js')
  const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')

  it('on malformed and borderline tokens: m2m-jwt exactly when isM2MJwt, oauth-jwt exactly when isOAuthJwt', () => {
    const header = b64({ alg: 'RS256', typ: 'JWT' })
    const m2m = b64({ sub: 'mch_1', exp: 2e9 })
    const cases = [
      `${header}.${m2m}.c2ln`,
      `${header}=.${m2m}.c2ln`, // padding: decodes loosely, but is not JWT format
      `${header}.${m2m}=.c2ln`,
      `${header}.${m2m}.c2ln=`,
      ` ${header}.${m2m}.c2ln`,
      `${header}.${m2m}.c2l*`,
      `${header}.${m2m}.`,
      `${header}.${m2m}`,
      `${header}.${m2m}.a.b`,
      `${b64('{"alg":')}.${m2m}.c2ln`,
      `${header}.${b64('null')}.c2ln`,
      `${header}.${b64('[1]')}.c2ln`,
      `${header}.${b64({ sub: 'user_1' })}.c2ln`,
      `${header}.${b64({ sub: 5 })}.c2ln`,
      `${b64({ typ: 'at+jwt' })}.${b64({ sub: 'user_1' })}.c2ln`,
      `${b64({ typ: 'application/at+jwt' })}.${m2m}.c2ln`,
      `${header}.${b64('{"sub":"mch_1","sub":"user"}')}.c2ln`,
      `${header}.${b64('\ufeff{"sub":"mch_1"}')}.c2ln`,
      `${header}.${Buffer.from('{"sub":"mch_\xff"}', 'latin1').toString('base64url')}.c2ln`,
      `${header}.${m2m}.${'A'.repeat(20_000)}`,
      'a.b.c',
      'aaa.bbb.ccc',
    ]
    for (const token of cases) {
      const info = inspectToken(token)
      const expected = native.isM2MJwt(token) ? 'm2m-jwt' : native.isOAuthJwt(token) ? 'oauth-jwt' : native.isJwtFormat(token) && info.kind !== 'unknown' ? 'jwt' : 'unknown'
      expect([token.slice(0, 60), info.kind]).toEqual([token.slice(0, 60), expected])
      if (!native.isJwtFormat(token)) expect(info.kind).toBe('unknown')
    }
    expect(inspectToken(`${header}=.${m2m}.c2ln`).kind).toBe('unknown')
  })

  it('shows what the native decoder decoded (duplicate keys: last wins, as JSON.parse)', () => {
    const token = `${b64({ alg: 'RS256' })}.${b64('{"sub":"mch_a","sub":"mch_b","n":1e2}')}.c2ln`
    const info = inspectToken(token)
    expect(info.kind).toBe('m2m-jwt')
    expect(info.claims).toEqual({ sub: 'mch_b', n: 100 })
  })
})

describe('emulator', () => {
  /** Starts `clerk-m2m-native emulator …` and resolves once `ready(stdout)` holds. */
  function startCli(args: string[], ready: (out: string) => boolean) {
    const child = spawn(process.execPath, [BIN, 'emulator', ...args], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? `${signal}: ${stderr}`)))
    const started = new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        stdout += d
        if (ready(stdout)) resolve(stdout)
      })
      exited.then((code) => reject(new Error(`emulator exited with ${code}: ${stderr}`)))
    })
    return { child, started, exited, stderr: () => stderr }
  }

  it('--env prints lines a shell, Node and this package use as they are; --seed keeps them across restarts; SIGTERM exits 0', async () => {
    const done = (out: string) => out.includes('CLERK_M2M_MACHINE_ID_WORKER=')
    const first = startCli(['--seed', 'cli-test', '--env'], done)
    const text = await first.started
    const vars = dotenv(text)
    expect(Object.keys(vars).sort()).toEqual(['CLERK_API_URL', 'CLERK_JWT_KEY', 'CLERK_M2M_MACHINE_ID_TRPC', 'CLERK_M2M_MACHINE_ID_WEBHOOK', 'CLERK_M2M_MACHINE_ID_WORKER', 'CLERK_MACHINE_SECRET_KEY_TRPC', 'CLERK_MACHINE_SECRET_KEY_WEBHOOK', 'CLERK_MACHINE_SECRET_KEY_WORKER', 'CLERK_SECRET_KEY'])

    // A JWT minted with the webhook's key, verified by the receiver with nothing but these lines.
    const token = (await createM2MClient({ apiUrl: vars.CLERK_API_URL, machineSecretKey: vars.CLERK_MACHINE_SECRET_KEY_WEBHOOK }).createToken({ tokenFormat: 'jwt', secondsUntilExpiration: 60 })).token
    const dir = mkdtempSync(join(tmpdir(), 'cli-env-'))
    const envFile = join(dir, '.env')
    writeFileSync(envFile, text)
    const args = ['verify', token, '--receiver', 'trpc', '--service', 'webhook', '--json']
    const viaShell = spawnSync('sh', ['-c', 'set -a; . "$1"; set +a; shift; exec "$@"', 'sh', envFile, process.execPath, BIN, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } })
    expect([viaShell.status, viaShell.stderr]).toEqual([0, ''])
    expect(JSON.parse(viaShell.stdout)).toMatchObject({ valid: true, machineId: vars.CLERK_M2M_MACHINE_ID_WEBHOOK, scopes: [vars.CLERK_M2M_MACHINE_ID_TRPC] })
    const viaNode = spawnSync(process.execPath, [`--env-file=${envFile}`, BIN, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } })
    expect([viaNode.status, viaNode.stderr]).toEqual([0, ''])
    // …and the opaque path through the API, with the receiver's machine key from the same lines.
    const opaque = (await createM2MClient({ apiUrl: vars.CLERK_API_URL, machineSecretKey: vars.CLERK_MACHINE_SECRET_KEY_WORKER }).createToken({})).token
    const v = await verifyM2MToken(opaque, { env: vars, receiver: 'trpc', expectedService: 'worker' })
    expect(v.subject).toBe(vars.CLERK_M2M_MACHINE_ID_WORKER)

    expect(first.stderr()).toContain(`emulator on ${vars.CLERK_API_URL}`)
    first.child.kill('SIGTERM')
    expect(await first.exited).toBe(0)
    const second = startCli(['--seed', 'cli-test', '--env'], done)
    const again = dotenv(await second.started)
    second.child.kill('SIGINT')
    expect(await second.exited).toBe(0)
    const { CLERK_API_URL: _a, ...rest1 } = vars
    const { CLERK_API_URL: _b, ...rest2 } = again
    expect(rest2).toEqual(rest1)
  })

  it('--json prints the start-up document; the default report names the URL and machines', async () => {
    const json = startCli(['--json', '--machine', 'api', '--machine', 'cron:api'], (out) => out.includes('\n'))
    const info = JSON.parse(await json.started)
    expect(info.machines.map((m: any) => m.name)).toEqual(['api', 'cron'])
    expect(info.dashboardUrl).toBe(`${info.url}/__emulator/ui`)
    json.child.kill('SIGTERM')
    expect(await json.exited).toBe(0)
    const human = startCli([], (out) => out.includes('--env'))
    const report = await human.started
    expect(report).toMatch(/^Clerk Backend API emulator on http:\/\/127\.0\.0\.1:\d+/)
    const dashboard = /^ {2}dashboard {3}(http:\/\/127\.0\.0\.1:\d+\/__emulator\/ui)$/m.exec(report)?.[1]
    expect(dashboard).toBeDefined()
    expect((await fetch(dashboard!)).status).toBe(200)
    expect(report).toMatch(/webhook +mch_\w+ +ak_\w+ +→ trpc/)
    human.child.kill('SIGINT')
    expect(await human.exited).toBe(0)
  })

  it('bad options exit 2 with the command usage', async () => {
    for (const args of [['--instances', '0'], ['--port', '70000'], ['--port', 'x'], ['--machine', 'a:ghost'], ['--seed', ''], ['--env', '--json'], ['--bogus'], ['extra']]) {
      const r = await cli(['emulator', ...args])
      expect([args.join(' '), r.code]).toEqual([args.join(' '), 2])
      expect(r.stderr).toMatch(/Usage: clerk-m2m-native emulator/)
    }
  })
})

describe('demo', () => {
  it('runs against its own emulator and prints the report', async () => {
    const r = await cli(['demo'])
    expect([r.code, r.stderr]).toEqual([0, ''])
    expect(r.stdout).toMatch(/^clerk-m2m-native demo\n/)
    expect(r.stdout).toContain('session-category JWT (cat check)')
    expect(r.stdout.trimEnd().endsWith('demo: ok')).toBe(true)
  })
})
