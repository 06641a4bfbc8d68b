// Order statistics and number formatting for the harness. Quantiles use linear
// interpolation between closest ranks (the same rule as numpy's default), so a
// median of an even count is the mean of the two middle values.

/** The q-quantile (0..1) of `values`; NaN for an empty list. Does not mutate. */
export function quantile(values, q) {
  if (values.length === 0) return NaN
  const sorted = Float64Array.from(values).sort()
  return quantileSorted(sorted, q)
}

export function quantileSorted(sorted, q) {
  if (sorted.length === 0) return NaN
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo)
}

/** Median, quartiles and extremes of a list of round rates. */
export function summarize(values) {
  const sorted = Float64Array.from(values).sort()
  return {
    n: sorted.length,
    median: quantileSorted(sorted, 0.5),
    p25: quantileSorted(sorted, 0.25),
    p75: quantileSorted(sorted, 0.75),
    min: sorted.length ? sorted[0] : NaN,
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
  }
}

/** p50/p99 (and max) of per-operation latencies in milliseconds. */
export function latencySummary(samplesMs) {
  const sorted = Float64Array.from(samplesMs).sort()
  return {
    n: sorted.length,
    p50: quantileSorted(sorted, 0.5),
    p99: quantileSorted(sorted, 0.99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
  }
}

/** 12345.6 → "12,346"; small rates keep one decimal. */
export function fmtRate(x) {
  if (!Number.isFinite(x)) return 'n/a'
  if (x >= 100) return Math.round(x).toLocaleString('en-US')
  return x.toFixed(1)
}

/** Milliseconds → a compact µs/ms string. */
export function fmtLatency(ms) {
  if (!Number.isFinite(ms)) return 'n/a'
  const us = ms * 1000
  if (us < 10) return `${us.toFixed(2)} µs`
  if (us < 1000) return `${us.toFixed(1)} µs`
  if (ms < 100) return `${ms.toFixed(2)} ms`
  return `${Math.round(ms)} ms`
}

export function fmtRatio(x) {
  if (!Number.isFinite(x)) return 'n/a'
  if (x >= 100) return `${Math.round(x)}×`
  if (x >= 10) return `${x.toFixed(1)}×`
  return `${x.toFixed(2)}×`
}

export function fmtBytes(b) {
  if (!Number.isFinite(b)) return 'n/a'
  return `${(b / (1024 * 1024)).toFixed(1)} MiB`
}

/** Renders rows (arrays of strings) as an aligned plain-text table; `align` per column: 'l' | 'r'. */
export function textTable(header, rows, align) {
  const all = [header, ...rows]
  const widths = header.map((_, c) => Math.max(...all.map((r) => String(r[c]).length)))
  const line = (r) =>
    r
      .map((cell, c) => {
        const s = String(cell)
        return (align?.[c] ?? 'l') === 'r' ? s.padStart(widths[c]) : s.padEnd(widths[c])
      })
      .join('  ')
      .trimEnd()
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

/** Renders rows as a GitHub markdown table; `align` per column: 'l' | 'r'. */
export function mdTable(header, rows, align) {
  const esc = (s) => String(s).replaceAll('|', '\\|')
  const sep = header.map((_, c) => ((align?.[c] ?? 'l') === 'r' ? '---:' : '---'))
  return [header, sep, ...rows].map((r, i) => `| ${(i === 1 ? r : r.map(esc)).join(' | ')} |`).join('\n')
}
