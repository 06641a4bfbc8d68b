'use strict'
// Process-wide counters (`processStats()`) and their Prometheus text exposition (`metricsText()`).
// Everything counted is a fixed set of names and labels (token types, codes, route templates,
// result classes): no token, key, id or URL can become a label.

const native = require('../native.js')
const { reuseStats } = require('../verify.js')
const { outcomeTable } = require('./counts.js')

/**
 * What the whole process has done: outcomes of every verifier (by token type × code, retired
 * verifiers included), answers served from the JS reuse maps, the JWKS cache, the verified-signature
 * cache, and the Backend API requests made by native code, by route, with a latency histogram.
 */
function processStats() {
  const n = JSON.parse(native.processStatsJson())
  const reuse = reuseStats()
  return {
    outcomes: outcomeTable(JSON.stringify(n.outcomes)),
    reuse,
    jwks: n.jwks,
    signatureCache: n.signatureCache,
    http: n.http.map((r) => ({
      route: r.route,
      requests: Object.fromEntries(r.requests),
      attempts: r.attempts,
      latency: { bucketsMs: n.latencyBucketsMs, counts: r.buckets, sumMs: r.sumMs },
    })),
  }
}

const escapeLabel = (v) => String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
const labels = (o) => {
  const parts = Object.entries(o).map(([k, v]) => `${k}="${escapeLabel(v)}"`)
  return parts.length ? `{${parts.join(',')}}` : ''
}

/** A Prometheus number: integers as they are, `+Inf` spelled the way the format wants. */
const num = (v) => (v === Infinity ? '+Inf' : String(v))

/**
 * The process-wide counters in the Prometheus text exposition format (version 0.0.4), to serve on
 * `/metrics` (`Content-Type: text/plain; version=0.0.4`) or to hand to a registry that accepts text.
 */
function metricsText() {
  const s = processStats()
  const out = []
  const family = (name, type, help, samples) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
    for (const [suffix, l, v] of samples) out.push(`${name}${suffix}${labels(l)} ${num(v)}`)
  }

  const outcomes = []
  for (const [tokenType, codes] of Object.entries(s.outcomes)) for (const [code, n] of Object.entries(codes)) outcomes.push(['', { token_type: tokenType, code }, n])
  family('clerk_m2m_verifications_total', 'counter', 'Verifications settled by native code, by token type and code (ok, or the error code).', outcomes)
  family('clerk_m2m_reused_answers_total', 'counter', 'Verifications answered from the JS reuse map (a repeated, already verified JWT).', [['', {}, s.reuse.hits]])
  family('clerk_m2m_reuse_entries', 'gauge', 'Entries held by the JS reuse maps of all verifiers.', [['', {}, s.reuse.entries]])
  family('clerk_m2m_reuse_bytes', 'gauge', 'Token and outcome text held by the JS reuse maps.', [['', {}, s.reuse.bytes]])
  family('clerk_m2m_cached_verifiers', 'gauge', 'Verifiers cached for the drop-in functions (one per distinct option set).', [['', {}, s.reuse.cachedVerifiers]])
  family('clerk_m2m_jwks_fetches_total', 'counter', 'JWKS fetches started (each may be several HTTP attempts).', [['', {}, s.jwks.fetches]])
  family('clerk_m2m_jwks_coalesced_waits_total', 'counter', 'Key lookups that waited for a JWKS fetch already in flight.', [['', {}, s.jwks.coalesced]])
  family('clerk_m2m_jwks_cooldown_refusals_total', 'counter', 'Unknown kids refused from the cooldown, without a fetch.', [['', {}, s.jwks.cooldownRejections]])
  family('clerk_m2m_jwks_scopes', 'gauge', 'JWKS cache scopes (instances) held.', [['', {}, s.jwks.scopes]])
  family('clerk_m2m_signature_cache_hits_total', 'counter', 'Signature checks answered by the verified-signature cache.', [['', {}, s.signatureCache.hits]])
  family('clerk_m2m_signature_cache_misses_total', 'counter', 'Signature-cache lookups that found nothing usable.', [['', {}, s.signatureCache.misses]])
  family('clerk_m2m_signature_cache_entries', 'gauge', 'Entries in the verified-signature cache.', [['', {}, s.signatureCache.entries]])

  const requests = []
  const attempts = []
  const histogram = []
  for (const r of s.http) {
    for (const [result, n] of Object.entries(r.requests)) requests.push(['', { route: r.route, result }, n])
    attempts.push(['', { route: r.route }, r.attempts])
    let cumulative = 0
    r.latency.bucketsMs.forEach((bound, i) => {
      cumulative += r.latency.counts[i]
      histogram.push(['_bucket', { route: r.route, le: bound / 1000 }, cumulative])
    })
    cumulative += r.latency.counts[r.latency.bucketsMs.length]
    histogram.push(['_bucket', { route: r.route, le: '+Inf' }, cumulative])
    histogram.push(['_sum', { route: r.route }, r.latency.sumMs / 1000])
    histogram.push(['_count', { route: r.route }, cumulative])
  }
  family('clerk_m2m_http_requests_total', 'counter', 'Backend API and JWKS requests made by native code, by route template and result (status class or error).', requests)
  family('clerk_m2m_http_request_attempts_total', 'counter', 'HTTP attempts made for those requests (retries included).', attempts)
  family('clerk_m2m_http_request_duration_seconds', 'histogram', 'Duration of a request, all attempts and backoff included.', histogram)
  return `${out.join('\n')}\n`
}

module.exports = { processStats, metricsText }
