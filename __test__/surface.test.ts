// The public JS surface: CJS and ESM entries agree, and the error and resource
// classes look like the reference's (fields, order, methods, JSON form).
import { describe, expect, it } from 'vitest'
import { createRequire } from 'node:module'
import * as esm from '../lib/index.mjs'
import { MachineTokenVerificationError as RefError } from '@clerk/backend/errors'

const require = createRequire(import.meta.url)
const cjs = require('../lib/index.js')

describe('public surface', () => {
  it('the ESM entry exports exactly what the CommonJS entry does', () => {
    const names = Object.keys(cjs).sort()
    expect(Object.keys(esm).filter((k) => k !== 'default').sort()).toEqual(names)
    for (const n of names) expect((esm as any)[n], n).toBe(cjs[n])
  })

  it('MachineTokenVerificationError matches the reference field by field', () => {
    const args = { message: 'Machine token not found', code: 'token-invalid', status: 404 } as const
    const ours = new cjs.MachineTokenVerificationError(args)
    const theirs = new RefError(args as any)
    expect(ours).toBeInstanceOf(Error)
    expect(Object.keys(ours)).toEqual(Object.keys(theirs))
    expect(ours.message).toBe(theirs.message)
    expect(ours.getFullMessage()).toBe(theirs.getFullMessage())
    expect(JSON.stringify(ours)).toBe(JSON.stringify(theirs))
    expect(cjs.MachineTokenVerificationError.kind).toBe((RefError as any).kind)
    expect(String(ours)).toBe(`[MachineTokenVerificationError]\nMessage:Machine token not found`)
    const withAction = new cjs.MachineTokenVerificationError({ message: 'm', code: 'token-verification-failed', action: 'a' })
    expect(withAction.getFullMessage()).toBe(new RefError({ message: 'm', code: 'token-verification-failed', action: 'a' } as any).getFullMessage())
  })

  it('verification errors are real instances with stable codes', async () => {
    const r = await cjs.verifyMachineAuthToken('abc.def.ghi', {})
    expect(r.errors[0]).toBeInstanceOf(cjs.MachineTokenVerificationError)
    expect(r.errors[0].code).toBe(cjs.MachineTokenVerificationErrorCode.TokenInvalid)
  })

  it('bad options reject with InvalidOptionsError, never a crash', async () => {
    for (const options of [
      { apiUrl: 'http://api.clerk.com' },
      { apiUrl: 'https://user:pw@api.clerk.com' },
      { apiUrl: 'not a url' },
      { clockSkewInMs: Number.NaN },
      { clockSkewInMs: '5000' },
      { timeoutMs: Infinity },
      { timeoutMs: 0 },
      { maxTokenBytes: 1e12 },
      { secretKey: 42 },
      { audience: [1, 2] },
      'options',
    ]) {
      const p = cjs.verifyMachineAuthToken('mt_x', options)
      await expect(p, JSON.stringify(options)).rejects.toBeInstanceOf(cjs.InvalidOptionsError)
      await expect(p).rejects.toMatchObject({ code: 'invalid-options' })
    }
  })

  it('a non-string token rejects with a TypeError', async () => {
    for (const t of [undefined, null, 42, {}, ['mt_x']]) {
      await expect(cjs.verifyMachineAuthToken(t, {})).rejects.toBeInstanceOf(TypeError)
      await expect(cjs.verifyM2MToken(t, {})).rejects.toBeInstanceOf(TypeError)
    }
  })

  it('an unknown token type rejects exactly like the reference', async () => {
    await expect(cjs.verifyMachineAuthToken('xx_abc', {})).rejects.toThrow(new Error('Unknown machine token type'))
  })
})
