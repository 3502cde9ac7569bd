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

/** @param {string} s @returns {string} s cut to 100 characters for a link's name */
const short = (s) => (s.length > 100 ? s.slice(0, 99) + '…' : s);

/**
 * Creates the row of a room, or updates the one it had.
 * @param {Row|undefined} row the room's row so far
 * @param {any} room
 * @param {{now: Date, tabbable: boolean, typing: boolean, selected: boolean}} state
 *   tabbable: the row the list's Tab stop is on; selected: the open room
 * @returns {Row}
 */
export function roomRow(row, room, { now, tabbable, typing, selected }) {
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
    labels, status, owner]);
  row.a.tabIndex = tabbable ? 0 : -1;
  if (sig === row.sig) return row;
  row.sig = sig;

  const a = row.a;
  const name = visitorLabel(room);
  a.classList.toggle('unread', room.unread > 0);
  a.classList.toggle('selected', selected);
  if (selected) a.setAttribute('aria-current', 'true');
  else a.removeAttribute('aria-current');
  a.setAttribute('aria-label', [name, room.verified && 'verified', room.blocked && 'blocked', status, room.unread > 0 && `${room.unread} unread`,
    typing ? 'typing' : short(preview(room)), time, owner && `assigned to ${owner}`,
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
          : el('span', { class: 'room-preview' + (room.lastMessage ? '' : ' none'), text: preview(room) }),
        room.unread > 0 ? el('span', { class: 'badge', text: room.unread > 99 ? '99+' : String(room.unread) }) : null),
      labels.length > 0 || status || owner ? el('span', { class: 'room-tags' },
        status ? el('span', { class: 'tag status-tag status-' + status, text: status === 'pending' ? 'Pending' : 'Resolved' }) : null,
        ...labels.map((l) => labelChip(l)),
        owner ? el('span', { class: 'room-owner', text: owner }) : null) : null));
  return row;
}
