#!/usr/bin/env node
// The security catalogue census: which rows of the catalogue (../shared/spec/security-catalogue.md)
// are covered by tests that carry the row's id, actually ran (not skipped, not ignored), passed
// and made at least one assertion. The suites record what ran: the Vitest setup file
// __test__/helpers/census.ts and the Rust helper crates/clerk-m2m-core/tests/census/mod.rs write
// one JSON line per test into $CLERK_M2M_CENSUS_DIR; scripts/test.sh empties that directory, runs
// every suite, then this script. Prints, per row, where its tests are (and rows run at a reduced
// size in this run, with their size); exits 1 when a row has no counted test, when a test names
// an id the catalogue does not have, or when nothing was recorded.
//
//   CLERK_M2M_CENSUS_DIR=target/census node scripts/census.mjs
//   (CLERK_M2M_CENSUS_SPEC=<file> reads the rows from another copy of the catalogue)
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/** The row ids of the catalogue as of this writing, used when ../shared is not there. */
export const FALLBACK_ROWS = (
  'J-01 J-02 J-03 J-04 J-05 J-06 J-07 J-10 J-11 J-12 J-13 J-14 J-15 J-16 J-17 J-18 J-19 J-20 J-30 J-31 J-32 J-33 J-34 J-35 ' +
  'J-36 J-37 J-38 J-39 J-40 J-41 J-42 J-43 J-50 J-51 J-52 J-53 J-54 J-60 J-61 J-62 J-63 J-64 J-65 J-70 J-71 J-72 J-73 J-80 ' +
  'J-81 J-82 J-83 J-84 J-85 J-86 J-87 J-88 J-89 J-90 J-100 J-101 J-102 J-103 J-104 J-110 J-111 J-112 J-113 J-114 J-115 J-116 ' +
  'J-117 J-120 J-121 J-130 J-131 J-132 J-133 J-134 J-140 J-141 J-142 J-143 J-144 J-145 J-146 J-147 K-01 K-02 K-03 K-04 K-05 ' +
  'K-06 K-07 K-08 K-09 K-10 K-11 K-12 K-13 K-14 K-15 K-16 K-17 K-18 K-19 K-20 O-01 O-02 O-03 O-04 O-05 O-06 O-07 O-08 O-09 ' +
  'O-10 O-11 O-12 O-13 O-14 N-01 N-02 N-03 N-04 N-05 N-06 N-07 N-08 N-09 N-10'
).split(' ')

/** The catalogue's row ids, from the spec beside the repository (CI checks shared/ out there) or the list above. */
export function catalogueRows(spec = process.env.CLERK_M2M_CENSUS_SPEC || resolve(ROOT, '..', 'shared', 'spec', 'security-catalogue.md')) {
  if (existsSync(spec)) {
    const ids = [...readFileSync(spec, 'utf8').matchAll(/^\|\s*([JKON]-\d+)\s*\|/gm)].map((m) => m[1])
    if (ids.length > 0) return { rows: [...new Set(ids)], source: spec }
  }
  return { rows: FALLBACK_ROWS, source: 'the list in scripts/census.mjs' }
}

/** Every record the suites wrote (one JSON object a line). */
export function readRecords(dir) {
  if (!dir || !existsSync(dir)) return []
  const records = []
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.jsonl')).sort()) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) if (line.trim()) records.push(JSON.parse(line))
  }
  return records
}

/** Row ids a test carries: `J-01` anywhere in a Vitest name; `j_01_k_13_…` as the prefix of a Rust test's name. */
export function rowIds(record) {
  if (record.runner === 'rust') {
    const name = record.name.split('::').pop()
    const prefix = /^((?:[jkon]_\d+_)+)/.exec(name)
    return prefix ? prefix[1].match(/[jkon]_\d+/g).map((p) => `${p[0].toUpperCase()}-${p.slice(2)}`) : []
  }
  return [...new Set(record.name.match(/\b[JKON]-\d+\b/g) ?? [])]
}

/** Where a record's test is: `file:line`, the line of a Rust test found from its name. */
export function location(record, root = ROOT) {
  if (record.line) return `${record.file}:${record.line}`
  if (record.runner === 'rust') {
    const fn = record.name.split('::').pop()
    const path = join(root, record.file)
    if (existsSync(path)) {
      const i = readFileSync(path, 'utf8').split('\n').findIndex((l) => new RegExp(`\\bfn ${fn}\\s*\\(`).test(l))
      if (i >= 0) return `${record.file}:${i + 1}`
    }
  }
  return record.file
}

/** A test counts for its rows when it passed and made at least one assertion. */
export const counts = (record) => !record.failed && record.assertions > 0

/**
 * The census: per row, the counted tests and the ones that did not count (no assertion, failed);
 * the rows with no counted test; ids used by tests that are not rows; rows run at a reduced size.
 */
export function census(rows, records) {
  const byRow = new Map(rows.map((id) => [id, { counted: [], notCounted: [] }]))
  const unknown = new Set()
  const reduced = new Map()
  for (const r of records) {
    for (const id of rowIds(r)) {
      const entry = byRow.get(id)
      if (!entry) {
        unknown.add(id)
        continue
      }
      ;(counts(r) ? entry.counted : entry.notCounted).push(r)
    }
    for (const x of r.reduced ?? []) if (counts(r)) reduced.set(x.row, [...(reduced.get(x.row) ?? []), { ...x, record: r }])
  }
  const missing = rows.filter((id) => byRow.get(id).counted.length === 0)
  return { byRow, missing, unknown: [...unknown].sort(), reduced }
}

/** `file:line, line (N tests, M assertions)` per file, Rust and Vitest apart. */
function describeTests(records, root) {
  const byFile = new Map()
  for (const r of records) {
    const loc = location(r, root)
    const [file, line] = loc.includes(':') ? [loc.slice(0, loc.lastIndexOf(':')), loc.slice(loc.lastIndexOf(':') + 1)] : [loc, '']
    const e = byFile.get(file) ?? { lines: [], tests: 0, assertions: 0 }
    if (line && !e.lines.includes(line)) e.lines.push(line)
    e.tests += 1
    e.assertions += r.assertions
    byFile.set(file, e)
  }
  return [...byFile].map(([file, e]) => {
    e.lines.sort((a, b) => Number(a) - Number(b))
    const lines = e.lines.length > 3 ? `${e.lines.slice(0, 3).join(',')},…` : e.lines.join(',')
    return `${file}${lines ? `:${lines}` : ''} (${e.tests} test${e.tests === 1 ? '' : 's'}, ${e.assertions} assertion${e.assertions === 1 ? '' : 's'})`
  })
}

const fmt = (n) => n.toLocaleString('en')

/** The report: one line per row, then the summary line. */
export function render(rows, result, { source, root = ROOT } = {}) {
  const out = []
  const width = Math.max(...rows.map((id) => id.length))
  for (const id of rows) {
    const { counted, notCounted } = result.byRow.get(id)
    let line = `${id.padEnd(width)}  ${counted.length > 0 ? describeTests(counted, root).join('; ') : 'MISSING: no test with this id ran and asserted'}`
    if (notCounted.length > 0) line += `  [not counted: ${describeTests(notCounted, root).join('; ')}: ${notCounted.some((r) => r.failed) ? 'failed or ' : ''}no assertion]`
    for (const x of result.reduced.get(id) ?? []) line += `  [REDUCED in this run: ${fmt(x.ran)} of ${fmt(x.of)} ${x.unit}, ${location(x.record, root)}]`
    out.push(line)
  }
  const covered = rows.length - result.missing.length
  const by = (runner) => rows.filter((id) => result.byRow.get(id).counted.some((r) => r.runner === runner)).length
  const reducedRows = rows.filter((id) => result.reduced.has(id))
  out.push(
    `catalogue: ${covered} of ${rows.length} rows covered by tests that ran and asserted (Rust: ${by('rust')}, JS: ${by('vitest')}; rows from ${source})` +
      (reducedRows.length > 0 ? `; at a reduced size in this run: ${reducedRows.join(', ')} (CLERK_M2M_SOAK_FULL=1 runs them in full)` : ''),
  )
  if (result.missing.length > 0) out.push(`catalogue: rows without a counted test: ${result.missing.join(' ')}`)
  if (result.unknown.length > 0) out.push(`catalogue: test names carry ids that are not rows of the catalogue: ${result.unknown.join(' ')}`)
  return out.join('\n')
}

function main() {
  const dir = process.env.CLERK_M2M_CENSUS_DIR
  const records = readRecords(dir)
  if (records.length === 0) {
    console.error(`catalogue census: no records in ${dir ?? '$CLERK_M2M_CENSUS_DIR (unset)'}; run it through scripts/test.sh`)
    process.exit(1)
  }
  const { rows, source } = catalogueRows()
  const result = census(rows, records)
  console.log(render(rows, result, { source }))
  if (!records.some((r) => r.runner === 'rust') || !records.some((r) => r.runner === 'vitest')) {
    console.error('catalogue census: records of the Rust tests or of the Vitest suites are missing')
    process.exit(1)
  }
  process.exit(result.missing.length > 0 || result.unknown.length > 0 ? 1 : 0)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main()
