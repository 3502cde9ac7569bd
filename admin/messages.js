// The open conversation's data: its messages by seq (a message held once, in
// whatever order it arrives), whether older history is left to page in, the
// pages after a seq, whether the visitor has seen a reply, and marking the
// room read.

import * as api from './api.js';

const PAGE = 50;
const MAX_PAGES = 100; // bounds every "fetch until done" loop
const READ_DELAY_MS = 150;

/**
 * @typedef {{id: string, roomId: string, seq: number, sender: 'visitor'|'admin', author: string, content: string, createdAt: string, attachments?: import('./files.js').Attachment[]}} Message
 */

/** The messages held of one room, by seq. */
export class MessageStore {
  constructor() {
    /** @type {Map<number, Message>} */
    this.bySeq = new Map();
    /** There is history before the oldest message held. */
    this.hasOlder = false;
    /** A message came with a seq held under another id: what is held is stale (the server's store went back in time). */
    this.stale = false;
  }

  clear() {
    this.bySeq.clear();
    this.hasOlder = false;
    this.stale = false;
  }

  /** @param {Message} m holds m (replacing a message with its seq) */
  put(m) {
    this.bySeq.set(m.seq, m);
  }

  /**
   * Holds the room's latest messages, as opening it answers them.
   * @param {Message[]} messages ascending
   * @param {number} firstSeq the room's first seq still stored (0 when unknown)
   */
  opened(messages, firstSeq) {
    for (const m of messages) this.put(m);
    const first = messages.length ? messages[0].seq : 0;
    this.hasOlder = first > Math.max(1, firstSeq || 1);
  }

  /**
   * Holds the messages not held yet (duplicates ignored).
   * @param {Message[]} list any order
   * @returns {Message[]} the ones that were new, ascending
   */
  addNew(list) {
    for (const m of list) if (this.bySeq.has(m.seq) && this.bySeq.get(m.seq).id !== m.id) this.stale = true;
    const fresh = list.filter((m) => !this.bySeq.has(m.seq));
    for (const m of fresh) this.put(m);
    return fresh.sort((a, b) => a.seq - b.seq);
  }

  /**
   * Fetches the page before the oldest message held.
   * @param {string} roomId
   * @returns {Promise<{messages: Message[], hasMore: boolean}>}
   */
  fetchOlder(roomId) {
    return api.roomMessages(roomId, { before: this.minSeq(), limit: PAGE });
  }

  /** @param {{messages: Message[], hasMore: boolean}} page a page fetchOlder answered */
  addOlder(page) {
    for (const m of page.messages) this.put(m);
    this.hasOlder = page.hasMore && page.messages.length > 0;
  }

  /** @returns {Message[]} every message held, ascending */
  sorted() {
    return Array.from(this.bySeq.values()).sort((a, b) => a.seq - b.seq);
  }

  /** @returns {number} the newest seq held, 0 for none */
  maxSeq() {
    let max = 0;
    for (const s of this.bySeq.keys()) if (s > max) max = s;
    return max;
  }

  /** @returns {number} the oldest seq held, 0 for none */
  minSeq() {
    let min = Infinity;
    for (const s of this.bySeq.keys()) if (s < min) min = s;
    return min === Infinity ? 0 : min;
  }

  /** @returns {Message|null} the newest admin reply held */
  lastAdmin() {
    let last = null;
    for (const m of this.bySeq.values()) if (m.sender === 'admin' && (!last || m.seq > last.seq)) last = m;
    return last;
  }
}

/**
 * Tells whether the room's visitor has read the message with seq.
 * @param {any} room
 * @param {number} seq
 * @returns {boolean}
 */
export function seenByVisitor(room, seq) {
  return typeof room.visitorReadSeq === 'number'
    ? room.visitorReadSeq >= seq
    : room.visitorUnread === 0 && (room.lastMessage?.seq || 0) >= seq;
}

/**
 * Yields the room's messages after seq, a page at a time, until there are no
 * more (or MAX_PAGES pages).
 * @param {string} roomId
 * @param {number} seq
 * @returns {AsyncGenerator<Message[]>}
 */
export async function* pagesAfter(roomId, seq) {
  let after = seq;
  for (let i = 0; i < MAX_PAGES; i++) {
    const page = await api.roomMessages(roomId, { after, limit: 200 });
    yield page.messages;
    if (!page.hasMore || page.messages.length === 0) break;
    after = page.messages[page.messages.length - 1].seq;
  }
}

/** Marks the open room read, soon after there is something to read. */
export class ReadMarks {
  /** @param {() => string} openId the open room's id, '' for none */
  constructor(openId) {
    this.openId = openId;
    this.timer = 0;
  }

  /** Marks the room read soon, while it is open and the tab is visible. */
  schedule() {
    if (document.visibilityState !== 'visible' || !this.openId()) return;
    clearTimeout(this.timer);
    const id = this.openId();
    this.timer = setTimeout(() => {
      if (id !== this.openId() || document.visibilityState !== 'visible') return;
      api.markRead(id).catch(() => {}); // a 401 is handled globally; the next event retries
    }, READ_DELAY_MS);
  }

  cancel() {
    clearTimeout(this.timer);
  }
}
