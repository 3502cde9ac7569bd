// How a visitor is shown: their label, initials and a coloured avatar.

import { el } from '../widget/dom.js';

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
