// Small DOM, time and text helpers shared by the console's modules.
// Nothing here touches the network or the application state.

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * Builds an element. Text goes in through textContent only; there is no way
 * to pass HTML. Props: class, text, dataset, hidden, on<Event> listeners,
 * anything else becomes an attribute (never "style": the CSP forbids it).
 * @param {string} tag
 * @param {Object<string, any>} [props]
 * @param {...(Node|string|null|undefined|false)} children
 * @returns {HTMLElement}
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  applyProps(node, props);
  append(node, children);
  return node;
}

/**
 * Builds an SVG element with createElementNS.
 * @param {string} tag
 * @param {Object<string, any>} [props]
 * @param {...(Node|string|null|undefined|false)} children
 * @returns {SVGElement}
 */
export function svg(tag, props = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  applyProps(node, props);
  append(node, children);
  return node;
}

function applyProps(node, props) {
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.setAttribute('class', value);
    else if (key === 'text') node.textContent = String(value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') {
      node.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === 'style') throw new Error('el: inline style is not allowed');
    else node.setAttribute(key, value === true ? '' : String(value));
  }
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}

/**
 * Replaces every child of node.
 * @param {Element} node
 * @param {...(Node|string|null|undefined|false)} children
 */
export function replaceChildren(node, ...children) {
  node.replaceChildren();
  append(node, children);
}

// Feather-style icons (24×24, stroked), built as SVG nodes.
const ICONS = {
  send: [['path', { d: 'M22 2 11 13' }], ['path', { d: 'M22 2 15 22l-4-9-9-4z' }]],
  back: [['path', { d: 'M19 12H5' }], ['path', { d: 'm12 19-7-7 7-7' }]],
  trash: [['path', { d: 'M3 6h18' }], ['path', { d: 'M19 6v14a2 2 0 0 1-2 2H7a2 2 0 0 1-2-2V6m3 0V4a2 2 0 0 1 2-2h4a2 2 0 0 1 2 2v2' }]],
  block: [['circle', { cx: 12, cy: 12, r: 10 }], ['path', { d: 'm4.9 4.9 14.2 14.2' }]],
  copy: [['rect', { x: 9, y: 9, width: 13, height: 13, rx: 2 }], ['path', { d: 'M5 15H4a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2h9a2 2 0 0 1 2 2v1' }]],
  download: [['path', { d: 'M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4' }], ['path', { d: 'm7 10 5 5 5-5' }], ['path', { d: 'M12 15V3' }]],
  bell: [['path', { d: 'M18 8A6 6 0 0 0 6 8c0 7-3 9-3 9h18s-3-2-3-9' }], ['path', { d: 'M13.7 21a2 2 0 0 1-3.4 0' }]],
  bellOff: [['path', { d: 'M13.7 21a2 2 0 0 1-3.4 0' }], ['path', { d: 'M18.6 13A17.9 17.9 0 0 1 18 8' }], ['path', { d: 'M6.3 6.3A6 6 0 0 0 6 8c0 7-3 9-3 9h14' }], ['path', { d: 'M18 8a6 6 0 0 0-9.3-5' }], ['path', { d: 'm1 1 22 22' }]],
  info: [['circle', { cx: 12, cy: 12, r: 10 }], ['path', { d: 'M12 16v-4' }], ['path', { d: 'M12 8h.01' }]],
  logout: [['path', { d: 'M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4' }], ['path', { d: 'm16 17 5-5-5-5' }], ['path', { d: 'M21 12H9' }]],
  search: [['circle', { cx: 11, cy: 11, r: 8 }], ['path', { d: 'm21 21-4.3-4.3' }]],
  chat: [['path', { d: 'M21 11.5a8.4 8.4 0 0 1-.9 3.8 8.5 8.5 0 0 1-7.6 4.7 8.4 8.4 0 0 1-3.8-.9L3 21l1.9-5.7a8.4 8.4 0 0 1-.9-3.8 8.5 8.5 0 0 1 4.7-7.6 8.4 8.4 0 0 1 3.8-.9h.5a8.5 8.5 0 0 1 8 8v.5z' }]],
  chart: [['path', { d: 'M18 20V10' }], ['path', { d: 'M12 20V4' }], ['path', { d: 'M6 20v-6' }]],
  mail: [['rect', { x: 2, y: 4, width: 20, height: 16, rx: 2 }], ['path', { d: 'm22 6-10 7L2 6' }]],
  globe: [['circle', { cx: 12, cy: 12, r: 10 }], ['path', { d: 'M2 12h20' }], ['path', { d: 'M12 2a15.3 15.3 0 0 1 4 10 15.3 15.3 0 0 1-4 10 15.3 15.3 0 0 1-4-10 15.3 15.3 0 0 1 4-10z' }]],
  clock: [['circle', { cx: 12, cy: 12, r: 10 }], ['path', { d: 'M12 6v6l4 2' }]],
  hash: [['path', { d: 'M4 9h16' }], ['path', { d: 'M4 15h16' }], ['path', { d: 'M10 3 8 21' }], ['path', { d: 'M16 3l-2 18' }]],
  refresh: [['path', { d: 'M23 4v6h-6' }], ['path', { d: 'M20.5 15a9 9 0 1 1-2.1-9.4L23 10' }]],
  retry: [['path', { d: 'M1 4v6h6' }], ['path', { d: 'M3.5 15a9 9 0 1 0 2.1-9.4L1 10' }]],
  unlock: [['rect', { x: 3, y: 11, width: 18, height: 11, rx: 2 }], ['path', { d: 'M7 11V7a5 5 0 0 1 9.9-1' }]],
  inbox: [['path', { d: 'M22 12h-6l-2 3h-4l-2-3H2' }], ['path', { d: 'M5.5 5.1 2 12v6a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2v-6l-3.5-6.9A2 2 0 0 0 16.8 4H7.2a2 2 0 0 0-1.7 1.1z' }]],
  check: [['path', { d: 'M20 6 9 17l-5-5' }]],
  close: [['path', { d: 'M18 6 6 18' }], ['path', { d: 'm6 6 12 12' }]],
};

/**
 * Returns an inline SVG icon (decorative: hidden from assistive technology).
 * @param {keyof ICONS} name
 * @param {string} [cls]
 * @returns {SVGElement}
 */
export function icon(name, cls = '') {
  const parts = ICONS[name] || [];
  return svg('svg', {
    class: ('icon ' + cls).trim(), viewBox: '0 0 24 24', 'aria-hidden': 'true', focusable: 'false',
  }, parts.map(([tag, attrs]) => svg(tag, attrs)));
}

/**
 * The name shown for a room's visitor: their name, or a stable placeholder
 * made from the room id ("Visitor k3ma").
 * @param {{id: string, visitorName?: string}} room
 * @returns {string}
 */
export function visitorLabel(room) {
  const name = (room.visitorName || '').trim();
  if (name) return name;
  const tail = String(room.id || '').replace(/^r_/, '').slice(-4);
  return 'Visitor ' + (tail || '????');
}

/**
 * Up to two initials for an avatar.
 * @param {string} label
 * @returns {string}
 */
export function initials(label) {
  const words = label.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return '?';
  if (words[0] === 'Visitor' && words.length === 2) return 'V';
  const first = Array.from(words[0])[0] || '';
  const last = words.length > 1 ? Array.from(words[words.length - 1])[0] || '' : '';
  return (first + last).toUpperCase();
}

/**
 * An avatar element with initials and a colour picked from the id, so that
 * a visitor keeps their colour everywhere.
 * @param {{id: string, visitorName?: string}} room
 * @param {string} [size] 'sm' | 'lg'
 * @returns {HTMLElement}
 */
export function avatar(room, size = '') {
  let h = 0;
  for (const ch of String(room.id)) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return el('span', {
    class: `avatar av-${h % 8}${size ? ' avatar-' + size : ''}`, 'aria-hidden': 'true',
    text: initials(visitorLabel(room)),
  });
}

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const weekdayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short' });
const shortDateFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const longDateFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric' });
const yearDateFmt = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'long', day: 'numeric' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** @param {Date} a @param {Date} b */
function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/**
 * A compact relative time for lists: "now", "5m", "3h", "Yesterday", "Mon", "Nov 3".
 * @param {string|Date} when
 * @param {Date} [now]
 * @returns {string}
 */
export function relativeTime(when, now = new Date()) {
  const d = when instanceof Date ? when : new Date(when);
  if (Number.isNaN(d.getTime())) return '';
  const diff = now.getTime() - d.getTime();
  if (diff < MINUTE) return 'now';
  if (diff < HOUR) return Math.floor(diff / MINUTE) + 'm';
  if (sameDay(d, now)) return Math.floor(diff / HOUR) + 'h';
  const yesterday = new Date(now.getTime() - DAY);
  if (sameDay(d, yesterday)) return 'Yesterday';
  if (diff < 6 * DAY) return weekdayFmt.format(d);
  return shortDateFmt.format(d);
}

/** @param {string|Date} when @returns {string} "10:04" in the user's locale */
export function clockTime(when) {
  return timeFmt.format(new Date(when));
}

/** @param {string|Date} when @returns {string} a date and time, "23 Nov 2026, 10:04" */
export function fullTime(when) {
  const d = new Date(when);
  return Number.isNaN(d.getTime()) ? '' : fullFmt.format(d);
}

/**
 * The label of a day separator: "Today", "Yesterday", "Monday, November 3"
 * (with the year when it is not this year).
 * @param {string|Date} when
 * @param {Date} [now]
 * @returns {string}
 */
export function dayLabel(when, now = new Date()) {
  const d = new Date(when);
  if (sameDay(d, now)) return 'Today';
  if (sameDay(d, new Date(now.getTime() - DAY))) return 'Yesterday';
  return d.getFullYear() === now.getFullYear() ? longDateFmt.format(d) : yearDateFmt.format(d);
}

/** @param {string|Date} when @returns {string} a local calendar-day key */
export function dayKey(when) {
  const d = new Date(when);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/**
 * A fresh idempotency key for a message send (the API accepts
 * letters, digits and ._:- up to 64 characters).
 * @returns {string}
 */
export function newClientId() {
  if (crypto.randomUUID) return 'c-' + crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return 'c-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Resolves after ms milliseconds, or at once when signal aborts.
 * @param {number} ms
 * @param {AbortSignal} [signal]
 * @returns {Promise<void>}
 */
export function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Tells whether a keyboard event's target is a text field, where single-key
 * shortcuts must not fire.
 * @param {EventTarget|null} target
 * @returns {boolean}
 */
export function isTyping(target) {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  return tag === 'INPUT' && !['button', 'checkbox', 'radio', 'submit'].includes(/** @type {HTMLInputElement} */ (target).type);
}

/**
 * Formats a count compactly: 999, 1.2k, 34k, 1.5M.
 * @param {number} n
 * @returns {string}
 */
export function compactNumber(n) {
  return new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 }).format(n);
}

/**
 * Keeps only http(s) URLs, for links made from visitor-supplied text.
 * @param {string} raw
 * @returns {URL|null}
 */
export function safeURL(raw) {
  try {
    const u = new URL(raw);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u : null;
  } catch {
    return null;
  }
}
