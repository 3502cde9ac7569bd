// The open conversation's team toolbar: its status (resolve, reopen,
// snooze), its assignee ("Assign to me", or anyone on the team), its labels,
// and who else on the team is viewing or typing in it.

import { el, replaceChildren } from '../widget/dom.js';
import * as api from './api.js';
import { roster } from './roster.js';
import { fullTime } from './time.js';

const VIEWING_EVERY_MS = 10 * 1000;
const VIEWING_SHOWN_MS = 25 * 1000;
const TYPING_SHOWN_MS = 6 * 1000;

/** @returns {string} tomorrow at 9:00, local time, as an ISO string */
function tomorrowAt9() {
  const d = new Date();
  d.setDate(d.getDate() + 1);
  d.setHours(9, 0, 0, 0);
  return d.toISOString();
}

/** @returns {string} next Monday at 9:00, local time */
function nextMonday() {
  const d = new Date();
  d.setDate(d.getDate() + ((8 - d.getDay()) % 7 || 7));
  d.setHours(9, 0, 0, 0);
  return d.toISOString();
}

/** The snooze choices, each a function giving its end ('' = until the visitor writes). */
const SNOOZES = [
  ['1h', 'For 1 hour', () => new Date(Date.now() + 3600 * 1000).toISOString()],
  ['tomorrow', 'Until tomorrow, 9:00', tomorrowAt9],
  ['week', 'Until Monday, 9:00', nextMonday],
  ['reply', 'Until the visitor replies', () => ''],
];

/**
 * Gives node its label colour (a CSS variable set through the CSSOM, which
 * the CSP allows where a style attribute is not).
 * @param {HTMLElement} node @param {string} color #rrggbb
 */
function colored(node, color) {
  if (/^#[0-9a-f]{6}$/i.test(color)) node.style.setProperty('--label', color);
  return node;
}

/** @param {{name: string, color: string}} l @returns {HTMLElement} a label as a coloured chip */
export function labelChip(l) {
  return colored(el('span', { class: 'label-chip', text: l.name }), l.color);
}

export class Workflow {
  /**
   * @param {HTMLElement} root the toolbar's element
   * @param {{
   *   room: () => any, me: () => {username: string, displayName: string},
   *   onRoom: (room: any) => void, report: (err: unknown) => void,
   * }} hooks
   */
  constructor(root, hooks) {
    this.root = root;
    this.hooks = hooks;
    /** @type {Map<string, {name: string, typingUntil: number, viewingUntil: number}>} username → what they do here */
    this.others = new Map();
    this.viewTimer = 0;
    this.tick = 0;
    this.roomId = '';
    this.build();
    roster.subscribe(() => this.render());
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && this.roomId) this.announce();
    });
  }

  build() {
    this.statusTag = el('span', { class: 'tag status-tag' });
    this.resolve = el('button', { class: 'btn btn-sm', type: 'button', dataset: { action: 'resolve' }, onclick: () => this.toggleResolved() });
    this.snooze = /** @type {HTMLSelectElement} */ (el('select', {
      class: 'select select-sm', 'aria-label': 'Snooze', onchange: () => this.onSnooze(),
    }));
    this.assignee = /** @type {HTMLSelectElement} */ (el('select', {
      class: 'select select-sm', id: 'assignee', 'aria-label': 'Assignee', onchange: () => this.setAssignee(this.assignee.value || null),
    }));
    this.mine = el('button', { class: 'btn btn-sm', type: 'button', dataset: { action: 'assign-me' }, text: 'Assign to me', onclick: () => this.setAssignee(this.hooks.me().username) });
    this.labelChips = el('span', { class: 'label-chips' });
    this.labelList = el('div', { class: 'label-menu', role: 'group', 'aria-label': 'Labels' });
    this.labelMenu = /** @type {HTMLDetailsElement} */ (el('details', { class: 'label-picker' },
      el('summary', { class: 'btn btn-sm', text: 'Labels' }), this.labelList));
    this.activity = el('p', { class: 'activity', role: 'status', 'aria-live': 'polite', hidden: true });
    replaceChildren(this.root,
      el('div', { class: 'tools-row' }, this.statusTag, this.resolve, this.snooze, this.assignee, this.mine, this.labelMenu, this.labelChips),
      this.activity);
    document.addEventListener('click', (e) => {
      if (this.labelMenu.open && !this.labelMenu.contains(/** @type {Node} */ (e.target))) this.labelMenu.open = false;
    });
  }

  /** @param {string} id the room opened ('' for none) */
  opened(id) {
    this.roomId = id;
    this.others.clear();
    clearInterval(this.viewTimer);
    clearInterval(this.tick);
    this.viewTimer = 0;
    if (id) {
      // GET of the room announced the first one.
      this.viewTimer = setInterval(() => this.announce(), VIEWING_EVERY_MS);
      this.tick = setInterval(() => this.renderActivity(), 2000);
    }
    this.labelMenu.open = false;
    this.render();
  }

  announce() {
    if (this.roomId && document.visibilityState === 'visible') api.sendViewing(this.roomId).catch(() => {});
  }

  /**
   * Another agent is viewing or typing in some room.
   * @param {{roomId: string, agent: {username: string, displayName: string}, activity: string}} d
   */
  agentActivity(d) {
    if (d.roomId !== this.roomId || d.agent.username === this.hooks.me().username) return;
    const now = Date.now();
    const o = this.others.get(d.agent.username) || { name: '', typingUntil: 0, viewingUntil: 0 };
    o.name = d.agent.displayName || d.agent.username;
    o.viewingUntil = now + VIEWING_SHOWN_MS; // typing is viewing too
    if (d.activity === 'typing') o.typingUntil = now + TYPING_SHOWN_MS;
    this.others.set(d.agent.username, o);
    this.renderActivity();
  }

  /** @param {string} roomId @param {string} author an agent's reply arrived: they stopped typing */
  replied(roomId, author) {
    if (roomId !== this.roomId) return;
    for (const o of this.others.values()) if (o.name === author) o.typingUntil = 0;
    this.renderActivity();
  }

  renderActivity() {
    const now = Date.now();
    const parts = [];
    let typing = false;
    for (const [u, o] of this.others) {
      if (o.viewingUntil <= now) {
        this.others.delete(u);
      } else if (o.typingUntil > now) {
        typing = true;
        parts.push(`${o.name} is typing…`);
      } else {
        parts.push(`${o.name} is viewing`);
      }
    }
    this.activity.hidden = parts.length === 0;
    this.activity.textContent = parts.join(' · ');
    this.activity.classList.toggle('typing', typing);
  }

  render() {
    const r = this.hooks.room();
    if (!r) return;
    const status = r.status || 'open';
    const me = this.hooks.me().username;
    this.statusTag.textContent = status === 'pending'
      ? (r.snoozedUntil ? `Snoozed until ${fullTime(r.snoozedUntil)}` : 'Pending')
      : status === 'resolved' ? 'Resolved' : 'Open';
    this.statusTag.className = 'tag status-tag status-' + status;
    this.resolve.textContent = status === 'open' ? 'Resolve' : 'Reopen';

    replaceChildren(this.snooze, el('option', { value: '', text: 'Snooze…' }),
      ...SNOOZES.map(([v, label]) => el('option', { value: v, text: label })));
    this.snooze.value = '';

    const assignee = r.assignee || '';
    const agents = roster.agents.slice();
    if (assignee && !agents.some((a) => a.username === assignee)) {
      agents.push({ username: assignee, displayName: r.assigneeName || assignee });
    }
    replaceChildren(this.assignee, el('option', { value: '', text: 'Unassigned' }),
      ...agents.map((a) => el('option', { value: a.username, text: a.username === me ? `${a.displayName || a.username} (you)` : a.displayName || a.username })));
    this.assignee.value = assignee;
    this.mine.hidden = assignee === me;

    const labels = r.labels || [];
    replaceChildren(this.labelChips, ...labels.map((id) => {
      const l = roster.label(id);
      return l ? labelChip(l) : null;
    }));
    replaceChildren(this.labelList, roster.labels.length === 0
      ? el('p', { class: 'muted' }, 'No labels yet. ', el('a', { href: '#/labels', text: 'Define them under Labels' }), '.')
      : roster.labels.map((l) => el('label', { class: 'label-option' },
        el('input', { type: 'checkbox', value: l.id, checked: labels.includes(l.id), onchange: () => this.saveLabels() }),
        colored(el('span', { class: 'label-dot', 'aria-hidden': 'true' }), l.color),
        el('span', { text: l.name }))));
  }

  async toggleResolved() {
    const r = this.hooks.room();
    if (!r) return;
    await this.apply(() => api.setStatus(r.id, (r.status || 'open') === 'open' ? 'resolved' : 'open'));
  }

  async onSnooze() {
    const r = this.hooks.room();
    const choice = SNOOZES.find(([v]) => v === this.snooze.value);
    this.snooze.value = '';
    if (!r || !choice) return;
    const until = choice[2]();
    await this.apply(() => api.setStatus(r.id, 'pending', until || undefined));
  }

  /** @param {string|null} username */
  async setAssignee(username) {
    const r = this.hooks.room();
    if (!r) return;
    await this.apply(() => api.assign(r.id, username));
  }

  async saveLabels() {
    const r = this.hooks.room();
    if (!r) return;
    const ids = Array.from(this.labelList.querySelectorAll('input:checked')).map((i) => /** @type {HTMLInputElement} */ (i).value);
    await this.apply(() => api.setRoomLabels(r.id, ids));
  }

  /** @param {() => Promise<{room: any}>} call */
  async apply(call) {
    try {
      const { room } = await call();
      this.hooks.onRoom(room);
    } catch (err) {
      this.hooks.report(err);
      this.render();
    }
  }
}
