// One room's row in the inbox: avatar, name, Verified and Blocked tags, time of the last
// activity, a preview of the last message (or "typing…") and the unread
// badge. A row is redrawn only when something it shows changed.

import { el, replaceChildren } from '../widget/dom.js';
import { avatar, visitorLabel } from './people.js';
import { roster } from './roster.js';
import { labelChip } from './workflow.js';
import { fullTime, relativeTime } from './time.js';

/** @typedef {{li: HTMLElement, a: HTMLAnchorElement, sig: string}} Row */

/**
 * A preview of a room's last message for the list.
 * @param {any} room
 * @returns {string}
 */
function preview(room) {
  const m = room.lastMessage;
  if (!m) return 'No messages yet';
  const text = m.content.replace(/\s+/g, ' ').trim();
  return m.sender === 'admin' ? 'You: ' + text : text;
}

/**
 * What a search matched, for the row's second line.
 * @param {{kind: string, text: string, sender?: string}} match
 * @returns {string}
 */
function matchText(match) {
  const text = (match.text || '').replace(/\s+/g, ' ').trim();
  if (match.kind === 'note') return 'Note: ' + text;
  if (match.kind === 'message' && match.sender === 'admin') return 'You: ' + text;
  return text;
}

const CJK = /[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]/;

/** @param {string} s lowercase, without accents: how search compares words */
export function foldWord(s) {
  return String(s || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

/**
 * The text with each word that a search term starts (or, in CJK text,
 * contains) in a <mark>, as text nodes only.
 * @param {string} text
 * @param {string[]} terms folded
 * @returns {(string|HTMLElement)[]}
 */
function highlight(text, terms) {
  if (!terms.length) return [text];
  return text.split(/([\p{L}\p{N}\p{M}]+)/u).filter(Boolean).map((part) => {
    const f = foldWord(part);
    const hit = terms.some((t) => f.startsWith(t) || (CJK.test(t) && f.includes(t)));
    return hit ? el('mark', { text: part }) : part;
  });
}

/** @param {string} s @returns {string} s cut to 100 characters for a link's name */
const short = (s) => (s.length > 100 ? s.slice(0, 99) + '…' : s);

/**
 * Creates the row of a room, or updates the one it had.
 * @param {Row|undefined} row the room's row so far
 * @param {any} room
 * @param {{now: Date, tabbable: boolean, typing: boolean, selected: boolean, match?: any, terms?: string[]}} state
 *   tabbable: the row the list's Tab stop is on; selected: the open room;
 *   match: what a search matched (api.search), shown instead of the preview
 *   with the words of terms (folded) marked
 * @returns {Row}
 */
export function roomRow(row, room, { now, tabbable, typing, selected, match, terms = [] }) {
  if (!row) {
    const a = /** @type {HTMLAnchorElement} */ (el('a', { class: 'room', href: '#/r/' + room.id, dataset: { id: room.id } }));
    row = { li: el('li', {}, a), a, sig: '' };
  }
  const when = room.lastMessage?.createdAt || room.updatedAt;
  const time = relativeTime(when, now);
  const labels = (room.labels || []).map((id) => roster.label(id)).filter(Boolean);
  const status = room.status && room.status !== 'open' ? room.status : '';
  const owner = room.assignee ? (room.assigneeName || roster.agentName(room.assignee)) : '';
  const sig = JSON.stringify([room.visitorName, room.visitorEmail, room.lastMessage, room.unread, room.blocked, room.verified, typing, time, selected,
    labels, status, owner, match, match && terms]);
  row.a.tabIndex = tabbable ? 0 : -1;
  if (sig === row.sig) return row;
  row.sig = sig;

  const a = row.a;
  const name = visitorLabel(room);
  a.classList.toggle('unread', room.unread > 0);
  a.classList.toggle('selected', selected);
  if (selected) a.setAttribute('aria-current', 'true');
  else a.removeAttribute('aria-current');
  const second = match ? matchText(match) : preview(room);
  a.setAttribute('aria-label', [name, room.verified && 'verified', room.blocked && 'blocked', status, room.unread > 0 && `${room.unread} unread`,
    typing ? 'typing' : short(second), time, owner && `assigned to ${owner}`,
    labels.length > 0 && 'labels ' + labels.map((l) => l.name).join(', ')].filter(Boolean).join(', '));
  replaceChildren(a,
    avatar(room),
    el('span', { class: 'room-main' },
      el('span', { class: 'room-top' },
        el('span', { class: 'room-name', text: name }),
        room.verified ? el('span', { class: 'tag tag-verified', text: 'Verified' }) : null,
        room.blocked ? el('span', { class: 'tag tag-muted', text: 'Blocked' }) : null,
        el('time', { class: 'room-time', datetime: when, title: fullTime(when), text: time })),
      el('span', { class: 'room-bottom' },
        typing
          ? el('span', { class: 'room-preview typing', text: 'typing…' })
          : match
            ? el('span', { class: 'room-preview match' }, ...highlight(second, terms))
            : el('span', { class: 'room-preview' + (room.lastMessage ? '' : ' none'), text: second }),
        room.unread > 0 ? el('span', { class: 'badge', text: room.unread > 99 ? '99+' : String(room.unread) }) : null),
      labels.length > 0 || status || owner ? el('span', { class: 'room-tags' },
        status ? el('span', { class: 'tag status-tag status-' + status, text: status === 'pending' ? 'Pending' : 'Resolved' }) : null,
        ...labels.map((l) => labelChip(l)),
        owner ? el('span', { class: 'room-owner', text: owner }) : null) : null));
  return row;
}
