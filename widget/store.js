// The conversation's state: room and token, messages by seq, the outbox,
// read marks. Session and outbox persist in localStorage, one key per site.

export const state = {
  /** @type {?{roomId: string, token: string}} */
  session: null,
  room: null,
  /** @type {Map<number, Object>} messages by seq */
  msgs: new Map(),
  /** @type {Array<{clientId: string, content: string, status: string, error?: string, seq?: number}>} */
  outbox: [],
  hasMore: false,
  streamSeq: 0, // every message up to here came through history or the stream: the resume point
  readSeq: 0, // admin messages up to here are read by the visitor
  adminReadSeq: 0, // visitor messages up to here are read by an admin
  adminsOnline: null,
  /** @type {?{open: boolean, nextOpen?: string, closesAt?: string}} the business hours' state */
  hours: null,
  visible: false,
  identity: { name: '', email: '' },
  page: '',
  pageTitle: '',
  referrer: '',
  opened: false, // the visitor opened the chat on this page: only then are pages reported
  unreadSent: -1,
  stale: false, // a seq came with another id: reload
  lastAuthor: '',
  introDone: false,
  email: false, // the server sends mail: only then is email promised
  ident: '', // the site's verified user id ('' anonymous); a session of another is forgotten
  verify: null, // what POST /rooms gets to open that user's room: {identity} or {identityToken}
};

let key = '';

/**
 * Loads what was saved under storageKey: unsent messages back in the outbox;
 * the session is returned, not adopted.
 * @returns {?{roomId: string, token: string}}
 */
export function restore(storageKey) {
  key = storageKey;
  let saved;
  try {
    saved = JSON.parse(localStorage.getItem(key)) || {};
  } catch (e) {
    saved = {};
  }
  state.outbox = (Array.isArray(saved.outbox) ? saved.outbox : [])
    .filter((o) => o && typeof o.content === 'string' && typeof o.clientId === 'string')
    .map((o) => ({ clientId: o.clientId, content: o.content, status: 'queued' }));
  return saved.roomId && saved.token ? { roomId: saved.roomId, token: saved.token, ident: String(saved.ident || '') } : null;
}

/** Saves the session and the unsent messages (so a reload resends them, safely, by clientId). */
export function save() {
  const outbox = state.outbox.map((o) => ({ clientId: o.clientId, content: o.content }));
  try {
    if (!state.session && !outbox.length) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify({ ...state.session, outbox }));
  } catch (e) {
    /* storage blocked: the conversation lasts as long as the page */
  }
}

/** Adds messages, ignoring any seq already known; returns the ones added. */
export function storeMessages(list) {
  const added = [];
  for (const m of list) {
    if (!m || !m.seq) continue;
    const had = state.msgs.get(m.seq);
    if (had) {
      if (had.id !== m.id) state.stale = true;
      continue;
    }
    state.msgs.set(m.seq, m);
    added.push(m);
    if (m.sender === 'admin') {
      state.lastAuthor = m.author || state.lastAuthor;
    } else {
      // The stream may bring our own message before its POST answers.
      const o = state.outbox.find((x) => x.status === 'sending' && !x.seq && x.content === m.content);
      if (o) o.seq = m.seq;
    }
  }
  return added;
}

/** @returns {number} admin messages the visitor has not seen */
export function unreadCount() {
  let n = 0;
  for (const m of state.msgs.values()) if (m.sender === 'admin' && m.seq > state.readSeq) n++;
  return n;
}

/** Takes the room and token of a create or resume answer. */
export function adoptRoom(data) {
  const fresh = !state.session || state.session.roomId !== data.room.id;
  state.session = { roomId: data.room.id, token: data.token, ident: state.ident };
  state.room = data.room;
  state.email = !!data.email;
  state.readSeq = Math.max(fresh ? 0 : state.readSeq, data.room.visitorReadSeq || 0);
  state.adminReadSeq = Math.max(fresh ? 0 : state.adminReadSeq, data.room.adminReadSeq || 0);
  save();
}

/** Forgets the room (deleted, expired or gone), and the outbox unless keepOutbox. */
export function forgetRoom(keepOutbox) {
  state.session = null;
  state.room = null;
  state.msgs.clear();
  state.hasMore = false;
  state.streamSeq = 0;
  state.readSeq = 0;
  state.adminReadSeq = 0;
  state.adminsOnline = null;
  state.introDone = false;
  if (!keepOutbox) state.outbox = [];
  for (const o of state.outbox) delete o.seq;
  save();
}
