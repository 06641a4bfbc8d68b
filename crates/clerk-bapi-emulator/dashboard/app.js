// The emulator's dashboard. Plain DOM, no framework, no network but the emulator's own admin API
// (`/__emulator/…`, every state change with the page's token header) and its event stream.
// Values from the emulator (machine names, claims, paths) only ever become text nodes.
'use strict'

const TOKEN = document.querySelector('meta[name="emulator-token"]').content
const ROUTES = {
  jwks: 'GET /v1/jwks',
  m2m_create: 'POST /m2m_tokens',
  m2m_list: 'GET /m2m_tokens',
  m2m_revoke: 'POST /m2m_tokens/{id}/revoke',
  m2m_verify: 'POST /m2m_tokens/verify',
  oauth_verify: 'POST /oauth_applications/access_tokens/verify',
  api_key_verify: 'POST /api_keys/verify',
  machines: '/v1/machines…',
}
const VIEWS = ['instance', 'machines', 'tokens', 'log', 'faults']
/** Rows the live log keeps (the emulator's own log keeps its last 200). */
const LOG_ROWS = 500

const ui = {
  view: 'instance',
  instance: 0,
  info: null,
  tokens: null,
  faults: {},
  clock: null,
  clockAt: 0,
  counters: {},
  revealed: new Set(),
  editing: null,
  log: new Map(),
  unseen: 0,
}

// ---------------------------------------------------------------------------------------------
// helpers

const $ = (id) => document.getElementById(id)

/** An element; attributes `on…` become listeners; children are nodes or text. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v)
    else if (k === 'class') el.className = v
    else el.setAttribute(k, v === true ? '' : String(v))
  }
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue
    el.append(c instanceof Node ? c : String(c))
  }
  return el
}

async function api(method, path, body) {
  const headers = { 'x-clerk-emulator-token': TOKEN }
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(`/__emulator${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' })
  const text = await res.text()
  let json
  try {
    json = text ? JSON.parse(text) : undefined
  } catch {
    json = undefined
  }
  if (!res.ok) throw new Error(json?.errors?.[0]?.long_message || `HTTP ${res.status}`)
  return json
}

let statusTimer
function say(message, isError = false) {
  const el = $('status')
  el.classList.toggle('error', isError)
  el.setAttribute('role', isError ? 'alert' : 'status')
  el.textContent = message
  clearTimeout(statusTimer)
  statusTimer = setTimeout(() => (el.textContent = ''), isError ? 8000 : 3000)
}

/** Runs an action from a button or form, reporting its failure. */
async function act(what, fn) {
  try {
    const result = await fn()
    await refresh()
    if (what) say(what)
    return result
  } catch (e) {
    say(e.message, true)
    return undefined
  }
}

async function copy(value, label) {
  try {
    await navigator.clipboard.writeText(value)
  } catch {
    const area = h('textarea', { class: 'sr-only', 'aria-hidden': 'true' }, value)
    document.body.append(area)
    area.select()
    document.execCommand('copy')
    area.remove()
  }
  say(`Copied ${label}`)
}

function mask(value) {
  const prefix = /^(sk_test_|sk_live_|pk_test_|pk_live_|[a-z]+_)/.exec(value)?.[0] ?? value.slice(0, 3)
  return `${prefix}${'•'.repeat(10)}${value.slice(-4)}`
}

/** A masked secret with Show/Hide and Copy buttons. `key` keeps its state across renders. */
function secret(key, value, label) {
  const shown = ui.revealed.has(key)
  return h(
    'span',
    { class: 'secret' },
    h('code', { 'data-secret': key }, shown ? value : mask(value)),
    h('button', {
      type: 'button',
      class: 'small',
      'aria-pressed': String(shown),
      'aria-label': `${shown ? 'Hide' : 'Show'} ${label}`,
      'data-key': `show:${key}`,
      onclick: () => {
        if (shown) ui.revealed.delete(key)
        else ui.revealed.add(key)
        render()
      },
    }, shown ? 'Hide' : 'Show'),
    h('button', { type: 'button', class: 'small', 'aria-label': `Copy ${label}`, 'data-key': `copy:${key}`, onclick: () => copy(value, label) }, 'Copy'),
  )
}

const pad = (n, w = 2) => String(n).padStart(w, '0')
function time(ms) {
  const d = new Date(ms)
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
}
function when(ms) {
  if (ms == null) return 'never'
  const d = new Date(ms)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}
function duration(ms) {
  const s = Math.round(Math.abs(ms) / 1000)
  const sign = ms < 0 ? '−' : '+'
  if (s < 60) return `${sign}${s} s`
  if (s < 3600) return `${sign}${Math.round(s / 60)} min`
  if (s < 86400) return `${sign}${(s / 3600).toFixed(1)} h`
  return `${sign}${(s / 86400).toFixed(1)} d`
}

const instance = () => ui.info?.instances?.[ui.instance]
const machines = () => instance()?.machines ?? []
const machineName = (id) => machines().find((m) => m.id === id)?.name ?? id
const emulatorNow = () => (ui.clock ? ui.clock.nowMs + (Date.now() - ui.clockAt) : Date.now())

/**
 * Replaces the children of `el`, keeping what the user typed into its fields and the keyboard
 * focus (matched by data-key), so a refresh never eats input.
 */
function fill(el, ...children) {
  const focused = document.activeElement
  const key = el.contains(focused) ? focused?.getAttribute('data-key') : null
  const typed = new Map()
  for (const field of el.querySelectorAll('input[data-key]:not([type="checkbox"]), select[data-key], textarea[data-key]')) typed.set(field.getAttribute('data-key'), field.value)
  el.replaceChildren(...children.flat(Infinity).filter((c) => c != null))
  for (const [k, value] of typed) {
    const field = el.querySelector(`[data-key="${CSS.escape(k)}"]`)
    if (!field || (field.tagName === 'SELECT' && ![...field.options].some((o) => o.value === value))) continue
    field.value = value
  }
  if (key) el.querySelector(`[data-key="${CSS.escape(key)}"]`)?.focus()
}

/** Sets a select's options, keeping its value when it still exists. */
function options(select, items, keep = true) {
  const value = select.value
  const focusedHere = document.activeElement === select
  select.replaceChildren(...items.map(([v, label]) => h('option', { value: v }, label)))
  if (keep && items.some(([v]) => v === value)) select.value = value
  if (focusedHere) select.focus()
}

// ---------------------------------------------------------------------------------------------
// data

let refreshing = null
let refreshAgain = false
/** Reloads everything the page shows; concurrent calls coalesce into one more run. */
async function refresh() {
  if (refreshing) {
    refreshAgain = true
    return refreshing
  }
  refreshing = (async () => {
    do {
      refreshAgain = false
      const [info, faults, clock, counters] = await Promise.all([api('GET', '/info'), api('GET', '/faults'), api('GET', '/clock'), api('GET', '/counters')])
      ui.info = info
      ui.faults = faults.faults
      ui.clock = clock
      ui.clockAt = Date.now()
      ui.counters = counters
      if (ui.instance >= info.instances.length) ui.instance = 0
      const q = new URLSearchParams({ limit: '200' })
      if ($('filter-machine').value) q.set('machine', $('filter-machine').value)
      if ($('filter-revoked').checked) q.set('revoked', 'true')
      if ($('filter-expired').checked) q.set('expired', 'true')
      ui.tokens = await api('GET', `/instances/${ui.instance}/m2m_tokens?${q}`)
      render()
    } while (refreshAgain)
  })()
  try {
    await refreshing
  } finally {
    refreshing = null
  }
}

// ---------------------------------------------------------------------------------------------
// views

function render() {
  if (!ui.info) return
  renderHeader()
  renderInstance()
  renderMachines()
  renderTokens()
  renderLog()
  renderFaults()
}

function renderHeader() {
  $('api-url').textContent = ui.info.url
  const picker = $('instance-picker')
  picker.hidden = ui.info.instances.length < 2
  options($('instance-select'), ui.info.instances.map((i) => [String(i.index), `${i.index}: ${i.id}`]))
  $('instance-select').value = String(ui.instance)
  const file = ui.info.stateFile
  const el = $('state-file')
  el.textContent = file ? (file.error ? `State file: ${file.error}` : `State kept in ${file.path}`) : 'State not kept (start with --state FILE to keep it)'
  el.className = file?.error ? 'bad' : 'muted'
}

function renderInstance() {
  const inst = instance()
  if (!inst) return
  fill(
    $('instance-facts'),
    h('dt', {}, 'Instance ID'), h('dd', {}, h('code', {}, inst.id)),
    h('dt', {}, 'Secret key'), h('dd', {}, secret(`sk:${inst.id}`, inst.secretKey, 'instance secret key')),
    h('dt', {}, 'Publishable key'), h('dd', {}, secret(`pk:${inst.id}`, inst.publishableKey, 'publishable key')),
    h('dt', {}, 'JWKS'), h('dd', {}, h('code', {}, `${ui.info.url}/v1/jwks`), ' ', h('span', { class: 'muted' }, `(with the secret key) — kids: ${inst.keys.map((k) => k.kid).join(', ') || 'none'}`)),
    h('dt', {}, 'Issuer of JWTs'), h('dd', {}, h('code', {}, inst.issuer)),
  )
  const rows = inst.keys.map((k, i) =>
    h('tr', {},
      h('td', {}, h('code', {}, k.kid)),
      h('td', {}, i === inst.keys.length - 1 ? h('span', { class: 'ok' }, 'signs new tokens') : 'verifies only'),
      h('td', {}, h('details', {}, h('summary', {}, 'PEM'), h('pre', {}, k.publicKeyPem))),
      h('td', {}, h('button', {
        type: 'button', class: 'danger small', 'data-key': `retire:${k.kid}`, 'aria-label': `Retire key ${k.kid}`,
        onclick: () => confirm(`Retire key ${k.kid}? Tokens it signed stop verifying once clients refresh the JWKS.`) && act(`Retired ${k.kid}`, () => api('DELETE', `/instances/${ui.instance}/keys/${encodeURIComponent(k.kid)}`)),
      }, 'Retire')),
    ),
  )
  fill($('keys-table').tBodies[0], rows.length ? rows : h('tr', {}, h('td', { colspan: 4 }, 'No key: JWKS is empty and JWT minting fails.')))
  $('reject-inactive').checked = inst.rejectInactiveTokens
}

function renderMachines() {
  const list = machines()
  // The create form's scope checkboxes, keeping what was ticked.
  const box = $('machine-scopes')
  const ticked = new Set([...box.querySelectorAll('input:checked')].map((c) => c.value))
  fill(box, h('legend', {}, 'May send to'), list.length ? list.map((m) =>
    h('label', { class: 'check' }, h('input', { type: 'checkbox', value: m.id, checked: ticked.has(m.id), 'data-key': `newscope:${m.id}` }), m.name),
  ) : h('p', { class: 'muted' }, 'No machine yet.'))

  const now = emulatorNow()
  const rows = list.map((m) => {
    const others = list.filter((o) => o.id !== m.id && !m.scopedMachines.includes(o.id))
    const nameCell = ui.editing === m.id
      ? h('form', {
        class: 'inline-form',
        onsubmit: (e) => {
          e.preventDefault()
          const name = e.target.elements.name.value
          ui.editing = null
          act(`Renamed to ${name}`, () => api('PATCH', `/instances/${ui.instance}/machines/${m.id}`, { name }))
        },
      },
      h('label', { class: 'sr-only', for: `rename-${m.id}` }, `New name for ${m.name}`),
      h('input', { id: `rename-${m.id}`, name: 'name', value: m.name, required: true, maxlength: 255, 'data-key': `rename-input:${m.id}` }),
      h('button', { type: 'submit', class: 'small', 'data-key': `rename-save:${m.id}` }, 'Save'),
      h('button', { type: 'button', class: 'small', onclick: () => { ui.editing = null; render() } }, 'Cancel'))
      : h('span', {}, h('strong', {}, m.name), ' ', h('button', {
        type: 'button', class: 'small', 'aria-label': `Rename ${m.name}`, 'data-key': `rename:${m.id}`,
        onclick: () => {
          ui.editing = m.id
          render()
          $(`rename-${m.id}`)?.focus()
        },
      }, 'Rename'))
    const grace = m.previousSecretKeyExpiresAt && m.previousSecretKeyExpiresAt > now
      ? h('div', { class: 'warn' }, `previous key works until ${when(m.previousSecretKeyExpiresAt)}`) : null
    return h('tr', {},
      h('td', {}, nameCell),
      h('td', {}, h('code', {}, m.id), ' ', h('button', { type: 'button', class: 'small', 'aria-label': `Copy the id of ${m.name}`, 'data-key': `copyid:${m.id}`, onclick: () => copy(m.id, `the id of ${m.name}`) }, 'Copy')),
      h('td', {},
        secret(`mk:${m.id}`, m.secretKey, `secret key of ${m.name}`),
        grace,
        h('form', {
          class: 'inline-form',
          onsubmit: (e) => {
            e.preventDefault()
            const previousTokenTtl = Number(e.target.elements.grace.value || 0)
            act(`Rotated the secret key of ${m.name}`, () => api('POST', `/instances/${ui.instance}/machines/${m.id}/secret_key/rotate`, { previousTokenTtl }))
          },
        },
        h('label', { class: 'sr-only', for: `grace-${m.id}` }, `Seconds the old secret key of ${m.name} keeps working`),
        h('input', { id: `grace-${m.id}`, name: 'grace', type: 'number', min: 0, max: 28800, placeholder: 'grace s', 'data-key': `grace:${m.id}` }),
        h('button', { type: 'submit', class: 'small', 'aria-label': `Rotate the secret key of ${m.name}`, 'data-key': `rotate:${m.id}` }, 'Rotate'))),
      h('td', {},
        m.scopedMachines.length ? h('ul', { class: 'plain' }, m.scopedMachines.map((to) => h('li', {}, machineName(to), ' ', h('button', {
          type: 'button', class: 'small', 'aria-label': `Remove ${machineName(to)} from the machines ${m.name} may send to`, 'data-key': `unscope:${m.id}:${to}`,
          onclick: () => act(`${m.name} may no longer send to ${machineName(to)}`, () => api('DELETE', `/instances/${ui.instance}/machines/${m.id}/scopes/${to}`)),
        }, 'Remove')))) : h('span', { class: 'muted' }, 'nobody'),
        others.length ? h('form', {
          class: 'inline-form',
          onsubmit: (e) => {
            e.preventDefault()
            const to = e.target.elements.to.value
            act(`${m.name} may now send to ${machineName(to)}`, () => api('POST', `/instances/${ui.instance}/machines/${m.id}/scopes`, { to }))
          },
        },
        h('label', { class: 'sr-only', for: `scope-${m.id}` }, `Let ${m.name} send to`),
        h('select', { id: `scope-${m.id}`, name: 'to', 'data-key': `scope-select:${m.id}` }, others.map((o) => h('option', { value: o.id }, o.name))),
        h('button', { type: 'submit', class: 'small', 'aria-label': `Allow ${m.name} to send to the chosen machine`, 'data-key': `scope-add:${m.id}` }, 'Allow')) : null),
      h('td', {}, `${m.defaultTokenTtl} s`),
      h('td', {}, h('button', {
        type: 'button', class: 'danger small', 'aria-label': `Delete ${m.name}`, 'data-key': `delete:${m.id}`,
        onclick: () => confirm(`Delete machine ${m.name}? Its tokens stop verifying.`) && act(`Deleted ${m.name}`, () => api('DELETE', `/instances/${ui.instance}/machines/${m.id}`)),
      }, 'Delete')),
    )
  })
  fill($('machines-table').tBodies[0], rows.length ? rows : h('tr', {}, h('td', { colspan: 6 }, 'No machine.')))
  const byName = list.map((m) => [m.id, m.name])
  options($('mint-machine'), byName)
  options($('filter-machine'), [['', 'All machines'], ...byName])
}

function tokenStatus(t) {
  if (t.revoked) return h('span', { class: 'bad' }, `revoked${t.revocationReason ? ` (${t.revocationReason})` : ''}`)
  if (t.expired) return h('span', { class: 'bad' }, 'expired')
  return h('span', { class: 'ok' }, 'active')
}

function renderTokens() {
  const data = ui.tokens
  if (!data) return
  $('token-count').textContent = `${data.totalCount} token${data.totalCount === 1 ? '' : 's'}${data.totalCount > data.tokens.length ? ` (newest ${data.tokens.length} shown)` : ''}`
  const rows = data.tokens.map((t) =>
    h('tr', {},
      h('td', {}, h('code', {}, t.id)),
      h('td', {}, t.machineName ?? t.subject),
      h('td', {}, t.format === 'jwt' ? 'JWT' : 'opaque'),
      h('td', {}, t.scopeNames.map((n, i) => n ?? t.scopes[i]).join(', ') || h('span', { class: 'muted' }, 'nobody')),
      h('td', {}, when(t.createdAt)),
      h('td', {}, when(t.expiration)),
      h('td', {}, tokenStatus(t)),
      h('td', {}, t.token ? secret(`tok:${t.id}`, t.token, `token ${t.id}`) : '—'),
      h('td', {}, t.revoked ? '' : h('form', {
        class: 'inline-form',
        onsubmit: (e) => {
          e.preventDefault()
          const reason = e.target.elements.reason.value
          act(`Revoked ${t.id}`, () => api('POST', `/instances/${ui.instance}/m2m_tokens/${t.id}/revoke`, { reason }))
        },
      },
      h('label', { class: 'sr-only', for: `reason-${t.id}` }, `Reason for revoking ${t.id}`),
      h('input', { id: `reason-${t.id}`, name: 'reason', placeholder: 'reason', 'data-key': `reason:${t.id}` }),
      h('button', { type: 'submit', class: 'danger small', 'aria-label': `Revoke token ${t.id}`, 'data-key': `revoke:${t.id}` }, 'Revoke'))),
    ),
  )
  fill($('tokens-table').tBodies[0], rows.length ? rows : h('tr', {}, h('td', { colspan: 9 }, 'No token matches.')))
}

function logMatches(r) {
  const route = $('log-route').value
  const caller = $('log-machine').value
  const status = $('log-status').value
  const text = $('log-text').value.trim().toLowerCase()
  if (route && r.route !== route) return false
  if (caller && (caller === 'instance' || caller === 'unknown' || caller === 'none' ? (r.caller ?? 'none') !== caller : r.callerMachineId !== caller)) return false
  if (status === 'none' ? r.status != null : status && String(r.status ?? '').charAt(0) !== status) return false
  if (text && !r.path.toLowerCase().includes(text)) return false
  return true
}

function callerText(r) {
  if (r.caller === 'machine') return r.callerMachineName ?? r.callerMachineId
  if (r.caller === 'instance') return 'instance key'
  if (r.caller === 'unknown') return 'unknown key'
  return 'no key'
}

function renderLog() {
  options($('log-route'), [['', 'All routes'], ...Object.keys(ROUTES).map((r) => [r, r])])
  options($('log-machine'), [['', 'Anyone'], ...machines().map((m) => [m.id, m.name]), ['instance', 'instance key'], ['unknown', 'unknown key'], ['none', 'no key']])
  if ($('log-pause').checked) return
  const all = [...ui.log.values()].sort((a, b) => b.seq - a.seq)
  const shown = all.filter(logMatches)
  $('log-count').textContent = `${shown.length} of ${all.length} request${all.length === 1 ? '' : 's'}`
  const rows = shown.map((r) =>
    h('tr', { 'data-seq': r.seq, 'data-route': r.route ?? '' },
      h('td', {}, time(r.atMs)),
      h('td', {}, r.method),
      h('td', {}, h('code', {}, r.path)),
      h('td', {}, r.route ?? 'other'),
      h('td', { class: `status-${r.status == null ? 'none' : String(r.status).charAt(0)}` }, r.status ?? (r.latencyMs == null ? 'pending' : 'no response')),
      h('td', {}, callerText(r)),
      h('td', {}, r.latencyMs == null ? '' : `${r.latencyMs.toFixed(1)} ms`),
      h('td', {}, r.fault ?? ''),
    ),
  )
  fill($('log-table').tBodies[0], rows.length ? rows : h('tr', {}, h('td', { colspan: 8 }, 'No request yet: point a client at the API URL.')))
  const badge = $('log-badge')
  badge.hidden = ui.unseen === 0
  badge.textContent = ui.unseen ? String(ui.unseen) : ''
  badge.setAttribute('aria-label', `${ui.unseen} new`)
}

function describeFault(f) {
  const parts = [f.type]
  if (f.status != null) parts.push(`status ${f.status}`)
  if (f.retryAfter != null) parts.push(`Retry-After ${f.retryAfter}`)
  if (f.ms != null) parts.push(`${f.ms} ms`)
  if (f.bytes != null) parts.push(`${f.bytes} bytes`)
  if (f.chunkBytes != null) parts.push(`${f.chunkBytes} B every ${f.intervalMs ?? 50} ms`)
  if (f.afterBytes != null) parts.push(`after ${f.afterBytes} bytes`)
  if (f.location != null) parts.push(`to ${f.location}`)
  return parts.join(', ')
}

function renderFaults() {
  options($('fault-route'), Object.entries(ROUTES).map(([r, path]) => [r, `${r} (${path})`]))
  const rows = Object.entries(ui.faults).map(([route, f]) =>
    h('tr', {},
      h('td', {}, route),
      h('td', {}, describeFault(f)),
      h('td', {}, f.times == null ? 'until cleared' : `${f.times} request${f.times === 1 ? '' : 's'}`),
      h('td', {}, h('button', {
        type: 'button', class: 'small', 'aria-label': `Clear the fault of ${route}`, 'data-key': `clearfault:${route}`,
        onclick: () => act(`Cleared the fault of ${route}`, () => api('DELETE', `/faults/${route}`)),
      }, 'Clear')),
    ),
  )
  fill($('faults-table').tBodies[0], rows.length ? rows : h('tr', {}, h('td', { colspan: 4 }, 'No fault: every route answers normally.')))
  fill($('counters-table').tBodies[0], Object.entries(ui.counters).map(([route, n]) => h('tr', {}, h('td', {}, route), h('td', {}, String(n)))))
  renderClock()
}

function renderClock() {
  if (!ui.clock) return
  $('clock-now').textContent = when(emulatorNow())
  $('clock-offset').textContent = ui.clock.offsetMs === 0 ? 'none (the system clock)' : duration(ui.clock.offsetMs)
}

function showFaultParams() {
  const type = $('fault-type').value
  for (const field of $('fault-params').querySelectorAll('[data-for]')) field.hidden = !field.dataset.for.split(' ').includes(type)
  const status = { status: 503, non_json: 200, redirect: 302 }[type]
  if (status) $('fault-status').value = String(status)
}

// ---------------------------------------------------------------------------------------------
// navigation

function showView(view) {
  if (!VIEWS.includes(view)) view = 'instance'
  ui.view = view
  for (const v of VIEWS) $(`view-${v}`).hidden = v !== view
  for (const a of document.querySelectorAll('.tabs a')) {
    if (a.dataset.view === view) a.setAttribute('aria-current', 'page')
    else a.removeAttribute('aria-current')
  }
  if (view === 'log') {
    ui.unseen = 0
    renderLog()
  }
}

// ---------------------------------------------------------------------------------------------
// live events

let logFrame = 0
function scheduleLogRender() {
  if (logFrame) return
  logFrame = requestAnimationFrame(() => {
    logFrame = 0
    renderLog()
  })
}

let countersTimer = 0
function onRequest(summary) {
  const isNew = !ui.log.has(summary.seq)
  ui.log.set(summary.seq, summary)
  if (ui.log.size > LOG_ROWS) {
    const oldest = Math.min(...ui.log.keys())
    ui.log.delete(oldest)
  }
  if (isNew && ui.view !== 'log') ui.unseen++
  scheduleLogRender()
  if (!countersTimer) {
    countersTimer = setTimeout(async () => {
      countersTimer = 0
      try {
        ui.counters = await api('GET', '/counters')
        if (ui.view === 'faults') fill($('counters-table').tBodies[0], Object.entries(ui.counters).map(([route, n]) => h('tr', {}, h('td', {}, route), h('td', {}, String(n)))))
      } catch {
        // The next refresh shows them.
      }
    }, 1000)
  }
}

function connect() {
  const events = new EventSource('/__emulator/events')
  const live = $('live')
  events.addEventListener('open', () => {
    live.textContent = 'live'
    live.className = 'pill live'
    refresh().catch(() => {})
  })
  events.addEventListener('error', () => {
    live.textContent = 'disconnected: retrying'
    live.className = 'pill down'
  })
  events.addEventListener('request', (e) => onRequest(JSON.parse(e.data)))
  events.addEventListener('changed', () => refresh().catch(() => {}))
  events.addEventListener('lagged', (e) => say(`The live log skipped ${e.data} requests (too many at once).`))
}

// ---------------------------------------------------------------------------------------------
// forms

function wire() {
  for (const h2 of document.querySelectorAll('.view h2')) h2.setAttribute('tabindex', '-1')
  window.addEventListener('hashchange', () => {
    showView(location.hash.slice(1))
    $(`h-${ui.view}`)?.focus()
  })
  document.querySelector('[data-copy-from="api-url"]').addEventListener('click', () => copy(ui.info?.url ?? '', 'the API URL'))
  $('instance-select').addEventListener('change', (e) => {
    ui.instance = Number(e.target.value)
    refresh().catch((err) => say(err.message, true))
  })

  $('rotate-form').addEventListener('submit', (e) => {
    e.preventDefault()
    const retirePrevious = $('rotate-retire').checked
    act(retirePrevious ? 'New signing key; the previous keys are retired' : 'New signing key; the previous keys still verify', () => api('POST', `/instances/${ui.instance}/keys`, { retirePrevious }))
  })
  $('reject-inactive').addEventListener('change', (e) => act('Setting saved', () => api('PUT', `/instances/${ui.instance}/settings`, { rejectInactiveTokens: e.target.checked })))

  $('machine-form').addEventListener('submit', async (e) => {
    e.preventDefault()
    const name = $('machine-name').value.trim()
    const ttl = $('machine-ttl').value
    const scopedTo = [...$('machine-scopes').querySelectorAll('input:checked')].map((c) => machineName(c.value))
    const created = await act(`Created ${name}`, () => api('POST', `/instances/${ui.instance}/machines`, { name, scopedTo, defaultTokenTtl: ttl ? Number(ttl) : undefined }))
    if (created) {
      $('machine-name').value = ''
      for (const c of $('machine-scopes').querySelectorAll('input:checked')) c.checked = false
    }
  })

  $('mint-form').addEventListener('submit', async (e) => {
    e.preventDefault()
    const format = document.querySelector('input[name="mint-format"]:checked').value
    const ttl = $('mint-ttl').value
    let claims
    const text = $('mint-claims').value.trim()
    if (text) {
      try {
        claims = JSON.parse(text)
      } catch {
        say('Custom claims must be a JSON object.', true)
        return
      }
      if (!claims || typeof claims !== 'object' || Array.isArray(claims)) {
        say('Custom claims must be a JSON object.', true)
        return
      }
    }
    const machine = $('mint-machine').value
    const t = await act('Token minted', () => api('POST', `/instances/${ui.instance}/m2m_tokens`, { machine, format, secondsUntilExpiration: ttl ? Number(ttl) : null, claims }))
    if (!t) return
    ui.revealed.add(`minted:${t.id}`)
    const out = $('minted')
    out.hidden = false
    const key = `minted:${t.id}`
    out.replaceChildren(
      h('p', {}, `New ${t.format === 'jwt' ? 'JWT' : 'opaque'} token `, h('code', {}, t.id), ` for ${t.machineName}, `, t.expiration ? `expires ${when(t.expiration)}` : 'never expires', ':'),
      h('code', { id: 'minted-token', 'data-secret': key, class: 'mono' }, t.token),
      ' ',
      h('button', { type: 'button', class: 'small', 'aria-label': 'Copy the new token', onclick: () => copy(t.token, 'the new token') }, 'Copy'),
      ' ',
      h('button', { type: 'button', class: 'small', 'aria-label': 'Inspect the new token', onclick: () => { $('inspect-input').value = t.token; $('inspect-form').requestSubmit() } }, 'Inspect'),
    )
  })

  $('inspect-form').addEventListener('submit', async (e) => {
    e.preventDefault()
    const out = $('inspect-result')
    try {
      const r = await api('POST', `/instances/${ui.instance}/inspect`, { token: $('inspect-input').value })
      const verdict = r.verifies
        ? h('p', { class: 'verdict ok' }, '✓ Verifies against this instance')
        : h('p', { class: 'verdict bad' }, `✗ Does not verify${r.reason ? ` (${r.reason})` : ''}`)
      fill(
        out,
        verdict,
        h('p', {}, r.message),
        h('p', { class: 'muted' }, `Kind: ${r.kind}`),
        r.decoded ? [h('h4', {}, 'Header'), h('pre', {}, JSON.stringify(r.decoded.header, null, 2)), h('h4', {}, 'Payload'), h('pre', {}, JSON.stringify(r.decoded.payload, null, 2))] : null,
        r.token ? [h('h4', {}, 'What POST /m2m_tokens/verify answers'), h('pre', {}, JSON.stringify(r.token, null, 2))] : null,
      )
    } catch (err) {
      fill(out, h('p', { class: 'bad' }, err.message))
    }
  })

  for (const id of ['filter-machine', 'filter-revoked', 'filter-expired']) $(id).addEventListener('change', () => refresh().catch((err) => say(err.message, true)))
  for (const id of ['log-route', 'log-machine', 'log-status', 'log-pause']) $(id).addEventListener('change', () => renderLog())
  $('log-text').addEventListener('input', () => renderLog())
  $('log-clear').addEventListener('click', () =>
    act('Log cleared', async () => {
      await api('DELETE', '/requests')
      ui.log.clear()
      ui.unseen = 0
    }),
  )

  $('fault-type').addEventListener('change', showFaultParams)
  showFaultParams()
  $('fault-form').addEventListener('submit', (e) => {
    e.preventDefault()
    const type = $('fault-type').value
    const route = $('fault-route').value
    const num = (id) => ($(id).value === '' ? undefined : Number($(id).value))
    const fault = { type }
    if (type === 'status') Object.assign(fault, { status: num('fault-status'), retryAfter: num('fault-retry') })
    if (type === 'non_json' || type === 'redirect') fault.status = num('fault-status')
    if (type === 'redirect') fault.location = $('fault-location').value
    if (type === 'delay') fault.ms = num('fault-ms')
    if (type === 'oversized') fault.bytes = num('fault-bytes')
    if (type === 'slow_drip') Object.assign(fault, { chunkBytes: num('fault-chunk'), intervalMs: num('fault-interval') })
    if (type === 'reset') fault.afterBytes = num('fault-after')
    const times = num('fault-times')
    if (times !== undefined) fault.times = times
    act(`${route} now fails: ${describeFault(fault)}`, () => api('PUT', `/faults/${route}`, fault))
  })
  $('faults-clear').addEventListener('click', () => act('All faults cleared', () => api('DELETE', '/faults')))
  $('counters-reset').addEventListener('click', () => act('Counters reset', () => api('DELETE', '/counters')))

  $('clock-form').addEventListener('submit', (e) => {
    e.preventDefault()
    act('Clock set', () => api('PUT', '/clock', { offsetMs: Math.round(Number($('clock-set').value || 0) * 1000) }))
  })
  for (const b of document.querySelectorAll('[data-advance]')) b.addEventListener('click', () => act('Clock moved', () => api('PUT', '/clock', { advanceMs: Number(b.dataset.advance) })))
  $('clock-reset').addEventListener('click', () => act('Clock reset to the system clock', () => api('PUT', '/clock', { offsetMs: 0 })))
  setInterval(renderClock, 1000)
}

wire()
showView(location.hash.slice(1))
refresh().catch((e) => say(e.message, true))
connect()
