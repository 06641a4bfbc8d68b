// The import-circle check (scripts/check-circles.mjs, a step of `npm test`): it must find a
// circle where one exists, name the files and the names that tie it, and not invent one.
import { describe, expect, it } from 'vitest'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
// @ts-expect-error: a plain ES module without types
import { AREAS, describeCircle, expandUseTree, findCircles, graphOf, jsGraph, rustGraph, stripRust } from '../scripts/check-circles.mjs'

function tree(files: Record<string, string>, body: (dir: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'circles-'))
  try {
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true })
      writeFileSync(join(dir, name), text)
    }
    body(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const names = (circles: Array<{ files: string[] }>, dir: string) => circles.map((c) => c.files.map((f) => f.slice(dir.length + 1)))

describe('import circle check', () => {
  it('expands use trees and blanks comments and strings', () => {
    expect(expandUseTree('crate::a::{b, c::{d as e, self}, f::*}').map((p: { segs: string[]; name: string }) => [p.segs.join('::'), p.name])).toEqual([
      ['crate::a::b', 'b'],
      ['crate::a::c::d', 'e'],
      ['crate::a::c', 'c'],
      ['crate::a::f::*', '*'],
    ])
    const code = stripRust(`let s = "use crate::x;"; // use crate::y;\n/* crate::z */ let c = '"'; let r = r#"crate::w"#; fn f<'a>() {}`)
    expect(code).not.toMatch(/crate::/)
    expect(code).toContain("fn f<'a>()")
  })

  it('finds a Rust circle through a re-export and names what ties it', () => {
    tree(
      {
        'src/lib.rs': 'mod a;\nmod b;\nmod c;\npub use a::A;\n',
        'src/a.rs': 'use crate::b::B;\npub struct A(B);\n',
        'src/b.rs': '//! b\npub struct B;\nfn make() -> crate::A { todo!() }\n',
        'src/c.rs': 'use crate::a::A;\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n',
      },
      (dir) => {
        const circles = findCircles(rustGraph(join(dir, 'src')))
        expect(names(circles, dir)).toEqual([['src/a.rs', 'src/b.rs']])
        const text = describeCircle(circles[0])
        expect(text).toMatch(/a\.rs -> .*b\.rs: B/)
        expect(text).toMatch(/b\.rs -> .*a\.rs: A/)
      },
    )
  })

  it('resolves super:: inside inline test modules and mod.rs files, and finds no circle where there is none', () => {
    tree(
      {
        'src/lib.rs': 'mod outer;\npub use outer::Thing;\n',
        'src/outer/mod.rs': 'mod inner;\nmod shared;\npub use inner::Thing;\n',
        'src/outer/shared.rs': 'pub struct Shared;\n',
        'src/outer/inner.rs': 'use super::shared::Shared;\npub struct Thing(Shared);\n#[cfg(test)]\nmod tests {\n    use super::Thing;\n    fn t() -> super::super::shared::Shared { super::super::shared::Shared }\n}\n',
      },
      (dir) => {
        const graph = rustGraph(join(dir, 'src'))
        expect(findCircles(graph)).toEqual([])
        const edges = graph.edges.map((e: { from: string; to: string }) => `${e.from.slice(dir.length + 1)} -> ${e.to.slice(dir.length + 1)}`).sort()
        expect(edges).toEqual(['src/lib.rs -> src/outer/inner.rs', 'src/outer/inner.rs -> src/outer/shared.rs', 'src/outer/mod.rs -> src/outer/inner.rs'])
      },
    )
  })

  it('finds a JavaScript circle and ignores requires in comments and template strings', () => {
    tree(
      {
        'lib/x.js': "const y = require('./y.js')\n// require('./z.js')\n",
        'lib/y.js': "const x = require('./x')\n",
        'lib/z.js': "const code = `require('./x.js') ${'a'}`\nconst w = require('./w.js')\n",
        'lib/w.js': "export * from './y.js'\n",
      },
      (dir) => {
        const circles = findCircles(jsGraph([join(dir, 'lib')]))
        expect(names(circles, dir)).toEqual([['lib/x.js', 'lib/y.js']])
      },
    )
  })

  it('finds no circle in the repository today', () => {
    for (const area of AREAS) expect([area.name, findCircles(graphOf(area)).map(describeCircle)]).toEqual([area.name, []])
  })
})
