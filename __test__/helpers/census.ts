// What the security catalogue census (scripts/census.mjs) needs from the Vitest suites: which
// test carrying a row id (J-01, K-13…) in its name ran, where, whether it passed and how many
// assertions it made. A setup file (vitest.config.ts): after each test, one line is appended to
// $CLERK_M2M_CENSUS_DIR/vitest-<pid>.jsonl; nothing is written when the variable is unset.
// Skipped tests never run, so never record.
import { afterEach, expect } from 'vitest'
import { appendFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'

const ROW_ID = /\b[JKON]-\d+\b/
const root = resolve(__dirname, '..', '..')
const REDUCED = Symbol.for('clerk-m2m-native.census.reduced')

interface Reduced {
  row: string
  ran: number
  of: number
  unit: string
}

const pending = (): Reduced[] => ((globalThis as Record<symbol, Reduced[]>)[REDUCED] ??= [])

/** Says that the running test exercises `row` at a reduced size in this run: `ran` of the catalogue's `of` `unit`. */
export function reducedSize(row: string, ran: number, of: number, unit: string): void {
  pending().push({ row, ran, of, unit })
}

const dir = process.env.CLERK_M2M_CENSUS_DIR
if (dir) {
  afterEach((ctx) => {
    const reduced = pending().splice(0)
    const task = ctx.task
    if (!ROW_ID.test(task.name)) return
    const record = {
      runner: 'vitest',
      file: relative(root, task.file.filepath),
      line: task.location?.line,
      name: task.name,
      assertions: expect.getState().assertionCalls,
      failed: task.result?.state === 'fail' || (task.result?.errors?.length ?? 0) > 0,
      reduced,
    }
    appendFileSync(join(dir, `vitest-${process.pid}.jsonl`), `${JSON.stringify(record)}\n`)
  })
}
