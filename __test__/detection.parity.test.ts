// Parity of every detector with @clerk/backend@3.25.0 over one generated corpus,
// plus property tests (random strings and byte-level mutations of real tokens).
import { beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as ours from '../lib/index.js'
import { loadOracle, type OracleMachine } from './helpers/oracle'
import { b64u, generateKey, m2mHeader, m2mPayload, signJwt, signRaw } from './helpers/tokens'

let ref: OracleMachine
beforeAll(async () => {
  ref = await loadOracle()
})

const DETECTORS = [
  'isJwtFormat',
  'isOAuthJwt',
  'isM2MJwt',
  'isMachineJwt',
  'isMachineTokenByPrefix',
  'isMachineToken',
  'getMachineTokenType',
] as const

type Outcome = { value: unknown } | { threw: string }
function run(fn: (t: string) => unknown, t: string): Outcome {
  try {
    return { value: fn(t) }
  } catch (e) {
    return { threw: `${(e as Error).constructor.name}: ${(e as Error).message}` }
  }
}

/** The generated corpus: real signed tokens, every prefix, and malformed inputs. */
function buildCorpus(): string[] {
  const key = generateKey('ins_2GIoQhbUpy0hX7B2cVkuTMinXoD')
  const other = generateKey('ins_other')
  const out: string[] = []
  const typs = [undefined, 'JWT', 'at+jwt', 'application/at+jwt', 'AT+JWT', 'jwt', 'at+JWT', ' at+jwt', 5, null, ['at+jwt'], {}]
  const subs = [undefined, 'mch_1', 'mch_', 'MCH_1', 'mch', 'user_1', ' mch_1', 'mch_\u00e9', 5, null, ['mch_1'], { a: 'mch_1' }, true]
  for (const typ of typs) {
    for (const sub of subs) {
      const header: Record<string, unknown> = { alg: 'RS256', kid: key.kid, cat: 'cl_B7d4PD333AAA' }
      if (typ !== undefined) header.typ = typ
      const payload: Record<string, unknown> = m2mPayload()
      if (sub === undefined) delete payload.sub
      else payload.sub = sub
      out.push(signJwt(header, payload, key))
      out.push(signJwt(header, payload, other, 'RS512'))
    }
  }
  // Non-object headers and payloads, duplicates, BOM, invalid UTF-8, whitespace in JSON.
  const raws: Array<[string | Uint8Array, string | Uint8Array]> = [
    ['null', '{"sub":"mch_1"}'],
    ['{"typ":"at+jwt"}', 'null'],
    ['[]', '{"sub":"mch_1"}'],
    ['"x"', '{"sub":"mch_1"}'],
    ['42', '42'],
    ['true', '"mch_1"'],
    ['{"typ":"at+jwt"}', '[1]'],
    ['{}', '{"sub":"user_1","sub":"mch_1"}'],
    ['{}', '{"sub":"mch_1","sub":"user_1"}'],
    ['{}', '{"sub":"mch_1","sub":5}'],
    ['{"typ":"JWT","typ":"at+jwt"}', '{}'],
    ['{"typ":"at+jwt","typ":null}', '{}'],
    [Buffer.from([0xef, 0xbb, 0xbf, ...Buffer.from('{"typ":"at+jwt"}')]), '{}'],
    ['{}', Buffer.from([0xef, 0xbb, 0xbf, ...Buffer.from('{"sub":"mch_1"}')])],
    ['{}', Buffer.from([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf, ...Buffer.from('{"sub":"mch_1"}')])],
    ['{}', Buffer.from([...Buffer.from('{"sub":"mch_'), 0xff, 0xfe, ...Buffer.from('"}')])],
    ['{}', Buffer.from([...Buffer.from('{"sub":"'), 0xff, ...Buffer.from('mch_1"}')])],
    ['{}', ' \n\t{"sub" : "mch_1"}\r\n '],
    ['{}', '{"sub":"m\\u0063h_1"}'],
    ['{}', '{"s\\u0075b":"mch_1"}'],
    ['{}', '{"sub":"mch_1"} x'],
    ['{}', '{"sub":"mch_1",}'],
    ['{', '{"sub":"mch_1"}'],
    ['', '{"sub":"mch_1"}'],
    ['{}', ''],
    ['{}', "{'sub':'mch_1'}"],
    ['{}', '{"sub":"mch_1","x":[1,2,{"y":null}]}'],
    ['{}', '{"__proto__":{"sub":"mch_1"}}'],
    ['{}', '{"sub":"mch_1","n":-0,"m":1e300}'],
  ]
  for (const [h, p] of raws) {
    out.push(signRaw(h, p, key))
  }
  const good = signJwt(m2mHeader(key), m2mPayload(), key)
  const [h, p, s] = good.split('.')
  // base64url edge cases around a real token.
  out.push(
    `${h}=.${p}.${s}`,
    `${h}.${p}.${s}=`,
    `${h}.${p}.${s}==`,
    `${h}.${p}`,
    `${h}.${p}.${s}.${s}`,
    `${h}..${s}`,
    `.${p}.${s}`,
    `${h}.${p}.`,
    `${h}.${p}.${s}\n`,
    ` ${good}`,
    `${good} `,
    `${h}.${p.slice(0, 10)} ${p.slice(10)}.${s}`,
    `${h}.${p}.${s.slice(0, -1)}`,
    `${h}.${p}.${s.slice(0, -2)}`,
    `${h}.${p.slice(0, -1)}.${s}`,
    `${h}.${p}.${s.replace(/-/g, '+').replace(/_/g, '/')}`,
    `${h.replace(/-/g, '+')}.${p}.${s}`,
    `${h}.${p}.QR`,
    `${h}.${p}.QQ`,
    `${h}.${p}.Q`,
    `${h}.${p}.AAAA`,
    `mt_${good}`,
    `oat_${good}`,
    `ak_${good}`,
    `${h}.${p}.${s}`.replace(/A/g, '\u0410'),
    'abc.def.ghi',
    'YWJj.YWJj.YWJj',
    'e30.e30.',
    'e30.e30.e30',
    'bnVsbA.bnVsbA.bnVsbA',
    'a.b.c',
    'mt_a.b.c',
    'a..c',
    'a.b.c=',
    'ä.b.c',
    '....',
    '.',
  )
  // Every prefix, case variants, look-alikes, whitespace and odd characters.
  for (const prefix of ['mt_', 'oat_', 'ak_', 'MT_', 'Oat_', 'AK_', 'mch_', 'sk_test_', 'pk_test_', 'mt', 'oat', 'ak', 'm\u200bt_', '\u043ct_', ' mt_', '\nmt_', 'mt-', 'oat-', '']) {
    for (const rest of ['', 'x', '8XOIucKvqHVr5tYP123456789abcdefghij', 'LCWGdaM8mv8K4PC/57IICZQXAeWfCgF30DZaFXHoGn9=', 'a.b.c', '\u0000', '\u{1F600}']) {
      out.push(prefix + rest)
    }
  }
  out.push('', ' ', '\n', 'null', 'undefined', '42', 'invalid', 'invalid.jwt', 'invalid.jwt.token.extra', 'unknown_prefix_token', 'M2M_token_value', 'OAUTH_token_value', 'API_KEY_value', 'session_token_value')
  // Huge strings: over the size ceiling, but not JWTs (a ceiling-sized *valid* JWT is a documented difference).
  out.push('a'.repeat(1 << 20), 'mt_' + 'a'.repeat(1 << 20), 'a.'.repeat(50_000) + 'a', `${'x'.repeat(20_000)}.${p}.${s}`.replace(/x/g, '!'))
  return out
}

describe('detection parity with @clerk/backend@3.25.0', () => {
  const corpus = buildCorpus()

  it('has a corpus of at least 500 inputs', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(500)
  })

  for (const name of DETECTORS) {
    it(`${name} agrees on every corpus input`, () => {
      let compared = 0
      for (const t of corpus) {
        const mine = run((ours as any)[name], t)
        const theirs = run((ref as any)[name], t)
        expect(mine, `${name}(${JSON.stringify(t.slice(0, 120))})`).toEqual(theirs)
        compared++
      }
      expect(compared).toBeGreaterThanOrEqual(500)
    })
  }

  it('agrees on strings around the native copy buffer (the 16 KiB ceiling + 8 bytes)', () => {
    // The binding copies a token's UTF-8 once into a fixed buffer; whatever ends past it
    // (a bad last character, a multi-byte character cut in two) must still count.
    const tails = ['', '!', '.', '\u00e9', '\u{1F600}', '\ud800', '=']
    let compared = 0
    for (let n = 16_370; n <= 16_400; n++) {
      for (const tail of tails) {
        for (const t of [`a.b.${'c'.repeat(n - 4)}${tail}`, `mt_${'\u00e9'.repeat((n - 3) >> 1)}${tail}`, `${'\u00e9'.repeat(n >> 1)}.b.c${tail}`]) {
          for (const name of DETECTORS) {
            expect(run((ours as any)[name], t), `${name}(${t.length} chars, …${JSON.stringify(t.slice(-3))})`).toEqual(run((ref as any)[name], t))
            compared++
          }
        }
      }
    }
    expect(compared).toBe(31 * 7 * 3 * DETECTORS.length)
  })

  it('isMachineTokenType agrees', () => {
    for (const t of ['api_key', 'm2m_token', 'oauth_token', 'session_token', 'any', '', 'M2M_TOKEN', ' api_key', 'api_key ']) {
      expect(ours.isMachineTokenType(t), t).toBe(ref.isMachineTokenType(t))
    }
  })

  it('isTokenTypeAccepted agrees, including JS falsy and array semantics', () => {
    const types = ['session_token', 'api_key', 'm2m_token', 'oauth_token', 'any', '', null, undefined, 0, 'x']
    const accepts = ['any', 'session_token', 'api_key', 'm2m_token', 'oauth_token', ['any'], [], ['api_key', 'm2m_token'], ['session_token'], 'x', [null], [0]]
    for (const t of types) {
      for (const a of accepts) {
        expect(ours.isTokenTypeAccepted(t as any, a as any), `${String(t)} / ${JSON.stringify(a)}`).toBe(ref.isTokenTypeAccepted(t, a))
      }
    }
  })

  it('constants and TokenType equal the reference values', () => {
    expect(ours.TokenType).toEqual(ref.TokenType)
    expect(ours.M2M_TOKEN_PREFIX).toBe('mt_')
    expect(ours.M2M_SUBJECT_PREFIX).toBe('mch_')
    expect(ours.OAUTH_TOKEN_PREFIX).toBe('oat_')
    expect(ours.API_KEY_PREFIX).toBe('ak_')
    expect([...ours.OAUTH_ACCESS_TOKEN_TYPES]).toEqual(['at+jwt', 'application/at+jwt'])
    expect(ours.JWT_CATEGORY_M2M_TOKEN).toBe('cl_B7d4PD333AAA')
  })
})

describe('detection property tests', () => {
  const key = generateKey('ins_prop')
  const seeds = [
    signJwt(m2mHeader(key), m2mPayload(), key),
    signJwt({ alg: 'RS256', typ: 'at+jwt', kid: key.kid }, { sub: 'user_1', client_id: 'c' }, key),
    signJwt({ alg: 'RS256', typ: 'JWT' }, { sub: 'user_1' }, key),
    'mt_8XOIucKvqHVr5tYP123456789abcdefghij',
  ]
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \n'

  it('random strings: identical answers', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 60 })), (s) => {
        for (const name of DETECTORS) {
          expect(run((ours as any)[name], s)).toEqual(run((ref as any)[name], s))
        }
      }),
      { numRuns: 1500 },
    )
  })

  it('byte-level mutations of valid tokens: identical answers', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(...alphabet), fc.constantFrom('replace', 'insert', 'delete')), { minLength: 1, maxLength: 4 }),
        (seed, edits) => {
          let s = seed
          for (const [pos, ch, op] of edits) {
            const i = pos % (s.length + 1)
            if (op === 'replace') s = s.slice(0, i) + ch + s.slice(i + 1)
            else if (op === 'insert') s = s.slice(0, i) + ch + s.slice(i)
            else s = s.slice(0, i) + s.slice(i + 1)
          }
          for (const name of DETECTORS) {
            expect(run((ours as any)[name], s), `${name}(${s})`).toEqual(run((ref as any)[name], s))
          }
        },
      ),
      { numRuns: 1500 },
    )
  })

  it('mutations of decoded JSON (re-encoded, real base64url): identical answers', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 3 }), fc.json({ maxDepth: 3 }), (h, p) => {
        const t = `${b64u(h)}.${b64u(p)}.${b64u('sig')}`
        for (const name of DETECTORS) {
          expect(run((ours as any)[name], t)).toEqual(run((ref as any)[name], t))
        }
      }),
      { numRuns: 1000 },
    )
  })
})
