// Talking with the server: the visitor API and what its answers mean for the
// room (resumed or created, history, read marks, starting over when it is
// gone), and the room's event stream, read with the shared SSE reader and
// reconnected with backoff from the last seq.

import { announce, clearNotice, closed, hideTyping, nearBottom, notify, render, renderPresence, showTyping, ui } from './render.js';
import { t } from './i18n.js';
import { SSEReader, readEvents } from './sse.js';
import { adoptRoom, forgetRoom, state, storeMessages, unreadCount } from './store.js';

const API = '/api/v1';
const PAGE = 30;

/** @param {number} ms */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** @param {number} attempt 0, 1, 2… @returns {number} ms of exponential backoff with jitter */
export function backoff(attempt) {
  const base = Math.min(30000, 1000 * 2 ** attempt);
  return base / 2 + Math.random() * base / 2;
}

/**
 * Calls the visitor API (path under /api/v1, token by default the session's).
 * Resolves whatever the status; rejects only when the network fails.
 * @returns {Promise<{ok: boolean, status: number, data: *, wait: number}>}
 */
export async function api(method, path, body, token) {
  const headers = { Accept: 'application/json' };
  const auth = token === undefined ? state.session && state.session.token : token;
  if (auth) headers.Authorization = 'Bearer ' + auth;
  if (body) headers['Content-Type'] = 'application/json';
  const res = await fetch(API + path, {
    method, headers, body: body ? JSON.stringify(body) : undefined, cache: 'no-store', credentials: 'omit',
  });
  let data = null;
  if (res.status !== 204) {
    try {
      data = await res.json();
    } catch (e) {
      data = null;
    }
  }
  return { ok: res.ok, status: res.status, data, wait: parseInt(res.headers.get('Retry-After'), 10) || 0 };
}

/** Turns a failed answer into words for the visitor. @returns {{text: string, wait?: number}} */
export function problem(res) {
  switch (res.status) {
    case 429:
      return { text: t('slowDown', { n: res.wait || 30 }), wait: res.wait || 30 };
    case 503:
      return { text: t('unavailableKept') };
    case 403:
      closed();
      return { text: ui.input.placeholder };
    case 400:
    case 413:
      return { text: t('tooLong') };
    default:
      return { text: t('failed', { status: res.status }) };
  }
}

let tell;

/** @param {(msg: Object) => void} tellLoader */
export function initRoom(tellLoader) {
  tell = tellLoader;
}

/** Adds messages, ignoring known seqs; live ones are announced and told to the loader. */
export function addMessages(list, live) {
  const added = storeMessages(list);
  if (state.stale) return reload();
  if (live) {
    for (const m of added) {
      if (m.sender === 'admin') {
        hideTyping();
        announce(`${m.author || t('support')}: ${m.content}`);
        if (!nearBottom()) ui.jump.hidden = false;
      }
      tell({ type: 'message', message: m });
    }
  }
  if (added.length) {
    render();
    markRead();
  }
}

/** Posts the unread count to the loader when it changed. */
export function updateUnread() {
  const n = unreadCount();
  if (n !== state.unreadSent) {
    state.unreadSent = n;
    tell({ type: 'unread', count: n });
  }
}

/** Marks everything shown as read, when the visitor can see it. */
export function markRead() {
  if (!state.session || !state.visible || document.visibilityState !== 'visible' || !unreadCount()) return;
  const seq = Math.max(...state.msgs.keys());
  state.readSeq = seq;
  updateUnread();
  api('POST', `/rooms/${state.session.roomId}/read`, { seq }).catch(() => {});
}

/** Takes the room and token of a create or resume answer. */
export function adopt(data) {
  adoptRoom(data);
  renderPresence();
  reportPage();
}

let reported = '';

/** Tells the agents the page the visitor is on, once they opened the chat and have a room. */
export function reportPage() {
  if (!state.session || !state.opened || !state.page) return;
  const key = state.session.roomId + ' ' + state.page + ' ' + state.pageTitle;
  if (key === reported) return;
  reported = key;
  api('POST', `/rooms/${state.session.roomId}/pages`, {
    url: state.page, title: state.pageTitle, referrer: state.referrer || undefined,
    timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone, language: navigator.language,
  }).catch(() => { reported = ''; });
}

/** Forgets the room (deleted, expired or gone), and the outbox unless keepOutbox, and says text. */
export function reset(text, keepOutbox) {
  stopStream();
  forgetRoom(keepOutbox);
  roomPromise = null;
  renderPresence();
  render('bottom');
  notify(text);
}

/**
 * Resumes the saved room: a fresh token, the latest messages, the stream.
 * On 401/404 the old room is gone and the visitor starts fresh.
 */
export async function resume() {
  const s = state.session;
  for (let attempt = 0; attempt < 8 && s && state.session === s; attempt++) {
    let res;
    try {
      // Ask about the saved room first: resuming with a token that is no
      // longer good would open a new, empty conversation for nothing.
      const check = await api('GET', `/rooms/${s.roomId}`);
      if (state.session !== s) return; // another user signed in meanwhile
      if (check.status === 401 || check.status === 403 || check.status === 404) return reset('', true);
      if (check.ok && check.data.room.blocked) {
        state.room = check.data.room;
        closed();
        await loadLatest();
        return connect();
      }
      const body = { page: state.page || undefined, name: state.identity.name || undefined, email: state.identity.email || undefined };
      res = await api('POST', '/rooms', body);
      if (state.session !== s) return;
    } catch (e) {
      notify(t('connecting'), 'net');
      await sleep(backoff(attempt));
      continue;
    }
    if (res.ok && res.data && res.data.room) {
      clearNotice('net');
      const same = state.session && state.session.roomId === res.data.room.id;
      if (!same) reset('', true);
      const known = same && state.msgs.size > 0;
      adopt(res.data);
      if (!known) await loadLatest();
      return connect(); // the stream replays anything after the last seq seen
    }
    if (res.status === 401 || res.status === 404) return reset('', true);
    if (res.status === 403) return problem(res);
    notify(problem(res).text, 'net');
    await sleep(res.wait ? res.wait * 1000 : backoff(attempt));
  }
  if (s && state.session === s) notify(t('unavailableLater'), 'net');
}

/** Drops every message and loads them again (reset). */
function reload() {
  stopStream();
  state.msgs.clear();
  state.streamSeq = 0;
  state.stale = false;
  render();
  resume();
}

/** Loads the newest page of messages. */
async function loadLatest() {
  const last = state.room.lastMessage;
  if (!last) return;
  const res = await api('GET', `/rooms/${state.session.roomId}/messages?before=${last.seq + 1}&limit=${PAGE}`).catch(() => null);
  if (!res || !res.ok) return;
  state.hasMore = res.data.hasMore;
  state.streamSeq = Math.max(state.streamSeq, last.seq);
  addMessages(res.data.messages, false);
  render('bottom');
}

let loadingOlder = false;

/** Loads the page of messages before the oldest one shown. */
export async function loadOlder() {
  if (loadingOlder || !state.hasMore || !state.session || !state.msgs.size) return;
  loadingOlder = true;
  ui.older.textContent = t('loading');
  try {
    const first = Math.min(...state.msgs.keys());
    const res = await api('GET', `/rooms/${state.session.roomId}/messages?before=${first}&limit=${PAGE}`);
    if (res.ok) {
      state.hasMore = res.data.hasMore;
      for (const m of res.data.messages) if (!state.msgs.has(m.seq)) state.msgs.set(m.seq, m);
      render('top');
    }
  } catch (e) {
    /* the button stays; the visitor can try again */
  } finally {
    loadingOlder = false;
    ui.older.textContent = t('older');
  }
}

let roomPromise = null;

/**
 * Makes sure a room exists, creating it with what the visitor told.
 * @returns {Promise<?{text: string, wait?: number}>} null when ready, else the problem
 */
export function ensureRoom() {
  if (state.session) return Promise.resolve(null);
  if (!roomPromise) {
    roomPromise = (async () => {
      const { name, email } = state.identity;
      const res = await api('POST', '/rooms', { name: name || undefined, email: email || undefined, page: state.page || undefined, ...state.verify }, '');
      if (res.ok && res.data && res.data.room) {
        adopt(res.data);
        if (res.status === 200) await loadLatest(); // a signed-in user's room, from another device
        connect();
        return null;
      }
      return problem(res);
    })().finally(() => { roomPromise = null; });
  }
  return roomPromise;
}

/** Handles one event of the room's stream. */
function onEvent(type, data) {
  if (type === 'message') {
    if (data.seq > state.streamSeq + 1) catchUp(state.streamSeq);
    state.streamSeq = Math.max(state.streamSeq, data.seq);
    addMessages([data], true);
  } else if (type === 'typing') {
    if (data.sender === 'admin') showTyping();
  } else if (type === 'read') {
    if (data.sender === 'admin' && data.seq > state.adminReadSeq) {
      state.adminReadSeq = data.seq;
      render();
    }
  } else if (type === 'presence') {
    state.adminsOnline = !!data.adminsOnline;
    if (typeof data.open === 'boolean') takeHours(data);
    renderPresence();
  } else if (type === 'reset') {
    reload();
  } else if (type === 'room.deleted') {
    reset(t('closedNew'), false);
  }
}

let hoursTimer = 0;

/**
 * Takes the business hours' state and reads it again when it changes
 * (nextOpen or closesAt).
 * @param {{open: boolean, nextOpen?: string, closesAt?: string}} h
 */
function takeHours(h) {
  state.hours = { open: h.open, nextOpen: h.nextOpen, closesAt: h.closesAt };
  clearTimeout(hoursTimer);
  const at = Date.parse(h.open ? h.closesAt : h.nextOpen);
  if (at) hoursTimer = setTimeout(loadHours, Math.min(Math.max(at - Date.now(), 0) + 500, 2 ** 31 - 1));
}

/** Asks the server about the business hours (the panel has no room yet, or the state is due to change). */
export async function loadHours() {
  const res = await api('GET', '/hours', undefined, '').catch(() => null);
  if (!res || !res.ok || !res.data || typeof res.data.open !== 'boolean') return;
  if (res.data.email) state.email = true;
  takeHours(res.data);
  renderPresence();
}

/** Fetches messages after seq, should the stream ever skip one. */
function catchUp(seq) {
  if (!state.session) return;
  api('GET', `/rooms/${state.session.roomId}/messages?after=${seq}&limit=200`)
    .then((res) => { if (res.ok) addMessages(res.data.messages, false); })
    .catch(() => {});
}

let streamCtl = null;
let streamTimer = 0;
let streamAttempt = 0;
let retryMs = 0;
let liveTimer = 0;

/** Opens the room's event stream (once). */
export function connect() {
  if (!state.session || streamCtl) return;
  clearTimeout(streamTimer);
  const ctl = new AbortController();
  streamCtl = ctl;
  readStream(ctl).then((wait) => {
    if (streamCtl !== ctl) return; // stopped on purpose
    streamCtl = null;
    if (wait < 0) return;
    clearTimeout(liveTimer);
    liveTimer = setTimeout(() => notify(t('reconnecting'), 'net'), 4000);
    streamTimer = setTimeout(connect, wait || retryMs || backoff(streamAttempt++));
  });
}

/** Closes the stream and cancels any reconnect. */
export function stopStream() {
  const ctl = streamCtl;
  streamCtl = null;
  clearTimeout(streamTimer);
  clearTimeout(liveTimer);
  if (ctl) ctl.abort();
}

/**
 * Reads the stream until it ends.
 * @param {AbortController} ctl
 * @returns {Promise<number>} ms to wait before reconnecting (0: backoff), -1 to stay down
 */
async function readStream(ctl) {
  const s = state.session;
  let res;
  try {
    const last = state.msgs.get(state.streamSeq);
    res = await fetch(`${API}/rooms/${s.roomId}/events${last ? '?lastId=' + last.id : ''}`, {
      headers: { Accept: 'text/event-stream', Authorization: 'Bearer ' + s.token, 'Last-Event-ID': String(state.streamSeq) },
      signal: ctl.signal, cache: 'no-store', credentials: 'omit',
    });
  } catch (e) {
    return 0;
  }
  if (res.status === 404) {
    reset(t('ended'), true);
    return -1;
  }
  if (res.status === 401) {
    // The token expired: resuming renews it (and reconnects), or starts fresh.
    setTimeout(() => { stopStream(); resume(); }, 0);
    return -1;
  }
  if (res.status === 403) return -1;
  if (!res.ok || !res.body) return (parseInt(res.headers.get('Retry-After'), 10) || 0) * 1000;
  clearTimeout(liveTimer);
  clearNotice('net');
  // id: is each message's seq, which the message itself carries.
  const reader = new SSEReader((ev) => {
    let data;
    try {
      data = JSON.parse(ev.data);
    } catch (e) {
      return;
    }
    onEvent(ev.event, data);
  });
  let watchdog = 0;
  const kick = () => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => ctl.abort(), 60000); // pings come every 25 s at most
  };
  kick();
  try {
    await readEvents(res, reader, () => {
      kick();
      streamAttempt = 0;
    });
  } catch (e) {
    /* aborted or cut: reconnect */
  } finally {
    clearTimeout(watchdog);
    retryMs = reader.retry || retryMs;
  }
  return 0;
}
