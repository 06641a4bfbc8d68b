#!/usr/bin/env node
// The security catalogue census: which rows of the catalogue (the tables of docs/SECURITY.md,
// "The adversarial catalogue") are covered by tests that carry the row's id, actually ran (not
// skipped, not ignored), passed and made at least one assertion. The suites record what ran: the
// Vitest setup file __test__/helpers/census.ts and the Rust helper
// crates/clerk-m2m-core/tests/census/mod.rs write one JSON line per test into
// $CLERK_M2M_CENSUS_DIR; scripts/test.sh empties that directory, runs every suite, then this
// script. Prints, per row, where its tests are (and rows run at a reduced size in this run, with
// their size); exits 1 when a row has no counted test, when a test names an id the catalogue does
// not have, or when nothing was recorded.
//
//   CLERK_M2M_CENSUS_DIR=target/census node scripts/census.mjs
//   (CLERK_M2M_CENSUS_SPEC=<file> reads the rows from another file's tables)
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/** The catalogue's row ids: the first cell of each table row of docs/SECURITY.md that is an id. */
export function catalogueRows(spec = process.env.CLERK_M2M_CENSUS_SPEC || resolve(ROOT, 'docs', 'SECURITY.md')) {
  const ids = existsSync(spec) ? [...readFileSync(spec, 'utf8').matchAll(/^\|\s*([JKON]-\d+)\s*\|/gm)].map((m) => m[1]) : []
  return { rows: [...new Set(ids)], source: relative(ROOT, spec) || spec }
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

/** The `.rs` files under `dir`, this one first. */
function rustFilesUnder(dir, first) {
  const all = []
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else if (name.endsWith('.rs') && p !== first) all.push(p)
    }
  }
  if (existsSync(dir)) walk(dir)
  return [first, ...all]
}

/**
 * Where a record's test is: `file:line`. A Rust record names the file of the test's first
 * assertion, which may be a shared helper's; the test's own line is found by its function name
 * in that file or the other files of the same test directory.
 */
export function location(record, root = ROOT) {
  if (record.line) return `${record.file}:${record.line}`
  if (record.runner === 'rust') {
    const fn = record.name.split('::').pop()
    const path = join(root, record.file)
    const definition = new RegExp(`\\bfn ${fn}\\s*\\(`)
    for (const file of rustFilesUnder(dirname(path), path)) {
      if (!existsSync(file)) continue
      const i = readFileSync(file, 'utf8').split('\n').findIndex((l) => definition.test(l))
      if (i >= 0) return `${relative(root, file)}:${i + 1}`
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
  if (rows.length === 0) {
    console.error(`catalogue census: no catalogue rows in ${source}`)
    process.exit(1)
  }
  const result = census(rows, records)
  console.log(render(rows, result, { source }))
  if (!records.some((r) => r.runner === 'rust') || !records.some((r) => r.runner === 'vitest')) {
    console.error('catalogue census: records of the Rust tests or of the Vitest suites are missing')
    process.exit(1)
  }
  process.exit(result.missing.length > 0 || result.unknown.length > 0 ? 1 : 0)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main()
