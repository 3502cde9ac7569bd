/*
 * Parley chat panel, served at /widget/frame.html inside the loader's iframe
 * (it also works opened on its own, which helps when testing).
 *
 * It alone holds the visitor token (in the localStorage of Parley's origin),
 * speaks the visitor API, reads the room's event stream with fetch and tells
 * the loader about unread and new messages by postMessage. Runs under
 * `Content-Security-Policy: default-src 'self'`: no inline script or style.
 */
(function () {
  'use strict';

  const API = '/api/v1';
  const params = new URLSearchParams(location.search);
  const embedded = window.parent !== window;
  const hostOrigin = embedded ? params.get('origin') || '' : location.origin;
  const KEY = 'parley:' + hostOrigin;
  const PAGE = 30;

  /** @param {string} id */
  const $ = (id) => document.getElementById(id);
  const ui = {
    title: $('title'), status: $('status'), statusText: $('status-text'), del: $('delete'), close: $('close'),
    away: $('away'), awayText: $('away-text'), awayRow: $('away-row'), awayEmail: $('away-email'),
    scroll: $('scroll'), older: $('older'), greeting: $('greeting'), list: $('list'),
    intro: $('intro'), name: $('intro-name'), email: $('intro-email'), introError: $('intro-error'),
    typing: $('typing'), typingText: $('typing-text'), jump: $('jump'), notice: $('notice'),
    composer: $('composer'), input: $('input'), confirm: $('confirm'), cancel: $('confirm-cancel'),
    ok: $('confirm-ok'), live: $('live'),
  };

  const state = {
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
    visible: !embedded,
    identity: { name: '', email: '' },
    page: '',
    unreadSent: -1,
    lastAuthor: '',
    introDone: false,
  };

  // ---------------------------------------------------------------- helpers

  /** @param {number} ms */
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /**
   * Exponential backoff with jitter.
   * @param {number} attempt 0, 1, 2…
   * @returns {number} milliseconds
   */
  function backoff(attempt) {
    const base = Math.min(30000, 1000 * 2 ** attempt);
    return base / 2 + Math.random() * base / 2;
  }

  /** @returns {string} a random id for idempotent sends */
  function newClientId() {
    const b = new Uint8Array(12);
    crypto.getRandomValues(b);
    return 'w' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }

  /**
   * Tells whether s is an origin such as https://example.com.
   * @param {string} s
   */
  function isOrigin(s) {
    try {
      return new URL(s).origin === s;
    } catch (e) {
      return false;
    }
  }

  /**
   * Calls the visitor API. Resolves with the answer whatever its status;
   * rejects only when the network fails (the caller may then retry).
   * @param {string} method
   * @param {string} path under /api/v1
   * @param {Object} [body]
   * @param {string} [token] defaults to the session's
   * @returns {Promise<{ok: boolean, status: number, data: *, wait: number}>}
   */
  async function api(method, path, body, token) {
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

  /**
   * Turns a failed answer into words for the visitor.
   * @param {{status: number, wait: number}} res
   * @returns {{text: string, wait?: number}}
   */
  function problem(res) {
    switch (res.status) {
      case 429:
        return { text: `Slow down a little — you can send again in ${res.wait || 30} s.`, wait: res.wait || 30 };
      case 503:
        return { text: 'Chat is unavailable right now. Your text is kept — try again in a moment.' };
      case 403:
        return { text: 'You can no longer send messages in this conversation.' };
      case 400:
      case 413:
        return { text: 'This message could not be sent. Is it too long?' };
      default:
        return { text: `Something went wrong (error ${res.status}). Your text is kept.` };
    }
  }

  /** Loads the saved session and unsent messages of this site. */
  function load() {
    try {
      return JSON.parse(localStorage.getItem(KEY)) || {};
    } catch (e) {
      return {};
    }
  }

  /** Saves the session and the unsent messages (so a reload resends them, safely, by clientId). */
  function save() {
    const outbox = state.outbox.map((o) => ({ clientId: o.clientId, content: o.content }));
    try {
      if (!state.session && !outbox.length) localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, JSON.stringify({ ...state.session, outbox }));
    } catch (e) {
      /* storage blocked: the conversation lasts as long as the page */
    }
  }

  /**
   * Sends a message to the loader, naming its exact origin.
   * @param {Object} msg
   */
  function tell(msg) {
    if (embedded) window.parent.postMessage({ ...msg, parley: 1 }, hostOrigin);
  }

  /**
   * Shows or clears the notice above the composer (a polite live region).
   * @param {string} [text]
   * @param {string} [kind] what it is about: 'send', 'net' or '' (information)
   */
  function notify(text, kind) {
    ui.notice.textContent = text || '';
    ui.notice.hidden = !text;
    ui.notice.dataset.kind = kind || '';
    ui.notice.className = 'notice' + (kind ? ' warn' : '');
  }

  /**
   * Clears the notice if it is of the given kind.
   * @param {string} kind
   */
  function clearNotice(kind) {
    if (ui.notice.dataset.kind === kind) notify('');
  }

  /**
   * Says something to screen readers.
   * @param {string} text
   */
  function announce(text) {
    ui.live.textContent = '';
    setTimeout(() => { ui.live.textContent = text; }, 50);
  }

  // ----------------------------------------------------------------- render

  const timeFmt = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
  const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });

  /**
   * Names a day relative to today.
   * @param {Date} d
   */
  function dayLabel(d) {
    const today = new Date();
    const diff = Math.round((new Date(today.toDateString()) - new Date(d.toDateString())) / 864e5);
    if (diff === 0) return 'Today';
    if (diff === 1) return 'Yesterday';
    return d.toLocaleDateString(undefined, {
      weekday: 'long', month: 'long', day: 'numeric',
      year: d.getFullYear() === today.getFullYear() ? undefined : 'numeric',
    });
  }

  /**
   * Creates an element with a class and optional text.
   * @param {string} tag
   * @param {string} [cls]
   * @param {string} [text]
   */
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }

  /**
   * The items to draw, in order: stored messages, then unsent ones.
   * @returns {Array<Object>}
   */
  function items() {
    const out = [...state.msgs.values()].sort((a, b) => a.seq - b.seq)
      .map((m) => ({ ...m, date: new Date(m.createdAt) }));
    const now = new Date();
    for (const o of state.outbox) {
      if (o.seq && state.msgs.has(o.seq)) continue; // its stored copy is already drawn
      out.push({ sender: 'visitor', author: '', content: o.content, date: now, pending: o });
    }
    return out;
  }

  /**
   * Draws one message.
   * @param {Object} m an item
   * @param {boolean} first first of a group from the same side
   * @param {boolean} last last of that group
   * @param {number} seenSeq the visitor message to mark "Seen"
   */
  function drawMessage(m, first, last, seenSeq) {
    const mine = m.sender === 'visitor';
    const li = el('li', `msg ${mine ? 'me' : 'them'}${first ? ' first' : ''}${last ? ' last' : ''}`);
    if (!mine && first) li.append(el('div', 'who', m.author || 'Support'));
    const bubble = el('div', 'bubble');
    bubble.append(el('p', 'text', m.content));
    if (!m.pending) bubble.title = fullFmt.format(m.date);
    li.append(bubble);
    const o = m.pending;
    if (o && o.status === 'failed') {
      li.classList.add('failed');
      const meta = el('div', 'meta error', 'Not sent.');
      meta.title = o.error || '';
      const retry = el('button', 'link-btn', 'Retry');
      retry.type = 'button';
      retry.addEventListener('click', retryAll);
      const drop = el('button', 'link-btn', 'Discard');
      drop.type = 'button';
      drop.addEventListener('click', () => discard(o));
      meta.append(' ', retry, ' · ', drop);
      li.append(meta);
    } else if (o) {
      li.classList.add('pending');
      if (last) li.append(el('div', 'meta', 'Sending…'));
    } else if (last || m.seq === seenSeq) {
      const meta = el('div', 'meta');
      const time = el('time', '', timeFmt.format(m.date));
      time.dateTime = m.createdAt;
      meta.append(time);
      if (m.seq === seenSeq) meta.append(' · Seen');
      li.append(meta);
    }
    return li;
  }

  /**
   * Redraws the conversation.
   * @param {string} [keep] 'bottom' to scroll to the end, 'top' after loading older messages
   */
  function render(keep) {
    const sc = ui.scroll;
    const fromBottom = sc.scrollHeight - sc.scrollTop;
    const atBottom = fromBottom - sc.clientHeight < 64;
    const all = items();
    let seenSeq = 0;
    for (const m of all) if (m.sender === 'visitor' && m.seq && m.seq <= state.adminReadSeq) seenSeq = m.seq;
    const nodes = [];
    let prevDay = '';
    all.forEach((m, i) => {
      const day = m.date.toDateString();
      if (day !== prevDay) {
        nodes.push(el('li', 'day', dayLabel(m.date)));
        prevDay = day;
      }
      const same = (a, b) => a && b && a.sender === b.sender && a.author === b.author &&
        a.date.toDateString() === b.date.toDateString() && Math.abs(a.date - b.date) < 5 * 60000;
      nodes.push(drawMessage(m, !same(all[i - 1], m), !same(m, all[i + 1]), seenSeq));
    });
    ui.list.replaceChildren(...nodes);
    ui.older.hidden = !state.hasMore;
    ui.greeting.hidden = state.hasMore;
    ui.intro.hidden = !!state.session || state.introDone || (!!state.identity.name && !!state.identity.email);
    ui.del.hidden = !state.session;
    if (keep === 'top') sc.scrollTop = sc.scrollHeight - fromBottom;
    else if (keep === 'bottom' || atBottom) sc.scrollTop = sc.scrollHeight;
    updateUnread();
  }

  /** Shows the admins' presence and, when nobody is in, asks for an email. */
  function renderPresence() {
    const on = state.adminsOnline;
    ui.status.className = 'status' + (on === true ? ' online' : on === false ? ' offline' : '');
    ui.statusText.textContent = on === true ? 'Online now' : on === false ? 'Away — we will reply later' : 'Ask us anything';
    const email = (state.room && state.room.visitorEmail) || state.identity.email;
    ui.away.hidden = on !== false;
    ui.awayRow.hidden = !!email;
    ui.awayText.textContent = email
      ? `No one is online right now. Your messages are kept; we will answer at ${email}.`
      : 'No one is online right now. Leave your email and we will answer there.';
  }

  // ----------------------------------------------------------- conversation

  /**
   * Adds messages, ignoring any seq already known.
   * @param {Array<Object>} list
   * @param {boolean} live they just happened (announce them, tell the loader)
   */
  function addMessages(list, live) {
    let added = false;
    for (const m of list) {
      if (!m || !m.seq || state.msgs.has(m.seq)) continue;
      state.msgs.set(m.seq, m);
      added = true;
      if (m.sender === 'admin') {
        state.lastAuthor = m.author || state.lastAuthor;
        if (live) {
          hideTyping();
          announce(`${m.author || 'Support'}: ${m.content}`);
          if (!nearBottom()) ui.jump.hidden = false;
        }
      } else {
        // The stream may bring our own message before its POST answers.
        const o = state.outbox.find((x) => x.status === 'sending' && !x.seq && x.content === m.content);
        if (o) o.seq = m.seq;
      }
      if (live) tell({ type: 'message', message: m });
    }
    if (added) {
      render();
      markRead();
    }
  }

  /** @returns {boolean} the conversation is scrolled (nearly) to its end */
  function nearBottom() {
    const sc = ui.scroll;
    return sc.scrollHeight - sc.scrollTop - sc.clientHeight < 64;
  }

  /** @returns {number} admin messages the visitor has not seen */
  function unreadCount() {
    let n = 0;
    for (const m of state.msgs.values()) if (m.sender === 'admin' && m.seq > state.readSeq) n++;
    return n;
  }

  /** Posts the unread count to the loader when it changed. */
  function updateUnread() {
    const n = unreadCount();
    if (n !== state.unreadSent) {
      state.unreadSent = n;
      tell({ type: 'unread', count: n });
    }
  }

  /** @returns {boolean} the visitor can see the panel right now */
  function seen() {
    return state.visible && document.visibilityState === 'visible';
  }

  /** Marks everything shown as read, when the visitor can see it. */
  function markRead() {
    if (!state.session || !seen() || !unreadCount()) return;
    const seq = Math.max(...state.msgs.keys());
    state.readSeq = seq;
    updateUnread();
    api('POST', `/rooms/${state.session.roomId}/read`, { seq }).catch(() => {});
  }

  /**
   * Takes a room and token from a create or resume answer.
   * @param {{room: Object, token: string}} data
   */
  function adopt(data) {
    const fresh = !state.session || state.session.roomId !== data.room.id;
    state.session = { roomId: data.room.id, token: data.token };
    state.room = data.room;
    state.readSeq = Math.max(fresh ? 0 : state.readSeq, data.room.visitorReadSeq || 0);
    state.adminReadSeq = Math.max(fresh ? 0 : state.adminReadSeq, data.room.adminReadSeq || 0);
    save();
    renderPresence();
  }

  /**
   * Forgets the conversation (deleted, expired or gone) and starts over.
   * @param {string} text what to tell the visitor
   * @param {boolean} keepOutbox keep unsent messages for the next room
   */
  function reset(text, keepOutbox) {
    stopStream();
    state.session = null;
    state.room = null;
    state.msgs.clear();
    state.hasMore = false;
    state.streamSeq = 0;
    state.readSeq = 0;
    state.adminReadSeq = 0;
    state.adminsOnline = null;
    state.introDone = false;
    roomPromise = null;
    if (!keepOutbox) state.outbox = [];
    for (const o of state.outbox) delete o.seq;
    save();
    renderPresence();
    render('bottom');
    notify(text);
  }

  /**
   * Resumes the saved room: a fresh token, the latest messages, the stream.
   * On 401/404 the old room is gone and the visitor starts fresh.
   */
  async function resume() {
    for (let attempt = 0; attempt < 8; attempt++) {
      let res;
      try {
        // Ask about the saved room first: resuming with a token that is no
        // longer good would open a new, empty conversation for nothing.
        const check = await api('GET', `/rooms/${state.session.roomId}`);
        if (check.status === 401 || check.status === 403 || check.status === 404) return reset('', true);
        const body = { page: state.page || undefined, name: state.identity.name || undefined, email: state.identity.email || undefined };
        res = await api('POST', '/rooms', body);
      } catch (e) {
        notify('Connecting…', 'net');
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
      if (res.status === 403) return notify(problem(res).text, 'send');
      notify(problem(res).text, 'net');
      await sleep(res.wait ? res.wait * 1000 : backoff(attempt));
    }
    notify('Chat is unavailable right now. Please try again later.', 'net');
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
  async function loadOlder() {
    if (loadingOlder || !state.hasMore || !state.session || !state.msgs.size) return;
    loadingOlder = true;
    ui.older.textContent = 'Loading…';
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
      ui.older.textContent = 'Show earlier messages';
    }
  }

  let roomPromise = null;

  /**
   * Makes sure a room exists, creating it with what the visitor told.
   * @returns {Promise<?{text: string, wait?: number}>} null when ready, else the problem
   */
  function ensureRoom() {
    if (state.session) return Promise.resolve(null);
    if (!roomPromise) {
      roomPromise = (async () => {
        const { name, email } = state.identity;
        const res = await api('POST', '/rooms', { name: name || undefined, email: email || undefined, page: state.page || undefined }, '');
        if (res.ok && res.data && res.data.room) {
          adopt(res.data);
          connect();
          return null;
        }
        return problem(res);
      })().finally(() => { roomPromise = null; });
    }
    return roomPromise;
  }

  /** Reads the intro form before the first message; false when the email is invalid. */
  function takeIntro() {
    if (ui.intro.hidden) return true;
    const email = ui.email.value.trim();
    if (email && !ui.email.checkValidity()) {
      ui.introError.hidden = false;
      ui.email.setAttribute('aria-invalid', 'true');
      ui.email.focus();
      return false;
    }
    ui.introError.hidden = true;
    ui.email.removeAttribute('aria-invalid');
    state.identity = { name: ui.name.value.trim() || state.identity.name, email: email || state.identity.email };
    state.introDone = true;
    return true;
  }

  /** Queues the composer's text as a message and sends it. */
  function submit() {
    const content = ui.input.value.trim();
    if (!content || !takeIntro()) return;
    state.outbox.push({ clientId: newClientId(), content, status: 'queued' });
    save();
    ui.input.value = '';
    autosize();
    render('bottom');
    flush();
  }

  let flushing = false;

  /** Sends queued messages one at a time, in order. */
  async function flush() {
    if (flushing) return;
    flushing = true;
    try {
      let o;
      while ((o = state.outbox.find((x) => x.status === 'queued'))) {
        o.status = 'sending';
        render();
        const err = await deliver(o);
        if (err) {
          for (const x of state.outbox) {
            if (x.status !== 'failed' && x.status !== 'done') {
              x.status = 'failed';
              x.error = err.text;
              delete x.seq;
            }
          }
          notify(err.text, 'send');
          render();
          if (err.wait) setTimeout(retryAll, err.wait * 1000);
          break;
        }
        clearNotice('send');
        clearNotice('net');
      }
    } finally {
      flushing = false;
    }
  }

  /**
   * Delivers one message. Network failures are retried with the same
   * clientId, so the server stores it once however often it arrives.
   * @param {Object} o an outbox entry
   * @returns {Promise<?{text: string, wait?: number}>} null when stored
   */
  async function deliver(o) {
    let recovered = false;
    for (let attempt = 0; ; attempt++) {
      let res;
      try {
        const err = await ensureRoom();
        if (err) return err;
        res = await api('POST', `/rooms/${state.session.roomId}/messages`, { content: o.content, clientId: o.clientId });
      } catch (e) {
        if (attempt >= 5) return { text: 'Not sent — you seem to be offline. Your text is kept.' };
        notify('Connection lost — retrying…', 'net');
        await sleep(backoff(attempt));
        continue;
      }
      if (res.ok && res.data && res.data.message) {
        o.status = 'done';
        state.outbox = state.outbox.filter((x) => x !== o);
        save();
        if (state.msgs.has(res.data.message.seq)) render();
        else addMessages([res.data.message], true);
        return null;
      }
      if ((res.status === 401 || res.status === 404) && !recovered) {
        // The room expired or was deleted: the message goes to a new one.
        recovered = true;
        reset('Your previous conversation has ended. Starting a new one.', true);
        continue;
      }
      return problem(res);
    }
  }

  /** Sends every failed message again, in order. */
  function retryAll() {
    for (const o of state.outbox) if (o.status === 'failed') o.status = 'queued';
    flush();
  }

  /**
   * Drops an unsent message.
   * @param {Object} o
   */
  function discard(o) {
    state.outbox = state.outbox.filter((x) => x !== o);
    save();
    render();
    if (!state.outbox.some((x) => x.status === 'failed')) clearNotice('send');
    ui.input.focus();
  }

  /**
   * Stores the email given while no admin is online. The resume call carries
   * it; if the server keeps the room's first details, it goes as a message.
   * @param {string} email
   */
  async function saveEmail(email) {
    state.identity.email = email;
    if (!state.session) return renderPresence();
    try {
      const res = await api('POST', '/rooms', { email, page: state.page || undefined });
      if (res.ok && res.data && res.data.room) adopt(res.data);
    } catch (e) {
      /* falls through to the message */
    }
    if (!state.room || state.room.visitorEmail !== email) {
      state.outbox.push({ clientId: newClientId(), content: `My email for your answer: ${email}`, status: 'queued' });
      state.room = { ...state.room, visitorEmail: email };
      save();
      render('bottom');
      flush();
    }
    renderPresence();
  }

  // ----------------------------------------------------------------- typing

  let typingSent = 0;
  let typingTimer = 0;

  /** Tells the admins the visitor is typing, at most every 3 s. */
  function sendTyping() {
    const now = Date.now();
    if (!state.session || !ui.input.value.trim() || now - typingSent < 3000) return;
    typingSent = now;
    api('POST', `/rooms/${state.session.roomId}/typing`).catch(() => {});
  }

  /** Shows that an admin is typing, for 5 s. */
  function showTyping() {
    const stick = nearBottom();
    ui.typingText.textContent = `${state.lastAuthor || 'Support'} is typing…`;
    ui.typing.hidden = false;
    if (stick) ui.scroll.scrollTop = ui.scroll.scrollHeight;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, 5000);
  }

  /** Hides the typing indicator. */
  function hideTyping() {
    clearTimeout(typingTimer);
    ui.typing.hidden = true;
  }

  // ----------------------------------------------------------------- stream

  let streamCtl = null;
  let streamTimer = 0;
  let streamAttempt = 0;
  let retryMs = 0;
  let liveTimer = 0;

  /**
   * Returns a function that parses Server-Sent Events from decoded text chunks.
   * @param {function(string, string): void} onEvent called with type and data
   */
  function sseParser(onEvent) {
    let buf = '';
    let cr = false;
    let type = '';
    let data = [];
    return (chunk) => {
      if (cr && chunk[0] === '\n') chunk = chunk.slice(1);
      cr = chunk.endsWith('\r');
      const lines = (buf + chunk).split(/\r\n|\r|\n/);
      buf = lines.pop();
      for (const line of lines) {
        if (line === '') {
          if (data.length) onEvent(type || 'message', data.join('\n'));
          type = '';
          data = [];
          continue;
        }
        if (line[0] === ':') continue; // a comment: keep-alive
        const i = line.indexOf(':');
        const field = i < 0 ? line : line.slice(0, i);
        let value = i < 0 ? '' : line.slice(i + 1);
        if (value[0] === ' ') value = value.slice(1);
        if (field === 'data') data.push(value);
        else if (field === 'event') type = value;
        else if (field === 'retry' && /^\d+$/.test(value)) retryMs = +value;
        // id: is each message's seq, which the message itself carries.
      }
    };
  }

  /**
   * Handles one event of the room's stream.
   * @param {string} type
   * @param {string} raw JSON
   */
  function onEvent(type, raw) {
    let data;
    try {
      data = JSON.parse(raw);
    } catch (e) {
      return;
    }
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
      renderPresence();
    } else if (type === 'room.deleted') {
      reset('This conversation was closed. You can start a new one any time.', false);
    }
  }

  /**
   * Fetches messages after seq, should the stream ever skip one.
   * @param {number} seq
   */
  function catchUp(seq) {
    if (!state.session) return;
    api('GET', `/rooms/${state.session.roomId}/messages?after=${seq}&limit=200`)
      .then((res) => { if (res.ok) addMessages(res.data.messages, false); })
      .catch(() => {});
  }

  /** Opens the room's event stream (once). */
  function connect() {
    if (!state.session || streamCtl) return;
    clearTimeout(streamTimer);
    const ctl = new AbortController();
    streamCtl = ctl;
    readStream(ctl).then((wait) => {
      if (streamCtl !== ctl) return; // stopped on purpose
      streamCtl = null;
      if (wait < 0) return;
      clearTimeout(liveTimer);
      liveTimer = setTimeout(() => notify('Reconnecting…', 'net'), 4000);
      streamTimer = setTimeout(connect, wait || retryMs || backoff(streamAttempt++));
    });
  }

  /** Closes the stream and cancels any reconnect. */
  function stopStream() {
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
      res = await fetch(`${API}/rooms/${s.roomId}/events`, {
        headers: { Accept: 'text/event-stream', Authorization: 'Bearer ' + s.token, 'Last-Event-ID': String(state.streamSeq) },
        signal: ctl.signal, cache: 'no-store', credentials: 'omit',
      });
    } catch (e) {
      return 0;
    }
    if (res.status === 404) {
      reset('This conversation has ended. You can start a new one any time.', true);
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
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    const parse = sseParser(onEvent);
    let watchdog = 0;
    const kick = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => ctl.abort(), 60000); // pings come every 25 s at most
    };
    kick();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        kick();
        streamAttempt = 0;
        parse(decoder.decode(value, { stream: true }));
      }
    } catch (e) {
      /* aborted or cut: reconnect below */
    } finally {
      clearTimeout(watchdog);
    }
    return 0;
  }

  // ------------------------------------------------------------------ panel

  /**
   * Shows or hides the panel (as the loader says).
   * @param {boolean} visible
   * @param {boolean} [focus] move focus to the composer
   */
  function setVisible(visible, focus) {
    state.visible = visible;
    if (!visible) return;
    if (focus) ui.input.focus();
    if (!ui.jump.hidden || nearBottom()) {
      ui.scroll.scrollTop = ui.scroll.scrollHeight;
      ui.jump.hidden = true;
    }
    markRead();
  }

  /**
   * Takes what the host page knows about the visitor.
   * @param {string} name
   * @param {string} email
   */
  function identify(name, email) {
    state.identity = { name: name.slice(0, 80), email: email.slice(0, 254) };
    if (!ui.name.value) ui.name.value = state.identity.name;
    if (!ui.email.value) ui.email.value = state.identity.email;
    render();
    renderPresence();
  }

  /**
   * Handles a message from the loader: only from the host page's origin and our parent window.
   * @param {MessageEvent} e
   */
  function receive(e) {
    const m = e.data;
    if (e.source !== window.parent || e.origin !== hostOrigin || !m || m.parley !== 1) return;
    if (m.type === 'open') {
      if (typeof m.page === 'string' && /^https?:/.test(m.page)) state.page = m.page.slice(0, 2048);
      setVisible(true, m.focus);
    } else if (m.type === 'close') {
      setVisible(false);
    } else if (m.type === 'identify') {
      identify(String(m.name || ''), String(m.email || ''));
    } else if (m.type === 'layout') {
      document.documentElement.classList.toggle('full', !!m.full);
    }
  }

  /**
   * Shows or hides the in-panel confirmation; the rest of the panel is inert meanwhile.
   * @param {boolean} show
   */
  function showConfirm(show) {
    ui.confirm.hidden = !show;
    for (const c of $('panel').children) if (c !== ui.confirm) c.inert = show;
  }

  /** Opens the in-panel confirmation for deleting the conversation. */
  function askDelete() {
    showConfirm(true);
    ui.cancel.focus();
  }

  /** Closes the confirmation. */
  function cancelDelete() {
    showConfirm(false);
    ui.del.focus();
  }

  /** Erases the conversation on the server, then here. */
  async function doDelete() {
    ui.ok.disabled = true;
    try {
      const res = await api('DELETE', `/rooms/${state.session.roomId}`);
      showConfirm(false);
      if (res.ok || res.status === 404 || res.status === 401) {
        reset('Your conversation was deleted.', false);
        ui.input.focus();
      } else {
        notify(res.status === 503 ? 'Chat is unavailable right now. Please try again in a moment.' : problem(res).text, 'send');
      }
    } catch (e) {
      showConfirm(false);
      notify('Could not reach the chat. Please try again.', 'net');
    } finally {
      ui.ok.disabled = false;
    }
  }

  /** Grows the composer with its text, up to a limit. */
  function autosize() {
    ui.input.style.height = 'auto';
    ui.input.style.height = Math.min(ui.input.scrollHeight, 132) + 'px';
  }

  /** Applies the title, greeting and colour the loader passed in the URL. */
  function configure() {
    const title = (params.get('title') || 'Chat with us').slice(0, 80);
    const greeting = (params.get('greeting') || 'Hi! How can we help you today?').slice(0, 500);
    const color = params.get('color') || '';
    document.title = title;
    ui.title.textContent = title;
    $('greeting-who').textContent = title;
    $('greeting-text').textContent = greeting;
    if (/^#([0-9a-f]{3}){1,2}$/i.test(color)) {
      let h = color.slice(1);
      if (h.length === 3) h = h.replace(/./g, '$&$&');
      const n = parseInt(h, 16);
      const y = 0.299 * (n >> 16) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255);
      document.documentElement.style.setProperty('--accent', color);
      document.documentElement.style.setProperty('--on-accent', y > 160 ? '#111' : '#fff');
    }
    if (!embedded) document.documentElement.classList.add('standalone', 'full');
  }

  /** Wires the controls. */
  function bind() {
    ui.composer.addEventListener('submit', (e) => {
      e.preventDefault();
      submit();
    });
    ui.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        submit();
      }
    });
    ui.input.addEventListener('input', () => {
      autosize();
      sendTyping();
    });
    ui.intro.addEventListener('submit', (e) => {
      e.preventDefault();
      ui.input.focus();
    });
    ui.away.addEventListener('submit', (e) => {
      e.preventDefault();
      const email = ui.awayEmail.value.trim();
      if (!email || !ui.awayEmail.checkValidity()) {
        ui.awayEmail.setAttribute('aria-invalid', 'true');
        ui.awayEmail.focus();
        return;
      }
      ui.awayEmail.removeAttribute('aria-invalid');
      saveEmail(email);
    });
    ui.scroll.addEventListener('scroll', () => {
      if (ui.scroll.scrollTop < 80) loadOlder();
      if (nearBottom()) ui.jump.hidden = true;
    }, { passive: true });
    ui.older.addEventListener('click', loadOlder);
    ui.jump.addEventListener('click', () => {
      ui.scroll.scrollTop = ui.scroll.scrollHeight;
      ui.jump.hidden = true;
      ui.input.focus();
    });
    ui.close.addEventListener('click', () => tell({ type: 'close' }));
    ui.del.addEventListener('click', askDelete);
    ui.cancel.addEventListener('click', cancelDelete);
    ui.ok.addEventListener('click', doDelete);
    document.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape') return;
      if (!ui.confirm.hidden) cancelDelete();
      else tell({ type: 'close' });
    });
    document.addEventListener('visibilitychange', markRead);
    window.addEventListener('online', () => {
      if (state.outbox.some((o) => o.status === 'failed')) retryAll();
    });
    window.addEventListener('message', receive);
  }

  /** Starts the panel: config, saved session, unsent messages. */
  async function start() {
    configure();
    if (embedded) {
      const anc = location.ancestorOrigins;
      if (!isOrigin(hostOrigin) || (anc && anc.length && anc[0] !== hostOrigin)) {
        notify('This chat cannot run on this page.', 'send');
        ui.composer.hidden = true;
        return;
      }
      ui.close.hidden = false;
    } else {
      ui.close.hidden = true;
      ui.input.focus();
    }
    bind();
    const saved = load();
    state.outbox = (Array.isArray(saved.outbox) ? saved.outbox : [])
      .filter((o) => o && typeof o.content === 'string' && typeof o.clientId === 'string')
      .map((o) => ({ clientId: o.clientId, content: o.content, status: 'queued' }));
    render('bottom');
    renderPresence();
    tell({ type: 'ready' });
    if (saved.roomId && saved.token) {
      state.session = { roomId: saved.roomId, token: saved.token };
      render();
      await resume();
    }
    if (state.outbox.length) flush();
  }

  start();
})();
