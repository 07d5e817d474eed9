// Line charts drawn as SVG by our own code: a few series over the same time axis, each with
// its own dash pattern (readable without colour), marks drawn as labelled vertical lines.
import { clock } from './format.js';

const NS = 'http://www.w3.org/2000/svg';
/** Dash patterns by series index: solid, dashed, dotted, dash-dot, then again. */
export const DASHES = ['', '7 4', '2 3', '9 3 2 3', '14 4', '4 2 4 6'];
/** One letter per kind of mark, so the axis reads without colour; the legend explains them. */
export const MARK_SYMBOLS = { reload: 'R', 'reload-done': '✓', 'reload-failed': '!', scale: 'S', restart: '✕', hang: 'H', memory: 'M' };
const PAD = { left: 48, right: 10, top: 10, bottom: 22 };
const HEIGHT = 170;

function el(name, attrs, parent) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (parent) parent.appendChild(e);
  return e;
}

/** Round tick values: 1, 2 or 5 times a power of ten, about `n` of them. */
function ticks(max, n) {
  if (max <= 0) return [0];
  const raw = max / n;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? raw;
  const out = [];
  for (let v = 0; v <= max + step / 2; v += step) out.push(v);
  return out;
}

/**
 * Draws `series` ({ name, points: [[t, v|null]...] }) into `svg` between t0 and t1,
 * with `marks` ({ t, kind, text }) on the time axis; `fmt` formats the y axis.
 */
export function drawChart(svg, { series, marks, t0, t1, fmt }) {
  const width = Math.max(240, Math.round(svg.getBoundingClientRect().width) || 600);
  svg.setAttribute('viewBox', `0 0 ${width} ${HEIGHT}`);
  svg.replaceChildren();
  const w = width - PAD.left - PAD.right;
  const h = HEIGHT - PAD.top - PAD.bottom;
  let max = 0;
  for (const s of series) for (const [, v] of s.points) if (v !== null && v > max) max = v;
  const ys = ticks(max * 1.05, 4);
  const top = ys.at(-1) || 1;
  const x = (t) => PAD.left + ((t - t0) / Math.max(1, t1 - t0)) * w;
  const y = (v) => PAD.top + h - (v / top) * h;
  const grid = el('g', { class: 'grid' }, svg);
  for (const v of ys) {
    el('line', { x1: PAD.left, x2: PAD.left + w, y1: y(v), y2: y(v) }, grid);
    el('text', { x: PAD.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, grid).textContent = fmt(v);
  }
  const span = t1 - t0;
  const step = [15e3, 30e3, 60e3, 120e3, 300e3, 600e3].find((s) => span / s <= Math.max(2, Math.floor(w / 90))) ?? 600e3;
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
    // A label near the right edge ends there rather than being cut off.
    const near = x(t) > width - PAD.right - 24;
    el('text', { x: near ? width - PAD.right : x(t), y: HEIGHT - 6, 'text-anchor': near ? 'end' : 'middle' }, grid).textContent = clock(t);
  }
  const marksG = el('g', { class: 'marks' }, svg);
  for (const m of marks) {
    if (m.t < t0 || m.t > t1) continue;
    const g = el('g', { class: `mark mark-${m.kind}` }, marksG);
    el('line', { x1: x(m.t), x2: x(m.t), y1: PAD.top, y2: PAD.top + h }, g);
    el('text', { x: x(m.t) + 2, y: PAD.top + 9 }, g).textContent = MARK_SYMBOLS[m.kind] ?? '•';
    el('title', {}, g).textContent = `${clock(m.t)} ${m.text}`;
  }
  series.forEach((s, i) => {
    let d = '';
    let n = 0;
    let pen = false;
    for (const [t, v] of s.points) {
      if (v === null || t < t0) { pen = false; continue; }
      d += `${pen ? 'L' : 'M'}${x(t).toFixed(1)} ${y(v).toFixed(1)}`;
      pen = true;
      n++;
    }
    el('path', { d, class: `line s${i % 8}`, 'stroke-dasharray': DASHES[i % DASHES.length], 'data-series': s.name, 'data-n': n }, svg);
  });
}

/** The legend under a chart: each series' name beside a sample of its line. */
export function drawLegend(ul, names) {
  ul.replaceChildren(...names.map((name, i) => {
    const li = document.createElement('li');
    const svg = el('svg', { width: 28, height: 10, 'aria-hidden': 'true' });
    el('line', { x1: 0, x2: 28, y1: 5, y2: 5, class: `line s${i % 8}`, 'stroke-dasharray': DASHES[i % DASHES.length] }, svg);
    li.append(svg, ` ${name}`);
    return li;
  }));
}
