// Drawing the panel: messages in day groups, presence, typing, notices. It
// reads the store, never writes it nor calls the network.

import { backAt, clockTime, dayKey, dayLabel, fullTime, sameDay } from './dates.js';
import { el } from './dom.js';
import { t } from './i18n.js';
import { linkify } from './linkify.js';
import { state } from './store.js';

/** @param {string} id */
export const $ = (id) => document.getElementById(id);

export const ui = {
  title: $('title'), status: $('status'), statusText: $('status-text'), del: $('delete'), close: $('close'), mail: $('mail'),
  away: $('away'), awayText: $('away-text'), awayRow: $('away-row'), awayEmail: $('away-email'),
  scroll: $('scroll'), older: $('older'), greeting: $('greeting'), list: $('list'),
  intro: $('intro'), name: $('intro-name'), email: $('intro-email'), introError: $('intro-error'),
  typing: $('typing'), typingText: $('typing-text'), jump: $('jump'), notice: $('notice'),
  panel: $('panel'), composer: $('composer'), input: $('input'), uploads: $('uploads'), attach: $('attach'), file: $('file'), confirm: $('confirm'), cancel: $('confirm-cancel'),
  ok: $('confirm-ok'), live: $('live'),
};

// retry() and discard(o) for a failed message's buttons, rendered() after each redraw.
let actions;

export function initRender(a) {
  actions = a;
}

/** Shows or clears the notice above the composer (a live region); kind: 'send', 'net' or '' (information). */
export function notify(text, kind) {
  ui.notice.textContent = text || '';
  ui.notice.hidden = !text;
  ui.notice.dataset.kind = kind || '';
  ui.notice.className = 'notice' + (kind ? ' warn' : '');
}

/** Blocked: says so, composer off. */
export function closed() {
  notify(ui.input.placeholder = t('closed'), 'closed');
  ui.input.disabled = true;
  ui.input.value = '';
}

/** Clears the notice if it is of this kind. */
export function clearNotice(kind) {
  if (ui.notice.dataset.kind === kind) notify('');
}

/** Says text to screen readers. */
export function announce(text) {
  ui.live.textContent = '';
  setTimeout(() => { ui.live.textContent = text; }, 50);
}

/** @returns {boolean} the conversation is scrolled (nearly) to its end */
export function nearBottom() {
  const sc = ui.scroll;
  return sc.scrollHeight - sc.scrollTop - sc.clientHeight < 64;
}

/** The items to draw, in order: stored messages, then unsent ones. */
function items() {
  const out = [...state.msgs.values()].sort((a, b) => a.seq - b.seq)
    .map((m) => ({ ...m, date: new Date(m.createdAt) }));
  const now = new Date();
  for (const o of state.outbox) {
    if (o.seq && state.msgs.has(o.seq)) continue; // its stored copy is already drawn
    out.push({ sender: 'visitor', author: '', content: o.content || (o.files ? '📎' : ''), date: now, pending: o });
  }
  return out;
}

/** Draws one item, first and/or last of its group; seenSeq is the one marked "Seen". */
function drawMessage(m, first, last, seenSeq) {
  const mine = m.sender === 'visitor';
  const o = m.pending;
  const failed = o && o.status === 'failed';
  const li = el('li', {
    class: `msg ${mine ? 'me' : 'them'}${first ? ' first' : ''}${last ? ' last' : ''}${o ? (failed ? ' failed' : ' pending') : ''}`,
  },
  !mine && first && el('div', { class: 'who', text: m.author || t('support') }),
  el('div', { class: 'bubble', title: !o && fullTime(m.date) }, m.content && el('p', { class: 'text', dir: 'auto' }, linkify(m.content)),
    m.attachments && actions.files(el('div', { class: 'files' }), m.attachments)));
  if (failed) {
    li.append(el('div', { class: 'meta error', title: o.error || '' }, t('notSent'), ' ',
      el('button', { type: 'button', class: 'link-btn', text: t('retry'), onclick: () => actions.retry() }), ' · ',
      el('button', { type: 'button', class: 'link-btn', text: t('discard'), onclick: () => actions.discard(o) })));
  } else if (o) {
    if (last) li.append(el('div', { class: 'meta', text: t('sending') }));
  } else if (last || m.seq === seenSeq) {
    li.append(el('div', { class: 'meta' },
      el('time', { datetime: m.createdAt, text: clockTime(m.date) }), m.seq === seenSeq && ` · ${t('seen')}`));
  }
  return li;
}

/** Items of one group: same side and author, same day, five minutes apart at most. */
function sameGroup(a, b) {
  return a && b && a.sender === b.sender && a.author === b.author &&
    sameDay(a.date, b.date) && Math.abs(a.date - b.date) < 5 * 60000;
}

/** Redraws the conversation; keep: 'bottom' scrolls to the end, 'top' stays put above older messages. */
export function render(keep) {
  const sc = ui.scroll;
  const fromBottom = sc.scrollHeight - sc.scrollTop;
  const atBottom = fromBottom - sc.clientHeight < 64;
  const all = items();
  let seenSeq = 0;
  for (const m of all) if (m.sender === 'visitor' && m.seq && m.seq <= state.adminReadSeq) seenSeq = m.seq;
  const nodes = [];
  let prevDay = '';
  all.forEach((m, i) => {
    const day = dayKey(m.date);
    if (day !== prevDay) {
      nodes.push(el('li', { class: 'day', text: dayLabel(m.date, new Date(), { weekdayAlways: true }) }));
      prevDay = day;
    }
    nodes.push(drawMessage(m, !sameGroup(all[i - 1], m), !sameGroup(m, all[i + 1]), seenSeq));
  });
  ui.list.replaceChildren(...nodes);
  ui.older.hidden = !state.hasMore;
  ui.greeting.hidden = state.hasMore;
  ui.intro.hidden = !!state.session || state.introDone || (!!state.identity.name && !!state.identity.email);
  ui.del.hidden = !state.session;
  ui.mail.hidden = !(state.email && state.session && state.room && state.room.visitorEmail);
  if (keep === 'top') sc.scrollTop = sc.scrollHeight - fromBottom;
  else if (keep === 'bottom' || atBottom) sc.scrollTop = sc.scrollHeight;
  actions.rendered();
}

/** @returns {boolean} the business hours say the team is closed now */
export function closedNow() {
  return !!state.hours && state.hours.open === false;
}

/** @returns {string} when the team is back ("We reply tomorrow from 9:00."), in the visitor's words and clock */
function backText() {
  const next = state.hours && state.hours.nextOpen;
  if (!next) return t('closedNow') + '.';
  const b = backAt(next);
  return t(b.when === 'today' ? 'backToday' : b.when === 'tomorrow' ? 'backTomorrow' : 'backOn', b);
}

/**
 * Shows the admins' presence and, when nobody is in, asks for an email if
 * the server sends mail. Outside the business hours the panel says when the
 * team is back and asks for the email, whoever is online.
 */
export function renderPresence() {
  const on = state.adminsOnline;
  const closed = closedNow();
  ui.status.className = 'status' + (closed ? ' offline' : on === true ? ' online' : on === false ? ' offline' : '');
  // Who looks after the conversation: its assignee, or whoever answered last.
  const agent = (state.room && state.room.assigneeName) || state.lastAuthor;
  ui.statusText.textContent = closed ? t('closedNow') : on === true ? (agent ? t('onlineAgent', { agent }) : t('online'))
    : on === false ? t('away') : agent ? t('helping', { agent }) : t('statusIdle');
  const email = (state.room && state.room.visitorEmail) || state.identity.email;
  ui.away.hidden = !closed && on !== false;
  ui.awayRow.hidden = !state.email || !!email;
  ui.awayText.textContent = closed
    ? backText() + (!state.email ? '' : ' ' + (email ? t('closedEmail', { email }) : t('closedAsk')))
    : !state.email ? t('awayKept') : email ? t('awayEmail', { email }) : t('awayAsk');
}

let typingTimer = 0;

/** Shows that an admin is typing, for 5 s. */
export function showTyping() {
  const stick = nearBottom();
  ui.typingText.textContent = t('typing', { name: state.lastAuthor || t('support') });
  ui.typing.hidden = false;
  if (stick) ui.scroll.scrollTop = ui.scroll.scrollHeight;
  clearTimeout(typingTimer);
  typingTimer = setTimeout(hideTyping, 5000);
}

/** Hides the typing indicator. */
export function hideTyping() {
  clearTimeout(typingTimer);
  ui.typing.hidden = true;
}
