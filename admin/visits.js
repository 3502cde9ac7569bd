// The visitors page: a 30-day chart of page views and distinct visitors drawn
// as inline SVG, today's numbers and the top pages.

import { el, replaceChildren, svg } from '../widget/dom.js';
import * as api from './api.js';

const DAYS = 30;
// Chart padding in SVG user units. The chart is drawn at its container's
// width (1 unit = 1 CSS pixel) so its text keeps its size on a phone.
const PAD = { top: 16, right: 12, bottom: 28, left: 44 };

const dayFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
const longDayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short', month: 'short', day: 'numeric', timeZone: 'UTC' });
const numberFmt = new Intl.NumberFormat();

/**
 * Formats a count compactly: 999, 1.2k, 34k, 1.5M.
 * @param {number} n
 * @returns {string}
 */
function compactNumber(n) {
  return new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 }).format(n);
}

/**
 * A round upper bound for the y axis and its step: 0–4 → 4, 0–130 → 150 …
 * @param {number} max
 * @returns {{top: number, step: number}}
 */
export function niceScale(max) {
  if (max <= 4) return { top: 4, step: 1 };
  const rough = max / 4;
  const mag = 10 ** Math.floor(Math.log10(rough));
  const norm = rough / mag;
  const step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10) * mag;
  return { top: Math.ceil(max / step) * step, step };
}

export class Visits {
  /** @param {{root: HTMLElement}} ui */
  constructor(ui) {
    this.ui = ui;
    this.loading = false;
    this.gen = 0;
    this.days = [];
    this.chartWidth = 0;
    this.host = el('div', { class: 'chart-host' });
    // Redraw in the next frame: drawing inside the observer would loop.
    this.resize = new ResizeObserver(() => requestAnimationFrame(() => this.drawChart()));
    this.resize.observe(this.host);
  }

  clear() {
    this.gen++;
    this.days = [];
    replaceChildren(this.ui.root);
  }

  /** Draws the chart for the host's width, when the width changed. */
  drawChart(force = false) {
    const width = Math.round(this.host.clientWidth);
    if (width === 0 || (!force && Math.abs(width - this.chartWidth) < 8)) return;
    this.chartWidth = width;
    replaceChildren(this.host, chart(this.days, width));
  }

  /** Fetches the report and draws the page. */
  async load() {
    if (this.loading) return;
    const gen = ++this.gen;
    this.loading = true;
    if (!this.ui.root.firstChild) replaceChildren(this.ui.root, el('div', { class: 'spinner', 'aria-label': 'Loading' }));
    try {
      const report = await api.visits(DAYS);
      if (gen === this.gen) this.render(report);
    } catch (err) {
      if (gen !== this.gen || api.isUnauthorized(err)) return;
      replaceChildren(this.ui.root, el('div', { class: 'empty' },
        el('p', { class: 'empty-title', text: 'Could not load visits' }),
        el('p', { class: 'empty-text', text: api.describeError(err) }),
        el('button', { class: 'btn', type: 'button', text: 'Try again', onclick: () => this.load() })));
    } finally {
      this.loading = false;
    }
  }

  /** @param {{days: {date: string, views: number, visitors: number}[], total: number, topPages: {path: string, views: number}[]}} report */
  render(report) {
    const days = report.days || [];
    const today = days[days.length - 1] || { views: 0, visitors: 0 };
    const sumViews = days.reduce((s, d) => s + d.views, 0);
    const peak = days.reduce((p, d) => (d.views > p.views ? d : p), { views: 0, date: '' });
    const stat = (label, value, hint) => el('div', { class: 'stat' },
      el('p', { class: 'stat-label', text: label }),
      el('p', { class: 'stat-value', text: numberFmt.format(value) }),
      hint ? el('p', { class: 'stat-hint', text: hint }) : null);

    replaceChildren(this.ui.root,
      el('div', { class: 'page-head' },
        el('div', {},
          el('h1', { text: 'Visitors' }),
          el('p', { class: 'muted', text: `Page views and distinct visitors over the last ${days.length} days (UTC).` })),
        el('button', { class: 'btn', type: 'button', text: 'Refresh', onclick: () => this.load() })),
      el('section', { class: 'stats', 'aria-label': 'Today' },
        stat('Views today', today.views, ''),
        stat('Visitors today', today.visitors, ''),
        stat(`Views, ${days.length} days`, sumViews, peak.date ? `Peak ${numberFmt.format(peak.views)} on ${dayFmt.format(new Date(peak.date))}` : ''),
        stat('All-time views', report.total || 0, '')),
      el('section', { class: 'card chart-card', 'aria-label': 'Views and visitors per day' },
        el('div', { class: 'card-head' },
          el('h2', { text: 'Daily traffic' }),
          el('div', { class: 'legend' },
            el('span', { class: 'legend-item' }, el('i', { class: 'swatch swatch-views' }), 'Views'),
            el('span', { class: 'legend-item' }, el('i', { class: 'swatch swatch-visitors' }), 'Visitors'))),
        sumViews === 0 && days.every((d) => d.visitors === 0)
          ? el('p', { class: 'chart-empty', text: 'No visits recorded yet. Add the counter snippet to your site, or open the demo page.' })
          : null,
        this.host),
      el('section', { class: 'card', 'aria-label': 'Top pages' },
        el('div', { class: 'card-head' }, el('h2', { text: 'Top pages' }), el('span', { class: 'muted', text: `last ${days.length} days` })),
        topPages(report.topPages || [])));
    this.days = days;
    this.drawChart(true);
  }
}

/**
 * The chart: one bar per day for views, a line with dots for visitors.
 * @param {{date: string, views: number, visitors: number}[]} days
 * @param {number} W the width to draw at
 * @returns {SVGElement}
 */
function chart(days, W) {
  const H = Math.round(Math.min(280, Math.max(200, W * 0.34)));
  const n = Math.max(days.length, 1);
  const max = days.reduce((m, d) => Math.max(m, d.views, d.visitors), 0);
  const { top, step } = niceScale(max);
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const slot = iw / n;
  const barW = Math.max(2, slot * 0.62);
  const x = (i) => PAD.left + slot * i + slot / 2;
  const y = (v) => PAD.top + ih - (v / top) * ih;

  const grid = svg('g', { class: 'grid' });
  for (let v = 0; v <= top + 1e-9; v += step) {
    grid.append(
      svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v) }),
      svg('text', { x: PAD.left - 8, y: y(v), class: 'axis-y', 'dominant-baseline': 'middle', 'text-anchor': 'end', text: compactNumber(v) }));
  }

  const bars = svg('g', { class: 'bars' });
  const labels = svg('g', { class: 'axis-x' });
  days.forEach((d, i) => {
    const h = Math.max(0, y(0) - y(d.views));
    const g = svg('g', { class: 'day' + (i === n - 1 ? ' today' : ''), 'data-date': d.date },
      svg('title', { text: `${longDayFmt.format(new Date(d.date))}: ${numberFmt.format(d.views)} views, ${numberFmt.format(d.visitors)} visitors` }),
      svg('rect', { class: 'hit', x: PAD.left + slot * i, y: PAD.top, width: slot, height: ih }),
      svg('rect', { class: 'bar', x: x(i) - barW / 2, y: y(0) - h, width: barW, height: h, rx: Math.min(3, barW / 3) }));
    bars.append(g);
    // A label every week, counted back from today so today always has one.
    if ((n - 1 - i) % 7 === 0) {
      labels.append(svg('text', {
        x: x(i), y: H - 8, 'text-anchor': i === n - 1 ? 'end' : 'middle',
        text: i === n - 1 ? 'Today' : dayFmt.format(new Date(d.date)),
      }));
    }
  });

  const points = days.map((d, i) => `${x(i).toFixed(1)},${y(d.visitors).toFixed(1)}`).join(' ');
  const line = svg('g', { class: 'visitors' },
    svg('polyline', { points }),
    days.map((d, i) => svg('circle', { cx: x(i), cy: y(d.visitors), r: 2.5 })));

  return svg('svg', {
    class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'data-days': String(days.length),
    'aria-label': `Views and visitors per day, last ${days.length} days`,
  }, grid, bars, line, labels, svg('line', { class: 'baseline', x1: PAD.left, x2: W - PAD.right, y1: y(0), y2: y(0) }));
}

/**
 * @param {{path: string, views: number}[]} pages
 * @returns {HTMLElement}
 */
function topPages(pages) {
  if (pages.length === 0) return el('p', { class: 'muted pad', text: 'No page views yet.' });
  const max = pages[0].views || 1;
  return el('ol', { class: 'top-pages' }, pages.map((p) => {
    const fill = el('span', { class: 'fill' });
    // CSSOM, not a style attribute: allowed by the CSP.
    fill.style.setProperty('--w', `${Math.max(1, (p.views / max) * 100).toFixed(1)}%`);
    return el('li', {},
      fill,
      el('span', { class: 'path', title: p.path, text: p.path }),
      el('span', { class: 'views', text: numberFmt.format(p.views) }));
  }));
}
