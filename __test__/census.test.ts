// The catalogue census itself (scripts/census.mjs): a row counts only through tests that carry
// its id, ran, passed and asserted; the census fails otherwise.
import { describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
// @ts-expect-error: a plain ES module without types
import { census, render, rowIds } from '../scripts/census.mjs'

const root = resolve(__dirname, '..')
const rows = ['J-01', 'K-13', 'N-07']
const js = (name: string, assertions: number, extra: Record<string, unknown> = {}) => ({ runner: 'vitest', file: '__test__/x.test.ts', line: 3, name, assertions, failed: false, reduced: [], ...extra })
const rust = (name: string, assertions: number) => ({ runner: 'rust', file: 'crates/clerk-m2m-core/tests/catalogue.rs', name, assertions, reduced: [] })

describe('catalogue census', () => {
  it('reads row ids from Vitest names anywhere and from Rust names as a prefix', () => {
    expect(rowIds(js('pem: J-01 alg none, and K-13', 1))).toEqual(['J-01', 'K-13'])
    expect(rowIds(rust('k_13_n_07_keys', 1))).toEqual(['K-13', 'N-07'])
    expect(rowIds(rust('tests::j_01_x', 1))).toEqual(['J-01'])
    expect(rowIds(rust('helper_j_01', 1))).toEqual([])
  })

  it('counts a row only through tests that ran, passed and asserted', () => {
    const records = [js('J-01 a', 2), rust('j_01_b', 5), js('K-13 made no assertion', 0), js('N-07 failed', 3, { failed: true })]
    const r = census(rows, records)
    expect(r.missing).toEqual(['K-13', 'N-07'])
    expect(r.byRow.get('J-01').counted).toHaveLength(2)
    expect(r.byRow.get('K-13').notCounted).toHaveLength(1)
    const text = render(rows, r, { source: 'test', root })
    expect(text).toContain('catalogue: 1 of 3 rows covered')
    expect(text).toMatch(/K-13 +MISSING/)
    expect(text).toContain('rows without a counted test: K-13 N-07')
  })

  it('marks rows run at a reduced size, and refuses ids that are not rows', () => {
    const records = [js('J-01 a', 1), js('K-13 b', 1), js('N-07 c', 4, { reduced: [{ row: 'N-07', ran: 300_000, of: 1_000_000, unit: 'verifications' }] }), js('J-99 d', 1)]
    const r = census(rows, records)
    expect(r.missing).toEqual([])
    expect(r.unknown).toEqual(['J-99'])
    const text = render(rows, r, { source: 'test', root })
    expect(text).toContain('[REDUCED in this run: 300,000 of 1,000,000 verifications, __test__/x.test.ts:3]')
    expect(text).toContain('at a reduced size in this run: N-07')
  })

  it('exits 1 when a row\'s only test was skipped (it left no record), 0 when every row is covered', () => {
    const dir = mkdtempSync(join(tmpdir(), 'census-'))
    try {
      const spec = (ids: string[]) => ids.map((id) => `| ${id} | x |`).join('\n')
      const run = (records: object[]) => {
        writeFileSync(join(dir, 'vitest-1.jsonl'), records.map((x) => JSON.stringify(x)).join('\n'))
        writeFileSync(join(dir, 'rust-1.jsonl'), JSON.stringify(rust('j_01_x', 1)))
        return spawnSync(process.execPath, [join(root, 'scripts', 'census.mjs')], { env: { ...process.env, CLERK_M2M_CENSUS_DIR: dir, CLERK_M2M_CENSUS_SPEC: join(dir, 'spec.md') }, encoding: 'utf8' })
      }
      writeFileSync(join(dir, 'spec.md'), spec(rows))
      // K-13's only test is `it.skip`ped: it never ran, so it recorded nothing.
      let r = run([js('N-07 c', 1)])
      expect(r.status, r.stdout + r.stderr).toBe(1)
      expect(r.stdout).toMatch(/K-13 +MISSING/)
      r = run([js('N-07 c', 1), js('K-13 b', 2)])
      expect(r.status, r.stdout + r.stderr).toBe(0)
      expect(r.stdout).toContain('catalogue: 3 of 3 rows covered')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
