// The host process must never die: junk arguments, huge strings and forced
// Rust panics all become JS errors. Each scenario runs in a child process so
// that an abort would be observed as a signal/exit code, not a lost worker.
import { describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import { testAddonEnv } from './helpers/test-addon'

const root = resolve(__dirname, '..')

function runChild(script: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['-e', script], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  })
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr }
}

const DETECTORS = ['isJwtFormat', 'isOAuthJwt', 'isM2MJwt', 'isMachineJwt', 'isMachineTokenByPrefix', 'isMachineToken', 'getMachineTokenType']

describe('never crash the host process', () => {
  it('every detection export answers junk arguments with a JS error or a value', () => {
    const script = `
      const m = require('./lib/index.js')
      const native = require('./index.js')
      const big = 'a'.repeat(10 * 1024 * 1024)
      const bigJwt = 'eyJ' + 'a'.repeat(10 * 1024 * 1024) + '.e30.e30'
      const inputs = [undefined, null, 42, NaN, {}, [], () => 1, Symbol('s'), 10n, true, big, bigJwt, '\\ud800', 'mt_\\udfff']
      const out = []
      for (const name of ${JSON.stringify(DETECTORS)}) {
        for (const x of inputs) {
          for (const [label, fn] of [['lib', m[name]], ['native', native[name]]]) {
            try { out.push([label, name, typeof x, 'value', typeof fn(x)]) }
            catch (e) { out.push([label, name, typeof x, 'error', e instanceof Error ? e.constructor.name : 'non-error']) }
          }
        }
      }
      for (const args of [[undefined, undefined], [{}, 'any'], ['m2m_token', 42], ['m2m_token', [1, 2]], [Symbol('x'), []]]) {
        try { m.isTokenTypeAccepted(...args); out.push(['lib', 'isTokenTypeAccepted', 'value']) } catch (e) { out.push(['lib', 'isTokenTypeAccepted', 'error', e.constructor.name]) }
        try { native.isTokenTypeAccepted(...args); out.push(['native', 'isTokenTypeAccepted', 'value']) } catch (e) { out.push(['native', 'isTokenTypeAccepted', 'error', e.constructor.name]) }
      }
      process.stdout.write(JSON.stringify(out))
    `
    const r = runChild(script)
    expect(r.signal).toBeNull()
    expect(r.status, r.stderr).toBe(0)
    const rows = JSON.parse(r.stdout) as string[][]
    // The public layer throws TypeError for every non-string token, and answers every string.
    for (const row of rows.filter((x) => x[0] === 'lib' && x[1] !== 'isTokenTypeAccepted')) {
      if (row[2] === 'string') expect(row[3] === 'value' || (row[1] === 'getMachineTokenType' && row[4] === 'Error'), row.join(' ')).toBe(true)
      else expect(row.slice(3), row.join(' ')).toEqual(['error', 'TypeError'])
    }
    // The raw binding also throws (never aborts) on a non-string.
    for (const row of rows.filter((x) => x[0] === 'native' && x[2] !== 'string' && x[1] !== 'isTokenTypeAccepted')) {
      expect(row[3], row.join(' ')).toBe('error')
    }
  })

  it('the public layer names the problem in its TypeError', async () => {
    const m = await import('../lib/index.js')
    expect(() => m.isM2MJwt(undefined as any)).toThrow(TypeError)
    expect(() => m.isM2MJwt(undefined as any)).toThrow(expect.objectContaining({ message: 'token must be a string, received a undefined', code: 'ERR_INVALID_ARG_TYPE' }))
    expect(() => m.getMachineTokenType(42 as any)).toThrow(TypeError)
    expect(() => m.getMachineTokenType('nope')).toThrow(new Error('Unknown machine token type'))
  })

  // The probes exist only in the test addon (cargo feature `test-hooks`), loaded by the child.
  it('a forced panic in a sync export becomes a JS error and the process exits normally', () => {
    const r = runChild(
      `const n = require(process.env.NAPI_RS_NATIVE_LIBRARY_PATH)
       try { n.__panicProbeSync(); console.log('no-throw') } catch (e) { console.log('caught', e instanceof Error, /panic probe/.test(e.message)) }
       console.log('alive')`,
      testAddonEnv(),
    )
    expect(r.signal).toBeNull()
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('caught true true')
    expect(r.stdout).toContain('alive')
  })

  it('a forced panic in an async export rejects the promise and the process exits normally', () => {
    const r = runChild(
      `const n = require(process.env.NAPI_RS_NATIVE_LIBRARY_PATH)
       n.__panicProbeAsync().then(() => console.log('resolved'), (e) => console.log('rejected', e instanceof Error, /panic probe/.test(e.message)))
         .then(() => console.log('alive'))`,
      testAddonEnv(),
    )
    expect(r.signal).toBeNull()
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('rejected true true')
    expect(r.stdout).toContain('alive')
  })

  it('the release addon has no test hooks (panic probes, clock) at all', async () => {
    const n = await import('../index.js')
    const binary = createRequire(__filename)(join(root, readdirSync(root).find((f) => f.endsWith('.node')) as string))
    for (const exports of [n as Record<string, unknown>, binary]) {
      for (const name of ['__panicProbeSync', '__panicProbeAsync', '__freezeClock']) expect(exports[name], name).toBeUndefined()
    }
    expect(Object.keys(binary)).toContain('NativeVerifier')
  })
})
