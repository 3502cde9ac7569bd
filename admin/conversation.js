// The open conversation: its history (older pages on scroll up), live
// messages deduplicated by seq, the reply box with idempotent retries, typing
// both ways, the visitor's details and the room's actions.

import * as api from './api.js';
import {
  avatar, clockTime, dayKey, dayLabel, el, fullTime, icon, newClientId, replaceChildren, safeURL,
  visitorLabel,
} from './util.js';

const PAGE = 50;
const MAX_CONTENT = 2000;
const TYPING_SEND_EVERY = 3000;
const TYPING_SHOW_MS = 5000;
const GROUP_GAP_MS = 5 * 60 * 1000;
const NEAR_BOTTOM = 80;
const MAX_PAGES = 100; // bounds every "fetch until done" loop

/**
 * @typedef {{id: string, roomId: string, seq: number, sender: 'visitor'|'admin', author: string, content: string, createdAt: string}} Message
 * @typedef {{clientId: string, content: string, status: 'sending'|'failed', error: string, createdAt: string}} Pending
 */

export class Conversation {
  /**
   * @param {{
   *   empty: HTMLElement, view: HTMLElement, header: HTMLElement, banner: HTMLElement,
   *   thread: HTMLElement, top: HTMLElement, msgs: HTMLElement, pending: HTMLElement, typing: HTMLElement,
   *   jump: HTMLButtonElement, form: HTMLFormElement, reply: HTMLTextAreaElement, counter: HTMLElement,
   *   details: HTMLElement, dialog: HTMLDialogElement,
   * }} ui
   * @param {{
   *   me: () => {username: string, displayName: string},
   *   onRoom: (room: any) => void, onGone: (id: string, message: string) => void,
   *   toast: (msg: string, kind?: string) => void,
   * }} hooks
   */
  constructor(ui, hooks) {
    this.ui = ui;
    this.hooks = hooks;
    this.id = '';
    this.room = null;
    /** @type {Map<number, Message>} */
    this.msgs = new Map();
    /** @type {Map<number, HTMLElement>} */
    this.nodes = new Map();
    /** @type {Message|null} */
    this.lastRendered = null;
    this.ready = false;
    this.hasOlder = false;
    this.loadingOlder = false;
    this.gen = 0;
    /** The room this console is deleting: its room.deleted event is expected. */
    this.deleting = '';
    this.readTimer = 0;
    this.typingTimer = 0;
    this.lastTypingSent = 0;
    /** @type {Map<string, Pending[]>} per room, so failed sends survive switching rooms */
    this.pendingByRoom = new Map();
    /** @type {Map<string, string>} */
    this.drafts = new Map();
    /** @type {{avatar: HTMLElement, name: HTMLElement, sub: HTMLElement, tag: HTMLElement}|null} */
    this.header = null;
    /** @type {{count: HTMLElement, block: HTMLElement}|null} */
    this.details = null;
    this.detailsSig = '';

    ui.thread.addEventListener('scroll', () => this.onScroll(), { passive: true });
    ui.jump.addEventListener('click', () => this.scrollToBottom(true));
    ui.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
    ui.reply.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        this.submit();
      }
    });
    ui.reply.addEventListener('input', () => this.onInput());
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && this.ready && this.room?.unread > 0) this.scheduleRead();
    });
  }

  /** @returns {Pending[]} */
  get pending() {
    let list = this.pendingByRoom.get(this.id);
    if (!list) {
      list = [];
      this.pendingByRoom.set(this.id, list);
    }
    return list;
  }

  /**
   * Opens a room (a no-op when it is already open).
   * @param {string} id
   * @param {any} [known] the room as the list knows it, for an instant header
   */
  async open(id, known) {
    if (id === this.id) return;
    this.saveDraft();
    this.reset();
    const gen = ++this.gen;
    this.id = id;
    this.room = known || { id, visitorName: '', visitorEmail: '', page: '', createdAt: '', messageCount: 0, unread: 0 };
    this.ui.empty.hidden = true;
    this.ui.view.hidden = false;
    this.ui.reply.value = this.drafts.get(id) || '';
    this.updateCounter();
    this.buildHeader();
    this.renderHeader();
    this.renderDetails();
    replaceChildren(this.ui.top, el('div', { class: 'spinner', 'aria-label': 'Loading messages' }));
    this.renderPending();
    try {
      const res = await api.openRoom(id);
      if (gen !== this.gen) return;
      this.room = res.room;
      for (const m of res.messages) this.msgs.set(m.seq, m);
      const first = res.messages.length ? res.messages[0].seq : 0;
      this.hasOlder = first > Math.max(1, res.room.firstSeq || 1);
      this.ready = true;
      this.hooks.onRoom(res.room);
      this.renderHeader();
      this.renderDetails();
      this.renderThread();
      this.scrollToBottom(true);
      await this.fillViewport(gen);
    } catch (err) {
      if (gen !== this.gen) return;
      this.fail(err);
    }
  }

  /** Closes the room view (back to the empty state). */
  close() {
    this.saveDraft();
    this.reset();
    this.gen++;
    this.ui.view.hidden = true;
    this.ui.empty.hidden = false;
    replaceChildren(this.ui.details);
    this.details = null;
    this.detailsSig = '';
  }

  reset() {
    this.id = '';
    this.room = null;
    this.msgs.clear();
    this.nodes.clear();
    this.lastRendered = null;
    this.ready = false;
    this.hasOlder = false;
    this.loadingOlder = false;
    clearTimeout(this.readTimer);
    clearTimeout(this.typingTimer);
    this.typingTimer = 0;
    this.lastTypingSent = 0;
    this.ui.typing.hidden = true;
    this.ui.jump.hidden = true;
    this.ui.banner.hidden = true;
    replaceChildren(this.ui.msgs);
    replaceChildren(this.ui.top);
  }

  /** Forgets everything, drafts included (sign-out). */
  clear() {
    this.close();
    this.pendingByRoom.clear();
    this.drafts.clear();
    this.ui.reply.value = '';
  }

  saveDraft() {
    if (!this.id) return;
    const text = this.ui.reply.value;
    if (text.trim()) this.drafts.set(this.id, text);
    else this.drafts.delete(this.id);
  }

  /** @param {unknown} err */
  fail(err) {
    if (api.isUnauthorized(err)) return;
    if (err instanceof api.ApiError && (err.status === 404 || err.code === 'room_not_found' || err.code === 'invalid_request')) {
      const id = this.id;
      this.hooks.onGone(id, 'This conversation no longer exists.');
      return;
    }
    replaceChildren(this.ui.top,
      el('div', { class: 'thread-error' },
        el('p', { text: api.describeError(err) }),
        el('button', {
          class: 'btn btn-sm', type: 'button', text: 'Try again',
          onclick: () => {
            const id = this.id;
            this.id = '';
            this.open(id, this.room);
          },
        })));
  }

  /**
   * Tells the admin that an action failed (a 401 says nothing: the login
   * form takes over).
   * @param {unknown} err
   */
  report(err) {
    if (api.isUnauthorized(err)) return;
    this.hooks.toast(err instanceof api.ApiError ? api.describeError(err) : String(/** @type {Error} */ (err)?.message || err), 'error');
  }

  // ——— live updates ———

  /** @param {any} room a newer version of some room */
  applyRoom(room) {
    if (room.id !== this.id || !this.ready) return;
    this.room = room;
    this.renderHeader();
    this.renderDetails();
    this.updateSeen();
    // A visitor message counted unread while we are looking at it: read it.
    if (room.unread > 0) this.scheduleRead();
  }

  /** @param {Message} msg a message of any room, from the stream */
  applyMessage(msg) {
    if (msg.roomId !== this.id) return;
    if (msg.sender === 'visitor') this.hideTyping();
    if (msg.sender === 'admin') this.settlePendingLike(msg);
    if (!this.ready) {
      this.msgs.set(msg.seq, msg); // merged with the open answer
      return;
    }
    const max = this.maxSeq();
    this.addMessages([msg]);
    if (msg.sender === 'visitor') this.scheduleRead();
    // A hole before this message (a missed event): fetch what is missing.
    if (max && msg.seq > max + 1) this.fetchAfter(max);
  }

  /** @param {string} roomId the visitor of roomId is typing */
  visitorTyping(roomId) {
    if (roomId !== this.id || !this.ready) return;
    this.ui.typing.hidden = false;
    replaceChildren(this.ui.typing,
      el('span', { class: 'dots', 'aria-hidden': 'true' }, el('i'), el('i'), el('i')),
      `${visitorLabel(this.room)} is typing…`);
    const atBottom = this.nearBottom();
    if (atBottom) this.scrollToBottom(false);
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.hideTyping(), TYPING_SHOW_MS);
    this.renderHeader();
  }

  hideTyping() {
    if (!this.typingTimer) return;
    clearTimeout(this.typingTimer);
    this.typingTimer = 0;
    this.ui.typing.hidden = true;
    this.renderHeader();
  }

  /** After the stream reconnects: fetch every message after the last one held. */
  async catchUp() {
    if (!this.id || !this.ready) return;
    await this.fetchAfter(this.maxSeq());
  }

  /**
   * Fetches the messages after seq, page by page, and adds them.
   * @param {number} seq
   */
  async fetchAfter(seq) {
    const gen = this.gen;
    let after = seq;
    try {
      for (let i = 0; i < MAX_PAGES; i++) {
        const page = await api.roomMessages(this.id, { after, limit: 200 });
        if (gen !== this.gen) return;
        this.addMessages(page.messages);
        if (page.messages.some((m) => m.sender === 'visitor')) this.scheduleRead();
        if (!page.hasMore || page.messages.length === 0) break;
        after = page.messages[page.messages.length - 1].seq;
      }
    } catch (err) {
      if (gen === this.gen) this.fail(err);
    }
  }

  /** @returns {number} */
  maxSeq() {
    let max = 0;
    for (const s of this.msgs.keys()) if (s > max) max = s;
    return max;
  }

  /** @returns {number} */
  minSeq() {
    let min = Infinity;
    for (const s of this.msgs.keys()) if (s < min) min = s;
    return min === Infinity ? 0 : min;
  }

  /**
   * Adds messages (any order, duplicates ignored) and shows them.
   * @param {Message[]} list
   */
  addMessages(list) {
    const fresh = list.filter((m) => !this.msgs.has(m.seq));
    if (fresh.length === 0) return;
    const atBottom = this.nearBottom();
    const last = this.lastRendered ? this.lastRendered.seq : 0;
    for (const m of fresh) this.msgs.set(m.seq, m);
    fresh.sort((a, b) => a.seq - b.seq);
    if (fresh[0].seq > last) {
      for (const m of fresh) this.appendNode(m);
      this.updateSeen();
    } else {
      this.renderThread();
    }
    const mine = fresh.some((m) => m.sender === 'admin' && m.author === this.hooks.me().displayName);
    if (atBottom || mine) this.scrollToBottom(true);
    else this.ui.jump.hidden = false;
  }

  /**
   * A stream event can announce our own reply before its POST answers: drop
   * the pending copy with the same text so it never shows twice.
   * @param {Message} msg
   */
  settlePendingLike(msg) {
    if (msg.author !== this.hooks.me().displayName) return;
    const list = this.pending;
    const i = list.findIndex((p) => p.status === 'sending' && p.content === msg.content);
    if (i >= 0) {
      list.splice(i, 1);
      this.renderPending();
    }
  }

  // ——— reading ———

  /** Marks the room read soon, while it is open and the tab is visible. */
  scheduleRead() {
    if (document.visibilityState !== 'visible' || !this.id) return;
    clearTimeout(this.readTimer);
    const id = this.id;
    this.readTimer = setTimeout(() => {
      if (id !== this.id || document.visibilityState !== 'visible') return;
      api.markRead(id).catch(() => {}); // a 401 is handled globally; the next event retries
    }, 150);
  }

  // ——— history ———

  onScroll() {
    if (this.nearBottom()) this.ui.jump.hidden = true;
    if (this.ui.thread.scrollTop < 120) this.loadOlder();
  }

  /** Loads a page of older messages, keeping the scroll position. */
  async loadOlder() {
    if (!this.ready || !this.hasOlder || this.loadingOlder) return;
    const gen = this.gen;
    this.loadingOlder = true;
    replaceChildren(this.ui.top, el('div', { class: 'spinner spinner-sm', 'aria-label': 'Loading older messages' }));
    try {
      const page = await api.roomMessages(this.id, { before: this.minSeq(), limit: PAGE });
      if (gen !== this.gen) return;
      const t = this.ui.thread;
      const fromBottom = t.scrollHeight - t.scrollTop;
      for (const m of page.messages) this.msgs.set(m.seq, m);
      this.hasOlder = page.hasMore && page.messages.length > 0;
      this.renderThread();
      t.scrollTop = t.scrollHeight - fromBottom;
    } catch (err) {
      if (gen === this.gen) this.report(err);
    } finally {
      if (gen === this.gen) {
        this.loadingOlder = false;
        this.renderTop();
      }
    }
  }

  /**
   * Loads older pages until the thread can scroll (so scroll-up works).
   * @param {number} gen
   */
  async fillViewport(gen) {
    for (let i = 0; i < 10 && gen === this.gen && this.hasOlder; i++) {
      const t = this.ui.thread;
      if (t.scrollHeight > t.clientHeight + 40) break;
      await this.loadOlder();
    }
  }

  // ——— rendering ———

  renderTop() {
    if (!this.ready) return;
    if (this.hasOlder) {
      replaceChildren(this.ui.top, el('button', {
        class: 'btn btn-ghost btn-sm', type: 'button', text: 'Load older messages', onclick: () => this.loadOlder(),
      }));
    } else {
      const r = this.room;
      replaceChildren(this.ui.top, el('div', { class: 'thread-start' },
        el('p', { class: 'thread-start-title', text: 'Start of the conversation' }),
        r.createdAt ? el('p', { text: `${visitorLabel(r)} opened the chat ${fullTime(r.createdAt)}${safeURL(r.page) ? ' on ' + safeURL(r.page).pathname : ''}.` }) : null));
    }
  }

  renderThread() {
    replaceChildren(this.ui.msgs);
    this.nodes.clear();
    this.lastRendered = null;
    const list = Array.from(this.msgs.values()).sort((a, b) => a.seq - b.seq);
    for (const m of list) this.appendNode(m);
    this.renderTop();
    this.updateSeen();
    if (list.length === 0 && !this.hasOlder) {
      this.ui.msgs.append(el('p', { class: 'thread-none', text: 'No messages yet. Say hello!' }));
    }
  }

  /** @param {Message} m appends after the last rendered message */
  appendNode(m) {
    this.ui.msgs.querySelector('.thread-none')?.remove();
    const prev = this.lastRendered;
    const newDay = !prev || dayKey(prev.createdAt) !== dayKey(m.createdAt);
    if (newDay) {
      this.ui.msgs.append(el('div', { class: 'day-sep', role: 'separator' }, el('span', { text: dayLabel(m.createdAt) })));
    }
    const grouped = !newDay && prev && prev.sender === m.sender && prev.author === m.author
      && Date.parse(m.createdAt) - Date.parse(prev.createdAt) < GROUP_GAP_MS;
    const who = m.sender === 'admin' ? (m.author || 'Admin') : visitorLabel(this.room);
    const node = el('div', {
      class: `msg msg-${m.sender}${grouped ? ' grouped' : ''}`, dataset: { seq: String(m.seq) },
    },
    grouped ? null : el('div', { class: 'msg-meta' },
      el('span', { class: 'msg-author', text: who }),
      el('time', { datetime: m.createdAt, title: fullTime(m.createdAt), text: clockTime(m.createdAt) })),
    el('div', { class: 'bubble', title: fullTime(m.createdAt), text: m.content }));
    this.ui.msgs.append(node);
    this.nodes.set(m.seq, node);
    this.lastRendered = m;
  }

  /** Shows "Seen" under the newest admin message once the visitor read it. */
  updateSeen() {
    this.ui.msgs.querySelector('.seen')?.remove();
    if (!this.room) return;
    let last = null;
    for (const m of this.msgs.values()) if (m.sender === 'admin' && (!last || m.seq > last.seq)) last = m;
    if (!last) return;
    const r = this.room;
    const seen = typeof r.visitorReadSeq === 'number'
      ? r.visitorReadSeq >= last.seq
      : r.visitorUnread === 0 && (r.lastMessage?.seq || 0) >= last.seq;
    const node = this.nodes.get(last.seq);
    if (seen && node) node.after(el('div', { class: 'seen' }, icon('check'), 'Seen'));
  }

  renderPending() {
    const list = this.id ? this.pending : [];
    replaceChildren(this.ui.pending, ...list.map((p) => el('div', { class: 'msg msg-admin pending' + (p.status === 'failed' ? ' failed' : '') },
      el('div', { class: 'bubble', text: p.content }),
      p.status === 'sending'
        ? el('div', { class: 'msg-status', text: 'Sending…' })
        : el('div', { class: 'msg-status error' },
          el('span', { text: 'Not sent' + (p.error ? ' — ' + p.error : '') + ' ' }),
          el('button', { class: 'link-btn', type: 'button', text: 'Retry', onclick: () => this.deliver(p) }),
          el('button', { class: 'link-btn', type: 'button', text: 'Discard', onclick: () => this.discard(p) })))));
  }

  /**
   * Builds the header once per room; renderHeader then updates its text, so
   * that a focused button keeps the focus while events arrive.
   */
  buildHeader() {
    const h = {
      avatar: el('span', { class: 'avatar-slot' }),
      name: el('h2', { id: 'conv-name' }),
      sub: el('p', { class: 'conv-sub' }),
      tag: el('span', { class: 'tag tag-danger', text: 'Blocked', hidden: true }),
    };
    replaceChildren(this.ui.header,
      el('a', { class: 'icon-btn back', href: '#/', 'aria-label': 'Back to conversations', title: 'Back (Esc)' }, icon('back')),
      h.avatar,
      el('div', { class: 'conv-title' }, h.name, h.sub),
      h.tag,
      el('button', {
        class: 'icon-btn details-toggle', type: 'button', 'aria-label': 'Visitor details', title: 'Visitor details',
        'aria-controls': 'details', 'aria-expanded': String(document.body.classList.contains('details-open')),
        onclick: () => {
          if (document.body.classList.contains('details-open')) closeDetails();
          else openDetails();
        },
      }, icon('info')));
    this.header = h;
  }

  renderHeader() {
    const r = this.room;
    const h = this.header;
    if (!r || !h) return;
    const typing = !!this.typingTimer;
    const page = safeURL(r.page);
    replaceChildren(h.avatar, avatar(r));
    h.name.textContent = visitorLabel(r);
    h.sub.textContent = typing ? 'typing…'
      : r.visitorEmail || (page ? 'on ' + page.pathname : r.visitorName ? 'No email given' : 'Anonymous visitor');
    h.sub.classList.toggle('typing', typing);
    h.tag.hidden = !r.blocked;
    if (this.ui.banner.hidden === !!r.blocked) {
      this.ui.banner.hidden = !r.blocked;
      replaceChildren(this.ui.banner, r.blocked ? [icon('block'),
        el('span', { text: 'This visitor is blocked and cannot send messages.' }),
        el('button', { class: 'link-btn', type: 'button', text: 'Unblock', onclick: () => this.toggleBlock() })] : null);
    }
    this.ui.reply.placeholder = `Reply to ${visitorLabel(r)}…`;
  }

  /**
   * Shows the visitor's details. What identifies the visitor is drawn when it
   * changes; the count and the block button are updated in place.
   */
  renderDetails() {
    const r = this.room;
    if (!r) return;
    const sig = JSON.stringify([r.id, r.visitorName, r.visitorEmail, r.page, r.createdAt]);
    if (sig !== this.detailsSig) {
      this.detailsSig = sig;
      this.buildDetails(r);
    }
    const d = this.details;
    d.count.textContent = String(r.messageCount ?? 0);
    replaceChildren(d.block, icon(r.blocked ? 'unlock' : 'block'), r.blocked ? 'Unblock visitor' : 'Block visitor');
  }

  /** @param {any} r */
  buildDetails(r) {
    const page = safeURL(r.page);
    /** @param {string} label @param {Node|string} value @param {string} ic */
    const row = (label, value, ic) => el('div', { class: 'detail' },
      icon(/** @type {any} */ (ic)), el('dt', { text: label }), el('dd', {}, value));
    const count = el('span');
    const block = el('button', { class: 'btn', type: 'button', 'data-action': 'block', onclick: () => this.toggleBlock() });
    this.details = { count, block };
    replaceChildren(this.ui.details,
      el('button', {
        class: 'icon-btn details-close', type: 'button', 'aria-label': 'Close details', title: 'Close (Esc)',
        onclick: () => closeDetails(),
      }, icon('close')),
      el('div', { class: 'details-head' },
        avatar(r, 'lg'),
        el('h3', { text: visitorLabel(r) }),
        r.visitorEmail ? el('a', { href: 'mailto:' + r.visitorEmail, text: r.visitorEmail }) : el('p', { class: 'muted', text: 'No email given' })),
      el('dl', { class: 'details-list' },
        row('Started on', page ? el('a', { href: page.href, target: '_blank', rel: 'noopener noreferrer', title: page.href, text: page.host + page.pathname }) : '—', 'globe'),
        row('First seen', r.createdAt ? fullTime(r.createdAt) : '—', 'clock'),
        row('Messages', count, 'chat'),
        row('Conversation', el('code', { text: r.id }), 'hash')),
      el('div', { class: 'details-actions' },
        el('button', { class: 'btn', type: 'button', onclick: () => this.copyTranscript() }, icon('copy'), 'Copy transcript'),
        el('button', { class: 'btn', type: 'button', onclick: () => this.downloadTranscript() }, icon('download'), 'Download .txt'),
        block,
        el('button', { class: 'btn btn-danger', type: 'button', 'data-action': 'delete', onclick: () => this.confirmDelete() },
          icon('trash'), 'Delete conversation')));
  }

  /** @returns {boolean} */
  nearBottom() {
    const t = this.ui.thread;
    return t.scrollHeight - t.scrollTop - t.clientHeight < NEAR_BOTTOM;
  }

  /** @param {boolean} force */
  scrollToBottom(force) {
    if (!force && !this.nearBottom()) return;
    this.ui.thread.scrollTop = this.ui.thread.scrollHeight;
    this.ui.jump.hidden = true;
  }

  // ——— replying ———

  onInput() {
    this.updateCounter();
    const now = Date.now();
    if (this.id && this.ui.reply.value.trim() && now - this.lastTypingSent > TYPING_SEND_EVERY) {
      this.lastTypingSent = now;
      api.sendTyping(this.id).catch(() => {});
    }
  }

  updateCounter() {
    const n = Array.from(this.ui.reply.value.trim()).length;
    this.ui.counter.hidden = n < MAX_CONTENT - 200;
    this.ui.counter.textContent = `${n} / ${MAX_CONTENT}`;
    this.ui.counter.classList.toggle('over', n > MAX_CONTENT);
  }

  submit() {
    if (!this.id) return;
    const content = this.ui.reply.value.trim();
    if (!content) return;
    if (Array.from(content).length > MAX_CONTENT) {
      this.hooks.toast(`A message can be at most ${MAX_CONTENT} characters.`, 'error');
      return;
    }
    this.ui.reply.value = '';
    this.drafts.delete(this.id);
    this.updateCounter();
    /** @type {Pending} */
    const p = { clientId: newClientId(), content, status: 'sending', error: '', createdAt: new Date().toISOString() };
    this.pending.push(p);
    this.deliver(p);
  }

  /**
   * Sends (or re-sends, with the same clientId) a pending reply.
   * @param {Pending} p
   */
  async deliver(p) {
    const roomId = this.id;
    const list = this.pending;
    p.status = 'sending';
    p.error = '';
    this.renderPending();
    this.scrollToBottom(true);
    try {
      const { message } = await api.sendMessage(roomId, p.content, p.clientId);
      const i = list.indexOf(p);
      if (i >= 0) list.splice(i, 1);
      if (roomId === this.id) {
        this.renderPending();
        if (this.ready) this.addMessages([message]);
        else this.msgs.set(message.seq, message);
      }
    } catch (err) {
      if (api.isUnauthorized(err)) return;
      if (err instanceof api.ApiError && err.status === 404) {
        if (roomId === this.id) this.hooks.onGone(roomId, 'This conversation no longer exists.');
        return;
      }
      p.status = 'failed';
      p.error = api.describeError(err);
      if (roomId === this.id) this.renderPending();
    }
  }

  /** @param {Pending} p */
  discard(p) {
    const list = this.pending;
    const i = list.indexOf(p);
    if (i >= 0) list.splice(i, 1);
    if (!this.ui.reply.value.trim()) this.ui.reply.value = p.content;
    this.renderPending();
  }

  // ——— actions ———

  async toggleBlock() {
    const r = this.room;
    if (!r || !this.ready) return;
    const want = !r.blocked;
    try {
      await api.setBlocked(r.id, want);
      if (this.room?.id === r.id) {
        this.room = { ...this.room, blocked: want };
        this.hooks.onRoom(this.room);
        this.renderHeader();
        this.renderDetails();
      }
      this.hooks.toast(want ? 'Visitor blocked.' : 'Visitor unblocked.');
    } catch (err) {
      this.report(err);
    }
  }

  confirmDelete() {
    const r = this.room;
    if (!r) return;
    const d = this.ui.dialog;
    const name = d.querySelector('[data-name]');
    if (name) name.textContent = visitorLabel(r);
    d.returnValue = '';
    d.addEventListener('close', async () => {
      if (d.returnValue !== 'delete') return;
      this.deleting = r.id;
      try {
        await api.deleteRoom(r.id);
        this.hooks.onGone(r.id, 'Conversation deleted.');
      } catch (err) {
        if (err instanceof api.ApiError && err.status === 404) this.hooks.onGone(r.id, 'Conversation deleted.');
        else this.report(err);
      } finally {
        this.deleting = '';
      }
    }, { once: true });
    d.showModal();
    /** @type {HTMLElement|null} */ (d.querySelector('[value="cancel"]'))?.focus();
  }

  /** @returns {Promise<string>} the whole stored conversation as plain text */
  async transcript() {
    const r = this.room;
    /** @type {Map<number, Message>} */
    const all = new Map(this.msgs);
    let after = 0;
    for (let i = 0; i < MAX_PAGES; i++) {
      const page = await api.roomMessages(r.id, { after, limit: 200 });
      for (const m of page.messages) all.set(m.seq, m);
      if (!page.hasMore || page.messages.length === 0) break;
      after = page.messages[page.messages.length - 1].seq;
    }
    const name = visitorLabel(r);
    const lines = [
      `Conversation with ${name}${r.visitorEmail ? ' <' + r.visitorEmail + '>' : ''}`,
      `Started ${fullTime(r.createdAt)}${r.page ? ' on ' + r.page : ''}`,
      `Conversation id: ${r.id}`,
      '',
    ];
    for (const m of Array.from(all.values()).sort((a, b) => a.seq - b.seq)) {
      const who = m.sender === 'admin' ? `${m.author || 'Admin'} (team)` : name;
      const body = m.content.replace(/\n/g, '\n    ');
      lines.push(`[${fullTime(m.createdAt)}] ${who}:`, '    ' + body, '');
    }
    return lines.join('\n');
  }

  async copyTranscript() {
    try {
      const text = await this.transcript();
      await copyText(text);
      this.hooks.toast('Transcript copied to the clipboard.');
    } catch (err) {
      this.report(err instanceof api.ApiError ? err : new Error('Could not copy the transcript.'));
    }
  }

  async downloadTranscript() {
    try {
      const text = await this.transcript();
      const blob = new Blob([text], { type: 'text/plain;charset=utf-8' });
      const url = URL.createObjectURL(blob);
      const slug = visitorLabel(this.room).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'visitor';
      const a = el('a', { href: url, download: `parley-${slug}-${new Date().toISOString().slice(0, 10)}.txt` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (err) {
      this.report(err);
    }
  }
}

/** Opens the details drawer (narrow screens) and moves focus into it. */
function openDetails() {
  document.body.classList.add('details-open');
  document.querySelector('.details-toggle')?.setAttribute('aria-expanded', 'true');
  /** @type {HTMLElement|null} */ (document.querySelector('.details-close'))?.focus();
}

/** Closes the details drawer and gives focus back to its toggle. */
export function closeDetails() {
  if (!document.body.classList.contains('details-open')) return;
  document.body.classList.remove('details-open');
  const toggle = /** @type {HTMLElement|null} */ (document.querySelector('.details-toggle'));
  toggle?.setAttribute('aria-expanded', 'false');
  if (toggle && toggle.offsetParent) toggle.focus();
}

/**
 * Copies text, with a fallback where the async clipboard is unavailable
 * (plain http on a non-local host).
 * @param {string} text
 */
async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return;
    } catch {
      // fall through: the page may not be focused
    }
  }
  const ta = el('textarea', { class: 'offscreen', readonly: true, 'aria-hidden': 'true' });
  /** @type {HTMLTextAreaElement} */ (ta).value = text;
  document.body.append(ta);
  /** @type {HTMLTextAreaElement} */ (ta).select();
  const ok = document.execCommand('copy');
  ta.remove();
  if (!ok) throw new Error('copy failed');
}
