// The emulator's dashboard in a real browser: headless Chromium (Debian's `chromium`, which
// .ci/run installs) driven by playwright-core, against an emulator started the way users start
// one (`startEmulator()`: the package's CLI in a child process). One developer's session, step by
// step: two machines, one allowed to send to the other; an opaque and a JWT token minted on the
// page and verified through this package; the live request log showing those calls as they
// happen; a revoked token refused; a 503 fault making the package answer `unavailable`; the
// instance key rotated, after which an old-key JWT fails once the JWKS cache refreshes (the test
// addon's clock steps over the 5-minute TTL). Every view is screenshotted under
// target/dashboard-screenshots/ and checked with axe-core: no serious or critical violation.
import { hooks } from './helpers/use-test-addon' // first: lib/ loads the test addon
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createRequire } from 'node:module'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'

const require = createRequire(import.meta.url)
const { chromium } = require('playwright-core') as typeof import('playwright-core')
const { startEmulator } = require('../lib/emulator.js')
const { verifyM2MToken, M2MAuthError } = require('../lib/console.js')

const CHROMIUM = process.env.CLERK_M2M_TEST_CHROMIUM ?? '/usr/bin/chromium'
const SHOTS = resolve(__dirname, '..', 'target', 'dashboard-screenshots')
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')
/** The JWKS cache TTL of this package (crates/clerk-m2m-core/src/jwks.rs). */
const JWKS_TTL_MS = 300_000

let emu: any
let context: BrowserContext
let page: Page
let profile: string
const pageErrors: string[] = []
const requestedUrls: string[] = []
const ids: Record<string, string> = {}
const secrets: Record<string, string> = {}
const tokens: Record<string, { id: string; token: string }> = {}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium (apt-get install chromium; .ci/run does) or set CLERK_M2M_TEST_CHROMIUM`)
  rmSync(SHOTS, { recursive: true, force: true })
  mkdirSync(SHOTS, { recursive: true })
  emu = await startEmulator()
  profile = mkdtempSync(join(tmpdir(), 'clerk-emulator-chromium-'))
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 860 },
    // The flags Chromium needs on a machine with no network but loopback, run as root.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  page = context.pages()[0] ?? (await context.newPage())
  page.on('pageerror', (e) => pageErrors.push(e.message))
  page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()))
  page.on('request', (r) => requestedUrls.push(r.url()))
  page.on('dialog', (d) => d.accept())
  await page.goto(emu.dashboardUrl)
  await page.waitForFunction(() => document.getElementById('live')?.textContent === 'live')
}, 60_000)

afterAll(async () => {
  hooks.__freezeClock(null)
  vi.restoreAllMocks()
  await context?.close()
  if (profile) rmSync(profile, { recursive: true, force: true })
  await emu?.stop()
})

/** Screenshot of the current view, then axe-core on the page: no serious or critical violation. */
async function checkView(name: string) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE)
  const violations = await page.evaluate(async () => {
    const result = await (window as any).axe.run(document, { resultTypes: ['violations'] })
    return result.violations.map((v: any) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n: any) => n.target.join(' ')).slice(0, 3) }))
  })
  expect(violations.filter((v: any) => v.impact === 'serious' || v.impact === 'critical'), `${name}: ${JSON.stringify(violations)}`).toEqual([])
}

/** One view of the page (labels repeat across views: "Route" filters the log and picks a fault). */
const view = (name: string) => page.locator(`#view-${name}`)

async function openView(name: string, heading: string) {
  await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: new RegExp(`^${heading}`) }).click()
  await expect.poll(() => page.locator(`#view-${name}`).isVisible()).toBe(true)
}

/** What the receiving service `orders` has in its environment (this package's conventions). */
function ordersEnv(): Record<string, string> {
  return {
    CLERK_API_URL: emu.url,
    CLERK_SECRET_KEY: emu.secretKey,
    CLERK_MACHINE_SECRET_KEY_ORDERS: secrets.orders,
    CLERK_M2M_MACHINE_ID_ORDERS: ids.orders,
    CLERK_M2M_MACHINE_ID_BILLING: ids.billing,
  }
}

/** Verifies as `orders` would a token from `billing`, through this package's console layer. */
const verifyAsOrders = (token: string) => verifyM2MToken(token, { env: ordersEnv(), receiver: 'orders', expectedService: 'billing' })

/** Resolves to the M2MAuthError a verification throws. */
async function refusal(token: string) {
  const e = await verifyAsOrders(token).then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(e).toBeInstanceOf(M2MAuthError)
  return e as { code: string; reason?: string }
}

/** The live log's rows for `route` from `caller`, as the page shows them now. */
const logRows = (route: string, caller: string) => page.locator('#log-table tbody tr').filter({ has: page.locator('td:nth-child(4)', { hasText: new RegExp(`^${route}$`) }) }).filter({ has: page.locator('td:nth-child(6)', { hasText: new RegExp(`^${caller}$`) }) })

describe('the dashboard in Chromium', () => {
  it('shows the instance: masked keys that reveal and copy, the JWKS kids', async () => {
    const inst = emu.instances[0]
    const facts = page.locator('#instance-facts')
    await expect.poll(() => facts.textContent()).toContain(inst.id)
    expect(await facts.textContent()).not.toContain(inst.secretKey)
    await view('instance').getByRole('button', { name: 'Show instance secret key' }).click()
    await expect.poll(() => facts.locator(`[data-secret="sk:${inst.id}"]`).textContent()).toBe(inst.secretKey)
    await view('instance').getByRole('button', { name: 'Hide instance secret key' }).click()
    expect(await facts.textContent()).not.toContain(inst.secretKey)
    expect(await page.locator('#keys-table tbody').textContent()).toContain(inst.kid)
    await checkView('instance')
  })

  it('creates two machines and lets billing send to orders, with the keyboard', async () => {
    await openView('machines', 'Machines')
    for (const name of ['orders', 'billing']) {
      await view('machines').getByLabel('Name', { exact: true }).fill(name)
      await view('machines').getByLabel('Name', { exact: true }).press('Enter')
      await expect.poll(() => page.locator('#machines-table tbody').textContent()).toContain(name)
    }
    // Keyboard only: the "Let billing send to" select, then its button.
    const select = view('machines').getByLabel('Let billing send to', { exact: true })
    await select.selectOption({ label: 'orders' })
    await select.focus()
    await page.keyboard.press('Tab')
    await page.keyboard.press('Enter')
    const billingRow = page.locator('#machines-table tbody tr').filter({ has: page.locator('td:first-child strong', { hasText: /^billing$/ }) })
    await expect.poll(() => billingRow.locator('td:nth-child(4)').textContent()).toMatch(/^orders/)

    const info = await emu.info()
    for (const m of info.machines) ids[m.name] = m.id
    expect(info.machines.find((m: any) => m.name === 'billing').scopedMachines).toEqual([ids.orders])
    // The receiver's key, read off the page (revealed, then hidden again).
    await view('machines').getByRole('button', { name: 'Show secret key of orders' }).click()
    secrets.orders = (await page.locator(`[data-secret="mk:${ids.orders}"]`).textContent())!
    expect(secrets.orders).toBe(info.machines.find((m: any) => m.name === 'orders').secretKey)
    await view('machines').getByRole('button', { name: 'Hide secret key of orders' }).click()
    await checkView('machines')
  })

  it('mints an opaque and a JWT token for billing; both verify through this package; inspect agrees', async () => {
    await openView('tokens', 'Tokens')
    for (const format of ['opaque', 'jwt'] as const) {
      const form = view('tokens').locator('#mint-form')
      await form.getByLabel('Machine', { exact: true }).selectOption({ label: 'billing' })
      await form.getByRole('radio', { name: format === 'jwt' ? 'JWT' : 'Opaque' }).check()
      await form.getByLabel('Expires in (seconds; empty = never)').fill('3600')
      await form.getByRole('button', { name: 'Mint token' }).click()
      const minted = page.locator('#minted-token')
      await expect.poll(async () => ((await minted.textContent()) ?? '').startsWith(format === 'jwt' ? 'eyJ' : 'mt_') && (await minted.textContent()) !== tokens.opaque?.token).toBe(true)
      const id = (await page.locator('#minted code').first().textContent())!
      tokens[format] = { id, token: (await minted.textContent())! }
    }
    const viaOpaque = await verifyAsOrders(tokens.opaque.token)
    const viaJwt = await verifyAsOrders(tokens.jwt.token)
    for (const [v, t] of [[viaOpaque, tokens.opaque], [viaJwt, tokens.jwt]] as const) {
      expect(v.id).toBe(t.id)
      expect(v.subject).toBe(ids.billing)
      expect(v.scopes).toEqual([ids.orders])
    }
    // Both are listed for billing.
    const table = page.locator('#tokens-table tbody')
    await expect.poll(() => table.textContent()).toContain(tokens.jwt.id)
    expect(await table.textContent()).toContain(tokens.opaque.id)

    await view('tokens').getByLabel('Token', { exact: true }).fill(tokens.jwt.token)
    await view('tokens').getByRole('button', { name: 'Inspect', exact: true }).click()
    await expect.poll(() => page.locator('#inspect-result').textContent()).toContain('✓ Verifies against this instance')
    expect(await page.locator('#inspect-result').textContent()).toContain(ids.billing)
    await checkView('tokens')
  })

  it('streams the request log: each call appears as it happens, with its caller and no secret', async () => {
    await openView('log', 'Request log')
    const verifies = logRows('m2m_verify', 'orders')
    const before = await verifies.count()
    expect(before).toBe(1) // the opaque verification of the step before
    // One more verification while the page is open: its row appears without a reload.
    await verifyAsOrders(tokens.opaque.token)
    await expect.poll(() => verifies.count(), { timeout: 5_000 }).toBe(before + 1)
    await expect.poll(() => verifies.first().locator('td:nth-child(5)').textContent()).toBe('200')
    expect(await verifies.first().locator('td:nth-child(7)').textContent()).toMatch(/^\d+\.\d ms$/)
    // The JWT's verification fetched the JWKS with the instance key.
    expect(await logRows('jwks', 'instance key').count()).toBe(1)
    // Filters: only jwks rows.
    await view('log').getByLabel('Route').selectOption('jwks')
    await expect.poll(() => page.locator('#log-table tbody tr').count()).toBe(1)
    await view('log').getByLabel('Route').selectOption('')
    const text = (await page.locator('#log-table').textContent())!
    for (const secret of [tokens.opaque.token, tokens.jwt.token, secrets.orders, emu.secretKey, secrets.orders.slice(0, 12)]) expect(text).not.toContain(secret)
    await checkView('log')
  })

  it('revokes the opaque token with a reason; the package then refuses it', async () => {
    await openView('tokens', 'Tokens')
    await view('tokens').getByLabel(`Reason for revoking ${tokens.opaque.id}`).fill('compromised')
    await view('tokens').getByRole('button', { name: `Revoke token ${tokens.opaque.id}` }).click()
    await expect.poll(() => page.locator('#token-count').textContent()).toMatch(/^1 token\b/)
    await view('tokens').getByLabel('Show revoked').check()
    const row = page.locator('#tokens-table tbody tr', { hasText: tokens.opaque.id })
    await expect.poll(() => row.textContent()).toContain('revoked (compromised)')
    expect((await refusal(tokens.opaque.token)).code).toBe('revoked')
    await view('tokens').getByLabel('Token', { exact: true }).fill(tokens.opaque.token)
    await view('tokens').getByRole('button', { name: 'Inspect', exact: true }).click()
    await expect.poll(() => page.locator('#inspect-result').textContent()).toContain('✗ Does not verify (revoked)')
  })

  it('a 503 fault set on the page makes the package answer unavailable; clearing it heals', async () => {
    const live = await emu.mintToken({ machine: 'billing' })
    await openView('faults', 'Faults')
    const form = view('faults').locator('#fault-form')
    await form.getByLabel('Route').selectOption('m2m_verify')
    await form.getByLabel('Fault', { exact: true }).selectOption('status')
    await form.getByLabel('Status', { exact: true }).fill('503')
    await form.getByLabel('Retry-After (seconds, optional)').fill('1')
    await form.getByRole('button', { name: 'Set fault' }).click()
    await expect.poll(() => page.locator('#faults-table tbody').textContent()).toContain('status 503')
    expect(await emu.faults()).toMatchObject({ m2m_verify: { type: 'status', status: 503 } })
    const e = await refusal(live.token)
    expect(e.code).toBe('unavailable')
    expect(e.reason).toBe('server-error')
    await checkView('faults')
    // The log shows the 503s, marked with their fault.
    await openView('log', 'Request log')
    const faulted = page.locator('#log-table tbody tr').filter({ hasText: 'status' }).filter({ hasText: '503' })
    await expect.poll(() => faulted.count()).toBeGreaterThan(0)
    await openView('faults', 'Faults')
    await view('faults').getByRole('button', { name: 'Clear the fault of m2m_verify' }).click()
    await expect.poll(() => page.locator('#faults-table tbody').textContent()).toContain('No fault')
    expect((await verifyAsOrders(live.token)).id).toBe(live.id)
  })

  it('rotating the instance key (retiring the old one) fails an old-key JWT once the JWKS cache refreshes', async () => {
    // Virtual time for this package (native clock and Date.now, only while it verifies): the
    // emulator and the browser keep real time.
    const t0 = Date.now()
    const at = async <T>(ms: number, fn: () => Promise<T>): Promise<T> => {
      hooks.__freezeClock(ms)
      const spy = vi.spyOn(Date, 'now').mockImplementation(() => ms)
      try {
        return await fn()
      } finally {
        spy.mockRestore()
      }
    }
    const oldKid = emu.instances[0].kid
    expect((await at(t0, () => verifyAsOrders(tokens.jwt.token))).id).toBe(tokens.jwt.id)

    await openView('instance', 'Instance')
    await view('instance').getByLabel('Retire the previous keys now').check()
    await view('instance').getByRole('button', { name: 'Rotate signing key' }).click()
    const keys = page.locator('#keys-table tbody tr')
    await expect.poll(async () => (await keys.count()) === 1 && !(await keys.first().textContent())!.includes(oldKid), { timeout: 10_000 }).toBe(true)

    // Inside the JWKS TTL the cached key still verifies (documented); past it, the refetched
    // JWKS has no such kid.
    expect((await at(t0 + 5_000, () => verifyAsOrders(tokens.jwt.token))).id).toBe(tokens.jwt.id)
    const jwksBefore = (await emu.counters()).jwks
    const e = await at(t0 + JWKS_TTL_MS + 1_000, () => refusal(tokens.jwt.token))
    expect(e.code).toBe('invalid')
    expect(e.reason).toBe('kid-missing')
    expect((await emu.counters()).jwks).toBe(jwksBefore + 1)
    // A JWT of the new key verifies.
    const fresh = await emu.mintToken({ machine: 'billing', format: 'jwt', secondsUntilExpiration: 3600 })
    expect((await at(t0 + JWKS_TTL_MS + 2_000, () => verifyAsOrders(fresh.token))).id).toBe(fresh.id)
    hooks.__freezeClock(null)
  })

  it('shows the whole session in the log, filterable by caller (the README screenshot)', async () => {
    await openView('log', 'Request log')
    await expect.poll(() => logRows('m2m_verify', 'orders').count()).toBeGreaterThanOrEqual(4)
    expect(await logRows('jwks', 'instance key').count()).toBeGreaterThanOrEqual(2)
    await view('log').getByLabel('Caller').selectOption({ label: 'orders' })
    const shown = page.locator('#log-table tbody tr')
    await expect.poll(async () => (await shown.allTextContents()).every((row) => row.includes('orders'))).toBe(true)
    await view('log').getByLabel('Caller').selectOption('')
    await page.setViewportSize({ width: 1280, height: 640 })
    await page.screenshot({ path: join(SHOTS, 'overview.png') })
    await checkView('log-session')
  })

  it('put no secret in any URL and raised no page error', () => {
    const all = requestedUrls.join('\n')
    for (const secret of [emu.secretKey, secrets.orders, tokens.opaque.token, tokens.jwt.token]) expect(all).not.toContain(secret)
    expect(requestedUrls.every((u) => u.startsWith(emu.url))).toBe(true)
    expect(pageErrors).toEqual([])
  })
})
