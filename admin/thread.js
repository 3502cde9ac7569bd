// The open conversation's thread as drawn: the messages with day separators,
// author labels and grouping, "Seen" under the newest reply, the top of the
// thread (older history, or where the chat started), the typing line, and
// the scroll position with its "jump to the newest" button.

import { el, replaceChildren } from '../widget/dom.js';
import { clockTime, dayKey, dayLabel } from '../widget/dates.js';
import { linkify } from '../widget/linkify.js';
import { icon } from './icons.js';
import { safeURL } from './links.js';
import { visitorLabel } from './people.js';
import { drawFiles } from './files.js';
import { fullTime } from './time.js';

const GROUP_GAP_MS = 5 * 60 * 1000;
const NEAR_BOTTOM = 80;
const NEAR_TOP = 120;

/** @typedef {import('./messages.js').Message} Message */

/** The message thread of the open room, as drawn. */
export class ThreadView {
  /**
   * @param {{thread: HTMLElement, top: HTMLElement, msgs: HTMLElement, typing: HTMLElement, jump: HTMLButtonElement}} ui
   * @param {() => void} onNearTop the thread was scrolled close to its top
   */
  constructor(ui, onNearTop) {
    this.ui = ui;
    /** @type {Map<number, HTMLElement>} */
    this.nodes = new Map();
    /** @type {Message|null} */
    this.lastRendered = null;
    ui.thread.addEventListener('scroll', () => {
      if (this.nearBottom()) ui.jump.hidden = true;
      if (ui.thread.scrollTop < NEAR_TOP) onNearTop();
    }, { passive: true });
    ui.jump.addEventListener('click', () => this.scrollToBottom(true));
  }

  /** Empties the thread (another room, or none). */
  clear() {
    this.nodes.clear();
    this.lastRendered = null;
    this.ui.typing.hidden = true;
    this.ui.jump.hidden = true;
    replaceChildren(this.ui.msgs);
    replaceChildren(this.ui.top);
  }

  /** @returns {number} the seq of the last message drawn, 0 for none */
  get lastSeq() {
    return this.lastRendered ? this.lastRendered.seq : 0;
  }

  /** @param {string} label what is loading, for assistive technology */
  showLoading(label) {
    replaceChildren(this.ui.top, el('div', { class: 'spinner', 'aria-label': label }));
  }

  /** A small spinner at the top while an older page loads. */
  showLoadingOlder() {
    replaceChildren(this.ui.top, el('div', { class: 'spinner spinner-sm', 'aria-label': 'Loading older messages' }));
  }

  /**
   * Shows why the thread could not load, with a button to try again.
   * @param {string} message
   * @param {() => void} onRetry
   */
  showError(message, onRetry) {
    replaceChildren(this.ui.top,
      el('div', { class: 'thread-error' },
        el('p', { text: message }),
        el('button', { class: 'btn btn-sm', type: 'button', text: 'Try again', onclick: onRetry })));
  }

  /**
   * Draws the top of the thread: a button for older messages, or where the
   * conversation started.
   * @param {any} r the room
   * @param {boolean} hasOlder
   * @param {() => void} onLoadOlder
   */
  renderTop(r, hasOlder, onLoadOlder) {
    if (hasOlder) {
      replaceChildren(this.ui.top, el('button', {
        class: 'btn btn-ghost btn-sm', type: 'button', text: 'Load older messages', onclick: onLoadOlder,
      }));
    } else {
      replaceChildren(this.ui.top, el('div', { class: 'thread-start' },
        el('p', { class: 'thread-start-title', text: 'Start of the conversation' }),
        r.createdAt ? el('p', { text: `${visitorLabel(r)} opened the chat ${fullTime(r.createdAt)}${safeURL(r.page) ? ' on ' + safeURL(r.page).pathname : ''}.` }) : null));
    }
  }

  /**
   * Draws the messages afresh.
   * @param {Message[]} list ascending
   * @param {any} room
   */
  render(list, room) {
    replaceChildren(this.ui.msgs);
    this.nodes.clear();
    this.lastRendered = null;
    for (const m of list) this.append(m, room);
  }

  /** Says that there are no messages at all. */
  showNone() {
    this.ui.msgs.append(el('p', { class: 'thread-none', text: 'No messages yet. Say hello!' }));
  }

  /**
   * Draws m after the last message drawn: a day separator when the day
   * changes, its author and time unless it continues the same author's turn.
   * @param {Message} m
   * @param {any} room
   */
  append(m, room) {
    this.ui.msgs.querySelector('.thread-none')?.remove();
    const prev = this.lastRendered;
    const newDay = !prev || dayKey(prev.createdAt) !== dayKey(m.createdAt);
    if (newDay) {
      this.ui.msgs.append(el('div', { class: 'day-sep', role: 'separator' }, el('span', { text: dayLabel(m.createdAt) })));
    }
    const grouped = !newDay && prev && prev.sender === m.sender && prev.author === m.author
      && Date.parse(m.createdAt) - Date.parse(prev.createdAt) < GROUP_GAP_MS;
    const who = m.sender === 'admin' ? (m.author || 'Admin') : visitorLabel(room);
    const node = el('div', {
      class: `msg msg-${m.sender}${grouped ? ' grouped' : ''}`, dataset: { seq: String(m.seq), at: m.createdAt },
    },
    grouped ? null : el('div', { class: 'msg-meta' },
      el('span', { class: 'msg-author', text: who }),
      el('time', { datetime: m.createdAt, title: fullTime(m.createdAt), text: clockTime(m.createdAt) })),
    el('div', { class: 'bubble', dir: 'auto', title: fullTime(m.createdAt) }, m.content && linkify(m.content),
      m.attachments?.length && drawFiles(m.attachments, this)));
    this.ui.msgs.append(node);
    this.nodes.set(m.seq, node);
    this.lastRendered = m;
  }

  /** @param {number} seq shows "Seen" under this message, 0 for nowhere (a thread at its end stays there) */
  showSeen(seq) {
    const stick = this.nearBottom();
    this.ui.msgs.querySelector('.seen')?.remove();
    const node = seq ? this.nodes.get(seq) : undefined;
    if (node) node.after(el('div', { class: 'seen' }, icon('check'), 'Seen'));
    if (stick) this.scrollToBottom(true);
  }

  /** @param {string} who shows "<who> is typing…" under the thread */
  showTyping(who) {
    this.ui.typing.hidden = false;
    replaceChildren(this.ui.typing,
      el('span', { class: 'dots', 'aria-hidden': 'true' }, el('i'), el('i'), el('i')),
      `${who} is typing…`);
  }

  hideTyping() {
    this.ui.typing.hidden = true;
  }

  /** Offers the button to the newest messages (some arrived out of sight). */
  showJump() {
    this.ui.jump.hidden = false;
  }

  /** @returns {boolean} the thread is scrolled (almost) to its end */
  nearBottom() {
    const t = this.ui.thread;
    return t.scrollHeight - t.scrollTop - t.clientHeight < NEAR_BOTTOM;
  }

  /** @returns {boolean} the thread is taller than its box, so it can scroll */
  canScroll() {
    const t = this.ui.thread;
    return t.scrollHeight > t.clientHeight + 40;
  }

  /** @param {boolean} force scrolls to the end, or only when near it already */
  scrollToBottom(force) {
    if (!force && !this.nearBottom()) return;
    this.ui.thread.scrollTop = this.ui.thread.scrollHeight;
    this.ui.jump.hidden = true;
  }

  /**
   * Runs draw (which adds messages above) without moving what is in view.
   * @param {() => void} draw
   */
  keepPosition(draw) {
    const t = this.ui.thread;
    const fromBottom = t.scrollHeight - t.scrollTop;
    draw();
    t.scrollTop = t.scrollHeight - fromBottom;
  }
}
