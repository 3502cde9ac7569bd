// The open conversation's private notes: held in time order and drawn among
// the messages at their time, styled apart, with their author. Notes are for
// the agents only; the visitor never gets them.

import { el } from '../widget/dom.js';
import { clockTime } from '../widget/dates.js';
import { linkify } from '../widget/linkify.js';
import * as api from './api.js';
import { fullTime } from './time.js';

/** @typedef {{id: string, roomId: string, author: string, authorName: string, content: string, createdAt: string}} Note */

export class NotesView {
  /** @param {HTMLElement} msgs the thread's message container */
  constructor(msgs) {
    this.msgs = msgs;
    /** @type {Map<string, Note>} */
    this.notes = new Map();
    this.roomId = '';
  }

  /** @param {string} roomId @param {Note[]} notes the room's, as opened */
  opened(roomId, notes) {
    this.roomId = roomId;
    this.notes = new Map((notes || []).map((n) => [n.id, n]));
    this.place();
  }

  clear() {
    this.roomId = '';
    this.notes.clear();
  }

  /** @param {Note} n from the stream or this console's own post; repeats ignored @returns {boolean} it was new */
  add(n) {
    if (n.roomId !== this.roomId || this.notes.has(n.id)) return false;
    this.notes.set(n.id, n);
    this.place();
    return true;
  }

  /**
   * Posts a note to the open room.
   * @param {string} content
   */
  async post(content) {
    const roomId = this.roomId;
    const { note } = await api.addNote(roomId, content);
    if (roomId === this.roomId) this.add(note);
  }

  /** Draws every note among the messages, each before the first message newer than it. */
  place() {
    for (const old of this.msgs.querySelectorAll('.note')) old.remove();
    if (this.notes.size === 0) return;
    this.msgs.querySelector('.thread-none')?.remove();
    const msgs = /** @type {HTMLElement[]} */ (Array.from(this.msgs.querySelectorAll('.msg[data-at]')));
    const sorted = [...this.notes.values()].sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
    let i = 0;
    for (const n of sorted) {
      while (i < msgs.length && (msgs[i].dataset.at || '') <= n.createdAt) i++;
      const node = el('div', { class: 'note', role: 'note', 'aria-label': `Private note by ${n.authorName || n.author}` },
        el('div', { class: 'msg-meta' },
          el('span', { class: 'note-tag', text: 'Private note' }),
          el('span', { class: 'msg-author', text: n.authorName || n.author }),
          el('time', { datetime: n.createdAt, title: fullTime(n.createdAt), text: clockTime(n.createdAt) })),
        el('div', { class: 'note-body', dir: 'auto' }, linkify(n.content)));
      if (i < msgs.length) msgs[i].before(node);
      else this.msgs.append(node);
    }
  }
}
