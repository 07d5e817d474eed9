// The dashboard's page: one EventSource on /events (history first, then a sample per
// interval and marks as they happen), drawn into the table, the facts and the charts.
// Every text goes in through textContent: nothing from the server is parsed as HTML.
import { drawChart, drawLegend } from './chart.js';
import * as f from './format.js';

const $ = (sel) => document.querySelector(sel);
/** Each state as a word and a symbol, so it reads without colour. */
const STATES = { ready: '● ready', starting: '◐ starting', draining: '↓ draining', exited: '○ exited', restarting: '↻ restarting', failed: '✕ failed', hung: '⚠ hung' };
const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'];
/** How many events the list under the charts keeps. */
const EVENTS_SHOWN = 30;

const view = { intervalMs: 1000, historyMs: 300_000, points: [], marks: [], state: null, actions: false };

function dl(target, pairs) {
  // Each pair in its own div (allowed in a dl), so a line wraps between pairs, never inside one.
  target.replaceChildren(...pairs.map(([k, v]) => {
    const div = document.createElement('div');
    const dt = document.createElement('dt');
    const dd = document.createElement('dd');
    dt.textContent = k;
    dd.textContent = v;
    div.append(dt, dd);
    return div;
  }));
}

function cells(tr, values, labels) {
  while (tr.cells.length > values.length) tr.deleteCell(-1);
  values.forEach((v, i) => {
    const td = tr.cells[i] ?? tr.insertCell();
    if (td.textContent !== v) td.textContent = v;
    td.dataset.label = labels[i];
  });
}

function header(s) {
  const p = s.primary;
  $('#name').textContent = p.name;
  document.title = `${p.name}: shoal`;
  const ready = s.workers.filter((w) => w.state === 'ready' && w.hungMs === undefined).length;
  dl($('#facts'), [
    ['workers', `${ready}/${s.workers.length} ready`],
    ['balancer', p.balancer],
    ['accept', p.accept + (p.acceptFallback ? ` (${p.acceptFallback})` : '')],
    ['port', p.port === null ? '–' : String(p.port)],
    ['uptime', f.duration(p.uptimeMs)],
    ['primary pid', String(p.pid)],
    ['version', view.version ?? '–'],
    ['queued', f.count(p.queued)],
    ...(p.operation ? [['running', p.operation.replace(/^a /, '')]] : []),
    ...(p.stopping ? [['state', 'stopping']] : []),
  ]);
}

function workers(s, point) {
  const labels = [...$('#workers thead tr').cells].map((c) => c.textContent);
  const tbody = $('#workers tbody');
  const bySlot = new Map((point?.w ?? []).map((w) => [w.slot, w]));
  const rows = new Map([...tbody.rows].map((r) => [r.dataset.slot, r]));
  s.workers.forEach((w, i) => {
    let tr = rows.get(String(w.slot));
    rows.delete(String(w.slot));
    if (!tr) tr = document.createElement('tr');
    if (tbody.rows[i] !== tr) tbody.insertBefore(tr, tbody.rows[i] ?? null);
    const state = w.hungMs !== undefined ? 'hung' : w.state;
    tr.dataset.slot = String(w.slot);
    tr.dataset.id = String(w.id ?? '');
    tr.dataset.pid = String(w.pid ?? '');
    tr.dataset.state = state;
    const q = bySlot.get(w.slot);
    cells(tr, [
      String(w.slot), w.id === null ? '–' : String(w.id), w.pid === null ? '–' : String(w.pid),
      (STATES[state] ?? state) + (w.hungMs !== undefined ? ` ${f.duration(w.hungMs)}` : ''), w.id === null ? '–' : f.duration(w.uptimeMs), String(w.restarts),
      f.count(w.connections), f.count(w.inflight), f.count(w.rps), f.latency(q?.p50), f.latency(q?.p99), f.percent(w.elu), f.bytes(w.rssBytes),
    ], labels);
    tr.title = w.error ?? '';
  });
  for (const r of rows.values()) r.remove();
}

function sessions(s) {
  const p = s.primary.sessions;
  const lags = s.workers.map((w) => w.sessions?.lagP99).filter((v) => typeof v === 'number');
  dl($('#sessions'), [
    ['sessions', f.count(p.sessions)],
    ['data', f.bytes(p.bytes)],
    ['replication lag p99', lags.length ? f.latency(Math.max(...lags)) : '–'],
    ['expired', f.count(p.expired)],
    ['evicted', f.count(p.evicted)],
  ]);
}

function redis(s) {
  const r = s.primary.redis;
  $('#redis-section').hidden = !r;
  if (!r) return;
  dl($('#redis'), [
    ['link', r.status === 'ready' ? '● up' : `✕ ${r.status}`],
    ['url', r.url], ['mode', r.mode], ['this host', r.host], ['queued changes', f.count(r.queued)],
  ]);
  const labels = [...$('#hosts thead tr').cells].map((c) => c.textContent);
  const tbody = $('#hosts tbody');
  if (!s.hosts) return;
  tbody.replaceChildren(...s.hosts.map((h) => {
    const tr = document.createElement('tr');
    cells(tr, [`${h.host}${h.self ? ' (this one)' : ''}`, String(h.hostname ?? ''), String(h.pid ?? ''), `${h.ready ?? '?'}/${h.workers ?? '?'}`,
      f.count(h.rps), f.count(h.connections), f.count(h.sessions), `${f.duration(Date.now() - h.seenAt)} ago`], labels);
    return tr;
  }));
}

function charts() {
  const now = view.points.at(-1)?.t ?? Date.now();
  const t0 = now - view.historyMs;
  const slots = [...new Set(view.points.flatMap((p) => p.w.map((w) => w.slot)))].sort((a, b) => a - b);
  const perWorker = (key) => slots.map((slot) => ({
    name: `worker ${slot}`,
    points: view.points.map((p) => [p.t, p.w.find((w) => w.slot === slot)?.[key] ?? null]),
  }));
  const draw = (name, series, fmt) => {
    drawChart($(`svg[data-chart="${name}"]`), { series, marks: view.marks, t0, t1: now, fmt });
    drawLegend($(`ul[data-legend="${name}"]`), series.map((s) => s.name));
  };
  draw('rps', perWorker('rps'), f.count);
  draw('latency', ['p50', 'p99'].map((k) => ({ name: k, points: view.points.map((p) => [p.t, p[k]]) })), f.latency);
  draw('codes', CLASSES.map((c, i) => ({ name: c, points: view.points.map((p) => [p.t, p.codes[i] ?? 0]) })).filter((s, i) => i !== 0 || s.points.some(([, v]) => v > 0)), f.count);
  draw('conns', perWorker('conns'), f.count);
}

function eventList() {
  const ol = $('#events');
  const shown = view.marks.slice(-EVENTS_SHOWN).reverse();
  ol.replaceChildren(...shown.map((m) => {
    const li = document.createElement('li');
    li.dataset.kind = m.kind;
    li.textContent = `${f.clock(m.t)} ${m.text}`;
    return li;
  }));
  if (shown.length === 0) ol.replaceChildren(Object.assign(document.createElement('li'), { textContent: 'none in the last minutes' }));
}

function render(point) {
  if (!view.state) return;
  header(view.state);
  workers(view.state, point ?? view.points.at(-1));
  sessions(view.state);
  redis(view.state);
  charts();
  eventList();
}

function trim() {
  const since = (view.points.at(-1)?.t ?? Date.now()) - view.historyMs;
  while (view.points.length && view.points[0].t < since) view.points.shift();
  while (view.marks.length && view.marks[0].t < since) view.marks.shift();
}

async function act(path, body, what) {
  const out = $('#action-result');
  if (!window.confirm(`${what}?`)) return;
  out.textContent = `${what}…`;
  for (const b of document.querySelectorAll('#actions button')) b.disabled = true;
  try {
    const r = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-shoal-action': '1' }, body: JSON.stringify(body), credentials: 'same-origin' });
    const j = await r.json().catch(() => ({ ok: false, error: `HTTP ${r.status}` }));
    out.textContent = j.ok ? `${what}: done${j.replaced !== undefined ? `, ${j.replaced} replaced in ${f.duration(j.ms)}` : ''}${j.to !== undefined ? `, ${j.from} → ${j.to} workers` : ''}${j.warning ? ` (${j.warning})` : ''}`
      : `${what}: refused: ${j.error}`;
    out.dataset.ok = String(Boolean(j.ok));
  } catch (e) {
    out.textContent = `${what}: ${e.message}`;
    out.dataset.ok = 'false';
  } finally {
    for (const b of document.querySelectorAll('#actions button')) b.disabled = false;
  }
}

function connect() {
  const es = new EventSource('/events');
  const live = $('#live');
  es.addEventListener('open', () => { live.textContent = '● live'; live.dataset.up = 'true'; });
  es.addEventListener('error', () => {
    // CLOSED: the server refused the stream (signed out, too many pages); the browser will not retry.
    live.textContent = es.readyState === EventSource.CLOSED ? '✕ disconnected: reload the page' : '✕ reconnecting…';
    live.dataset.up = 'false';
  });
  es.addEventListener('info', (e) => {
    const info = JSON.parse(e.data);
    view.version = info.version;
    view.actions = info.actions;
    $('#actions').hidden = !info.actions;
  });
  es.addEventListener('history', (e) => {
    const h = JSON.parse(e.data);
    Object.assign(view, { intervalMs: h.intervalMs, historyMs: h.historyMs, points: h.points, marks: h.marks });
    render();
  });
  es.addEventListener('mark', (e) => { view.marks.push(JSON.parse(e.data)); });
  es.addEventListener('sample', (e) => {
    const { state, point } = JSON.parse(e.data);
    view.state = state;
    if (view.points.at(-1)?.t !== point.t) view.points.push(point);
    trim();
    render(point);
    const input = $('#scale-to');
    if (!input.value) input.value = String(state.workers.length);
  });
}

$('#reload').addEventListener('click', () => act('/actions/reload', {}, 'Reload every worker'));
$('#scale').addEventListener('click', () => {
  const to = $('#scale-to').value.trim();
  act('/actions/scale', { to }, `Scale to ${to} workers`);
});
window.addEventListener('resize', () => charts());
connect();
