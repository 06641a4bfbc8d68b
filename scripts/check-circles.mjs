#!/usr/bin/env node
// No import circles: reads the module graph of each area below from the source — in a Rust crate
// the files by their `mod` declarations (a declaration places a file; it is not an import), then
// every `crate::`/`super::`/`self::` path and every path through a child module, in `use` trees
// (re-exports included) and in code, test modules included, a re-exported name followed to the
// file that defines it; in JavaScript the relative `require()`/`import` specifiers — and fails,
// naming each circle file by file with the names that tie it, when files import each other in a loop.
//
//   node scripts/check-circles.mjs            (every area; exit 1 on a circle)
//   node scripts/check-circles.mjs --graph    (also print each area's edges)
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/** The areas checked: one line each. A Rust crate is named by its `src` folder, JavaScript by its folders. */
export const AREAS = [
  { name: 'core crate (clerk-m2m-core)', rust: 'crates/clerk-m2m-core/src' },
  { name: 'napi binding', rust: 'src' },
  { name: 'emulator crate (clerk-bapi-emulator)', rust: 'crates/clerk-bapi-emulator/src' },
  { name: 'JavaScript (lib/, bin/)', js: ['lib', 'bin'] },
]

// ---------------------------------------------------------------------------
// Rust

/** The text with comments, string and char literals blanked (same length, newlines kept). */
export function stripRust(text) {
  const out = text.split('')
  const blank = (from, to) => {
    for (let i = from; i < to; i++) if (out[i] !== '\n') out[i] = ' '
  }
  let i = 0
  while (i < text.length) {
    const c = text[i]
    const next = text[i + 1]
    if (c === '/' && next === '/') {
      const end = text.indexOf('\n', i)
      const stop = end < 0 ? text.length : end
      blank(i, stop)
      i = stop
    } else if (c === '/' && next === '*') {
      let depth = 1
      let j = i + 2
      while (j < text.length && depth > 0) {
        if (text[j] === '/' && text[j + 1] === '*') (depth += 1), (j += 2)
        else if (text[j] === '*' && text[j + 1] === '/') (depth -= 1), (j += 2)
        else j += 1
      }
      blank(i, j)
      i = j
    } else if ((c === 'r' || (c === 'b' && next === 'r')) && /^b?r#*"/.test(text.slice(i, i + 40)) && !/\w/.test(text[i - 1] ?? '')) {
      const m = /^b?r(#*)"/.exec(text.slice(i))
      const close = `"${m[1]}`
      const end = text.indexOf(close, i + m[0].length)
      const stop = end < 0 ? text.length : end + close.length
      blank(i, stop)
      i = stop
    } else if (c === '"') {
      let j = i + 1
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1
      blank(i, j + 1)
      i = j + 1
    } else if (c === "'") {
      // A char literal ('x', '\n', '\u{1F600}', '"'); otherwise a lifetime ('a).
      const m = /^'(?:\\u\{[0-9a-fA-F]+\}|\\.|[^\\'\n])'/u.exec(text.slice(i, i + 16))
      if (m) {
        blank(i, i + m[0].length)
        i += m[0].length
      } else i += 1
    } else i += 1
  }
  return out.join('')
}

/** Expands a `use` tree (`crate::a::{b, c::d as e, *}`) into its full paths, each with the name it binds. */
export function expandUseTree(tree) {
  const paths = []
  const walk = (prefix, s) => {
    s = s.trim()
    const brace = s.indexOf('{')
    if (brace < 0) {
      const [path, alias] = s.split(/\s+as\s+/)
      const segs = [...prefix, ...path.split('::').map((x) => x.trim()).filter(Boolean)]
      if (segs.length === 0) return
      const last = segs[segs.length - 1]
      if (last === 'self') segs.pop()
      paths.push({ segs, name: alias?.trim() ?? (last === 'self' ? segs[segs.length - 1] : last) })
      return
    }
    const head = s.slice(0, brace).replace(/::\s*$/, '')
    const inner = s.slice(brace + 1, s.lastIndexOf('}'))
    const base = [...prefix, ...head.split('::').map((x) => x.trim()).filter(Boolean)]
    let depth = 0
    let start = 0
    for (let i = 0; i <= inner.length; i++) {
      const ch = inner[i]
      if (ch === '{') depth += 1
      else if (ch === '}') depth -= 1
      else if ((ch === ',' && depth === 0) || i === inner.length) {
        const part = inner.slice(start, i)
        if (part.trim()) walk(base, part)
        start = i + 1
      }
    }
  }
  walk([], tree)
  return paths
}

/** The file of each module of a crate (`[]` is the root), following `mod name;` declarations. */
function rustModules(srcDir) {
  const rootFile = ['lib.rs', 'main.rs'].map((f) => join(srcDir, f)).find(existsSync)
  const modules = new Map() // module path 'a::b' -> { file, path: [...] }
  const visit = (path, file) => {
    modules.set(path.join('::'), { file, path })
    const code = stripRust(readFileSync(file, 'utf8'))
    const dir = path.length === 0 || /(?:^|\/)mod\.rs$/.test(file) ? dirname(file) : join(dirname(file), path[path.length - 1])
    for (const m of code.matchAll(/\bmod\s+([A-Za-z_]\w*)\s*;/g)) {
      const child = [...path, m[1]]
      const candidate = [join(dir, `${m[1]}.rs`), join(dir, m[1], 'mod.rs')].find(existsSync)
      if (candidate) visit(child, candidate)
    }
  }
  if (rootFile) visit([], rootFile)
  return modules
}

/**
 * Each file's module references: `{ at: module path of the code (inline modules included),
 * segs: the path as written, names }`, from `use` statements and paths in code.
 */
function rustReferences(code, filePath) {
  const refs = []
  // The inline module (`mod tests { … }`) each position is in.
  const inlineAt = []
  const stack = []
  let depth = 0
  const opens = new Map()
  for (const m of code.matchAll(/\bmod\s+([A-Za-z_]\w*)\s*\{/g)) opens.set(m.index + m[0].length - 1, m[1])
  for (let i = 0; i < code.length; i++) {
    if (code[i] === '{') {
      depth += 1
      if (opens.has(i)) stack.push({ name: opens.get(i), depth })
    } else if (code[i] === '}') {
      if (stack.length && stack[stack.length - 1].depth === depth) stack.pop()
      depth -= 1
    }
    if (code[i] === '\n' || i === 0) inlineAt.push([i, stack.map((s) => s.name)])
  }
  const modAt = (index) => {
    let lo = 0
    for (let k = 0; k < inlineAt.length && inlineAt[k][0] <= index; k++) lo = k
    return [...filePath, ...(inlineAt[lo]?.[1] ?? [])]
  }
  const useSpans = []
  for (const m of code.matchAll(/\b(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);/g)) {
    useSpans.push([m.index, m.index + m[0].length])
    const exported = /^pub\b/.test(m[0])
    for (const p of expandUseTree(m[1])) refs.push({ at: modAt(m.index), segs: p.segs, names: [p.name], use: { name: p.name, exported } })
  }
  for (const m of code.matchAll(/(?<![\w:])[A-Za-z_]\w*(?:\s*::\s*[A-Za-z_]\w*)+/g)) {
    if (useSpans.some(([a, b]) => m.index >= a && m.index < b)) continue
    const segs = m[0].split('::').map((s) => s.trim())
    refs.push({ at: modAt(m.index), segs, names: [segs[segs.length - 1]] })
  }
  return refs
}

/**
 * `crate`/`super`/`self` made absolute against the module `at` (a path may also start with a
 * child module of `at`, as `use decode::X` in lib.rs does); null for an external path.
 */
function absolute(segs, at, modules) {
  let path = [...at]
  let i = 0
  if (segs[0] === 'crate') (path = []), (i = 1)
  else if (segs[0] === 'self') i = 1
  else if (segs[0] === 'super') {
    while (segs[i] === 'super') (path = path.slice(0, -1)), (i += 1)
    if (segs[i] === 'self') i += 1
  } else if (!modules.has([...at, segs[0]].join('::'))) return null
  return [...path, ...segs.slice(i)]
}

/** The file that defines what an absolute path names, following re-exports. */
function resolveRust(abs, modules, bindings, seen = new Set()) {
  let k = abs.length
  while (k > 0 && !modules.has(abs.slice(0, k).join('::'))) k -= 1
  const mod = modules.get(abs.slice(0, k).join('::'))
  if (!mod) return null
  const rest = abs.slice(k)
  if (rest.length === 0) return mod.file
  const key = `${abs.slice(0, k).join('::')}#${rest[0]}`
  const target = bindings.get(key)
  if (target && !seen.has(key)) {
    seen.add(key)
    return resolveRust([...target, ...rest.slice(1)], modules, bindings, seen) ?? mod.file
  }
  return mod.file
}

/** Edges `from file -> to file` with the names the first takes from the second. */
export function rustGraph(srcDir) {
  const modules = rustModules(srcDir)
  const edges = new Map()
  const add = (from, to, name) => {
    if (!to || from === to) return
    const key = `${from}\n${to}`
    if (!edges.has(key)) edges.set(key, { from, to, names: new Set() })
    edges.get(key).names.add(name)
  }
  const refsByFile = new Map()
  // What each module's `use` statements bind (re-exports included), as absolute crate paths.
  const bindings = new Map()
  for (const { file, path } of modules.values()) {
    const refs = rustReferences(stripRust(readFileSync(file, 'utf8')), path)
    refsByFile.set(file, refs)
    for (const r of refs) {
      if (!r.use) continue
      const abs = absolute(r.segs, r.at, modules)
      if (abs) bindings.set(`${r.at.join('::')}#${r.use.name}`, abs)
    }
  }
  for (const { file, path } of modules.values()) {
    for (const r of refsByFile.get(file)) {
      const abs = absolute(r.segs, r.at, modules)
      if (!abs) continue
      for (const name of r.names) add(file, resolveRust(abs, modules, bindings), name)
    }
  }
  return { files: [...new Set([...modules.values()].map((m) => m.file))], edges: [...edges.values()] }
}

// ---------------------------------------------------------------------------
// JavaScript

/** The text with comments and template literals blanked; quoted strings kept (they hold the specifiers). */
export function stripJs(text) {
  const out = text.split('')
  const blank = (from, to) => {
    for (let i = from; i < to; i++) if (out[i] !== '\n') out[i] = ' '
  }
  const skipTemplate = (i) => {
    // i is just after the opening backtick; returns the index after the closing one.
    while (i < text.length) {
      if (text[i] === '\\') i += 2
      else if (text[i] === '`') return i + 1
      else if (text[i] === '$' && text[i + 1] === '{') {
        let depth = 1
        i += 2
        while (i < text.length && depth > 0) {
          if (text[i] === '`') i = skipTemplate(i + 1)
          else {
            if (text[i] === '{') depth += 1
            else if (text[i] === '}') depth -= 1
            i += 1
          }
        }
      } else i += 1
    }
    return i
  }
  let i = 0
  while (i < text.length) {
    const c = text[i]
    if (c === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i)
      const stop = end < 0 ? text.length : end
      blank(i, stop)
      i = stop
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2)
      const stop = end < 0 ? text.length : end + 2
      blank(i, stop)
      i = stop
    } else if (c === '`') {
      const stop = skipTemplate(i + 1)
      blank(i, stop)
      i = stop
    } else if (c === '"' || c === "'") {
      let j = i + 1
      while (j < text.length && text[j] !== c && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1
      i = j + 1
    } else i += 1
  }
  return out.join('')
}

function jsFiles(dir) {
  if (!existsSync(dir)) return []
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) return name === 'node_modules' ? [] : jsFiles(p)
    return /\.(?:c|m)?js$/.test(name) ? [p] : []
  })
}

export function jsGraph(dirs) {
  const files = dirs.flatMap((d) => jsFiles(d))
  const known = new Set(files)
  const edges = new Map()
  for (const file of files) {
    const code = stripJs(readFileSync(file, 'utf8'))
    const specifiers = [
      ...code.matchAll(/\brequire\s*\(\s*(['"])(\.{1,2}\/[^'"]+)\1\s*\)/g),
      ...code.matchAll(/\bfrom\s+(['"])(\.{1,2}\/[^'"]+)\1/g),
      ...code.matchAll(/\bimport\s*\(?\s*(['"])(\.{1,2}\/[^'"]+)\1/g),
    ]
    for (const m of specifiers) {
      const target = resolve(dirname(file), m[2])
      const to = [target, `${target}.js`, `${target}.mjs`, join(target, 'index.js')].find((t) => known.has(t))
      if (!to || to === file) continue
      const key = `${file}\n${to}`
      if (!edges.has(key)) edges.set(key, { from: file, to, names: new Set() })
      edges.get(key).names.add(m[2])
    }
  }
  return { files, edges: [...edges.values()] }
}

// ---------------------------------------------------------------------------
// Circles

/** Every circle (strongly connected set of files), each as one closed path through it. */
export function findCircles({ files, edges }) {
  const out = new Map(files.map((f) => [f, []]))
  for (const e of edges) out.get(e.from)?.push(e)
  // Tarjan's strongly connected components.
  let index = 0
  const idx = new Map()
  const low = new Map()
  const onStack = new Set()
  const stack = []
  const sccs = []
  const strong = (v) => {
    idx.set(v, index)
    low.set(v, index)
    index += 1
    stack.push(v)
    onStack.add(v)
    for (const { to } of out.get(v) ?? []) {
      if (!idx.has(to)) {
        strong(to)
        low.set(v, Math.min(low.get(v), low.get(to)))
      } else if (onStack.has(to)) low.set(v, Math.min(low.get(v), idx.get(to)))
    }
    if (low.get(v) === idx.get(v)) {
      const scc = []
      let w
      do {
        w = stack.pop()
        onStack.delete(w)
        scc.push(w)
      } while (w !== v)
      if (scc.length > 1) sccs.push(scc)
    }
  }
  for (const f of files) if (!idx.has(f)) strong(f)
  // One closed path per component: breadth-first from its first file back to itself.
  return sccs.map((scc) => {
    const members = new Set(scc)
    const start = [...scc].sort()[0]
    const prev = new Map()
    const queue = [start]
    let last = null
    while (queue.length && !last) {
      const v = queue.shift()
      for (const e of out.get(v) ?? []) {
        if (!members.has(e.to)) continue
        if (e.to === start) {
          last = e
          break
        }
        if (!prev.has(e.to)) {
          prev.set(e.to, e)
          queue.push(e.to)
        }
      }
    }
    const path = [last]
    for (let v = last.from; v !== start; v = prev.get(v).from) path.unshift(prev.get(v))
    return { files: [...scc].sort(), path }
  })
}

const show = (f) => relative(ROOT, f)

export function describeCircle(circle) {
  const lines = [`circle of ${circle.files.length} files: ${circle.files.map(show).join(', ')}`]
  for (const e of circle.path) lines.push(`  ${show(e.from)} -> ${show(e.to)}: ${[...e.names].sort().join(', ')}`)
  return lines.join('\n')
}

export function graphOf(area, root = ROOT) {
  return area.rust ? rustGraph(join(root, area.rust)) : jsGraph(area.js.map((d) => join(root, d)))
}

function main() {
  const printGraph = process.argv.includes('--graph')
  let failed = false
  for (const area of AREAS) {
    const graph = graphOf(area)
    const circles = findCircles(graph)
    if (printGraph) for (const e of graph.edges) console.log(`  ${show(e.from)} -> ${show(e.to)}: ${[...e.names].sort().join(', ')}`)
    if (graph.files.length === 0) {
      console.error(`${area.name}: no source files found`)
      failed = true
    } else if (circles.length === 0) {
      console.log(`${area.name}: no import circle (${graph.files.length} files, ${graph.edges.length} import edges)`)
    } else {
      failed = true
      console.log(`${area.name}: ${circles.length} import circle${circles.length === 1 ? '' : 's'}`)
      for (const c of circles) console.log(describeCircle(c))
    }
  }
  process.exit(failed ? 1 : 0)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main()
