// The benchmark chart as a self-contained SVG (no external tools): one group of
// horizontal bars per workload, one bar per implementation (median ops/s, with
// a thin whisker over the p25–p75 of the round rates), on a log10 axis because
// the rates span four orders of magnitude.

const COLORS = {
  native: '#c2255c',
  nativeAlt: '#e64980',
  reference: '#495057',
  'js-lib': '#1c7ed6',
  'js-lib-cache': '#15aabf',
  handwritten: '#f59f00',
  floor: '#2b8a3e',
}
const LIB_SHADES = ['#1c7ed6', '#4dabf7', '#1864ab', '#74c0fc']

function colorFor(result, libIndex) {
  if (result.family === 'native') return result.name === 'clerk-m2m-native' ? COLORS.native : COLORS.nativeAlt
  if (result.family === 'js-lib') return LIB_SHADES[libIndex % LIB_SHADES.length]
  return COLORS[result.family] ?? '#868e96'
}

const esc = (s) => String(s).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;')

function compact(x) {
  if (x >= 1e6) return `${(x / 1e6).toFixed(x >= 1e7 ? 0 : 1)}M`
  if (x >= 1e3) return `${(x / 1e3).toFixed(x >= 1e4 ? 0 : 1)}k`
  return `${Math.round(x)}`
}

/**
 * `groups`: [{ title, results: [{ name, family, rate: { median, p25, p75 } }] }].
 * Returns the SVG text.
 */
export function renderChart({ title, subtitle, groups }) {
  const W = 980
  const labelW = 300
  const rightPad = 70
  const barH = 13
  const barGap = 3
  const groupTitleH = 20
  const groupGap = 14
  const top = 64
  const plotW = W - labelW - rightPad

  const all = groups.flatMap((g) => g.results.map((r) => r.rate.median)).filter((x) => Number.isFinite(x) && x > 0)
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...all))))
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...all))))
  const x = (v) => labelW + ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotW

  let y = top
  const body = []
  for (const g of groups) {
    body.push(`<text x="8" y="${y + 14}" class="group">${esc(g.title)}</text>`)
    y += groupTitleH
    let libIndex = 0
    for (const r of g.results) {
      const color = colorFor(r, r.family === 'js-lib' ? libIndex++ : 0)
      const v = r.rate.median
      const cy = y + barH / 2
      body.push(`<text x="${labelW - 8}" y="${cy + 4}" class="label" text-anchor="end">${esc(r.name)}</text>`)
      if (Number.isFinite(v) && v > 0) {
        body.push(`<rect x="${labelW}" y="${y}" width="${Math.max(1, x(v) - labelW).toFixed(1)}" height="${barH}" fill="${color}"><title>${esc(`${r.name}: ${Math.round(v)} ops/s`)}</title></rect>`)
        if (Number.isFinite(r.rate.p25) && Number.isFinite(r.rate.p75)) {
          body.push(`<line x1="${x(r.rate.p25).toFixed(1)}" x2="${x(r.rate.p75).toFixed(1)}" y1="${cy}" y2="${cy}" class="whisker"/>`)
        }
        const labelX = x(Math.max(v, Number.isFinite(r.rate.p75) ? r.rate.p75 : v)) + 4
        body.push(`<text x="${labelX.toFixed(1)}" y="${cy + 4}" class="value">${compact(v)}</text>`)
      }
      y += barH + barGap
    }
    y += groupGap
  }
  const H = y + 30

  const grid = []
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    for (const m of [1, 2, 5]) {
      const v = d * m
      if (v > hi * 1.0001) break
      const gx = x(v).toFixed(1)
      grid.push(`<line x1="${gx}" x2="${gx}" y1="${top - 6}" y2="${H - 30}" class="${m === 1 ? 'major' : 'minor'}"/>`)
      if (m === 1) grid.push(`<text x="${gx}" y="${top - 10}" class="axis" text-anchor="middle">${compact(v)}</text>`)
    }
  }

  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif">
<style>
  .title { font-size: 16px; font-weight: 600; fill: #212529 }
  .subtitle { font-size: 11px; fill: #495057 }
  .group { font-size: 12.5px; font-weight: 600; fill: #212529 }
  .label { font-size: 11px; fill: #343a40 }
  .value { font-size: 10.5px; fill: #212529 }
  .axis { font-size: 10.5px; fill: #495057 }
  .major { stroke: #ced4da; stroke-width: 1 }
  .minor { stroke: #f1f3f5; stroke-width: 1 }
  .whisker { stroke: #000; stroke-opacity: 0.55; stroke-width: 1.5 }
</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="8" y="20" class="title">${esc(title)}</text>
<text x="8" y="36" class="subtitle">${esc(subtitle)}</text>
${grid.join('\n')}
${body.join('\n')}
<text x="${labelW}" y="${H - 10}" class="subtitle">ops/s, log scale — bar: median of interleaved rounds; whisker: p25–p75 of round rates</text>
</svg>
`
}
