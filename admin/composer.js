// The reply box of the open conversation: drafts kept per room, the length
// counter, Enter to send, "typing" sent to the visitor, and replies that are
// pending until the server stores them, retried with the same clientId.

import { el, replaceChildren } from '../widget/dom.js';
import { newClientId } from '../widget/ids.js';
import * as api from './api.js';
import { uploadFile } from './files.js';

const MAX_CONTENT = 2000;
const TYPING_SEND_EVERY = 3000;

/**
 * @typedef {import('./messages.js').Message} Message
 * @typedef {{clientId: string, content: string, status: 'sending'|'failed', error: string, createdAt: string}} Pending
 */

/** The reply box and the replies still on their way. */
export class Composer {
  /**
   * @param {{form: HTMLFormElement, reply: HTMLTextAreaElement, counter: HTMLElement, pending: HTMLElement}} ui
   * @param {{
   *   roomId: () => string,
   *   onSent: (message: Message) => void, onGone: (roomId: string) => void,
   *   scrollToBottom: () => void, toast: (msg: string, kind?: string) => void,
   *   onNote: (content: string) => Promise<void>, confirmReply: () => Promise<boolean>,
   * }} hooks
   */
  constructor(ui, hooks) {
    this.ui = ui;
    this.hooks = hooks;
    this.lastTypingSent = 0;
    /** @type {Map<string, Pending[]>} per room, so failed sends survive switching rooms */
    this.pendingByRoom = new Map();
    /** @type {Map<string, string>} */
    this.drafts = new Map();
    /** @type {'reply'|'note'} what Enter sends: a reply to the visitor, or a private note */
    this.mode = 'reply';
    this.placeholder = '';
    this.modes = ui.form.querySelector('.composer-mode');
    this.modes?.addEventListener('click', (e) => {
      const b = /** @type {HTMLElement} */ (e.target).closest('[data-mode]');
      if (b) this.setMode(/** @type {'reply'|'note'} */ (b.getAttribute('data-mode')));
    });

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

    // Files: the attach button, a paste (a screenshot), a drop on the composer.
    const pick = /** @type {HTMLInputElement|null} */ (ui.form.querySelector('#attach-file'));
    ui.form.querySelector('#attach')?.addEventListener('click', () => pick?.click());
    pick?.addEventListener('change', () => {
      if (pick.files) this.attachFiles(pick.files);
      pick.value = '';
    });
    ui.reply.addEventListener('paste', (e) => {
      if (e.clipboardData?.files.length) {
        e.preventDefault();
        this.attachFiles(e.clipboardData.files);
      }
    });
    ui.form.addEventListener('dragover', (e) => e.preventDefault());
    ui.form.addEventListener('drop', (e) => {
      e.preventDefault();
      if (e.dataTransfer?.files.length) this.attachFiles(e.dataTransfer.files);
    });
  }

  /**
   * Uploads files into the open room, then sends them as one reply (with a
   * clientId: a retry stores it once).
   * @param {FileList|File[]} files
   */
  async attachFiles(files) {
    const roomId = this.hooks.roomId();
    const box = document.getElementById('uploads');
    if (!roomId || !box) return;
    const done = await Promise.all([...files].slice(0, 10).map((f) => uploadFile(roomId, f, box, this.hooks.toast)));
    const ids = done.filter((a) => a).map((a) => /** @type {import('./files.js').Attachment} */ (a).id);
    if (!ids.length) return;
    const clientId = newClientId();
    for (let attempt = 0; ; attempt++) {
      try {
        const { message } = await api.sendMessage(roomId, '', clientId, ids);
        if (roomId === this.hooks.roomId()) this.hooks.onSent(message);
        return;
      } catch (err) {
        if (api.isUnauthorized(err)) return;
        if (attempt >= 2 || (err instanceof api.ApiError && err.status > 0 && err.status < 500)) {
          this.hooks.toast('The files were not sent — ' + api.describeError(err), 'error');
          return;
        }
      }
    }
  }

  /** @returns {Pending[]} the open room's pending replies */
  get pending() {
    const id = this.hooks.roomId();
    let list = this.pendingByRoom.get(id);
    if (!list) {
      list = [];
      this.pendingByRoom.set(id, list);
    }
    return list;
  }

  /** @param {string} id shows the room's draft in the reply box */
  showDraft(id) {
    this.ui.reply.value = this.drafts.get(id) || '';
    this.updateCounter();
  }

  /** Keeps what the reply box holds as the open room's draft. */
  saveDraft() {
    const id = this.hooks.roomId();
    if (!id) return;
    const text = this.ui.reply.value;
    if (text.trim()) this.drafts.set(id, text);
    else this.drafts.delete(id);
  }

  /** Another room, or none: typing is announced afresh. */
  reset() {
    this.lastTypingSent = 0;
  }

  /** Forgets every draft and pending reply (sign-out). */
  clear() {
    this.pendingByRoom.clear();
    this.drafts.clear();
    this.ui.reply.value = '';
  }

  /** @param {string} who the visitor's label, for the placeholder */
  setPlaceholder(who) {
    this.placeholder = `Reply to ${who}…`;
    this.showMode();
  }

  /** @param {'reply'|'note'} mode */
  setMode(mode) {
    this.mode = mode === 'note' ? 'note' : 'reply';
    this.showMode();
    this.ui.reply.focus();
  }

  showMode() {
    const note = this.mode === 'note';
    this.ui.reply.placeholder = note ? 'Write a private note — only your team sees it…' : this.placeholder;
    this.ui.form.classList.toggle('note-mode', note);
    for (const b of this.modes?.querySelectorAll('[data-mode]') || []) {
      b.setAttribute('aria-pressed', String(b.getAttribute('data-mode') === this.mode));
    }
  }

  onInput() {
    this.updateCounter();
    if (this.mode === 'note') return; // the visitor is not told about notes
    const now = Date.now();
    const id = this.hooks.roomId();
    if (id && this.ui.reply.value.trim() && now - this.lastTypingSent > TYPING_SEND_EVERY) {
      this.lastTypingSent = now;
      api.sendTyping(id).catch(() => {});
    }
  }

  updateCounter() {
    const n = Array.from(this.ui.reply.value.trim()).length;
    this.ui.counter.hidden = n < MAX_CONTENT - 200;
    this.ui.counter.textContent = `${n} / ${MAX_CONTENT}`;
    this.ui.counter.classList.toggle('over', n > MAX_CONTENT);
  }

  async submit() {
    const id = this.hooks.roomId();
    if (!id) return;
    const content = this.ui.reply.value.trim();
    if (!content) return;
    if (Array.from(content).length > MAX_CONTENT) {
      this.hooks.toast(`A message can be at most ${MAX_CONTENT} characters.`, 'error');
      return;
    }
    if (this.mode === 'note') {
      this.ui.reply.value = '';
      this.updateCounter();
      try {
        await this.hooks.onNote(content);
      } catch (err) {
        if (api.isUnauthorized(err)) return;
        if (!this.ui.reply.value.trim() && id === this.hooks.roomId()) this.ui.reply.value = content;
        this.hooks.toast('The note was not saved — ' + api.describeError(err), 'error');
      }
      return;
    }
    if (!(await this.hooks.confirmReply()) || id !== this.hooks.roomId()) return;
    this.ui.reply.value = '';
    this.drafts.delete(id);
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
    const roomId = this.hooks.roomId();
    const list = this.pending;
    p.status = 'sending';
    p.error = '';
    this.render();
    this.hooks.scrollToBottom();
    try {
      const { message } = await api.sendMessage(roomId, p.content, p.clientId);
      const i = list.indexOf(p);
      if (i >= 0) list.splice(i, 1);
      if (roomId === this.hooks.roomId()) {
        this.render();
        this.hooks.onSent(message);
      }
    } catch (err) {
      if (api.isUnauthorized(err)) return;
      if (err instanceof api.ApiError && err.status === 404) {
        if (roomId === this.hooks.roomId()) this.hooks.onGone(roomId);
        return;
      }
      p.status = 'failed';
      p.error = api.describeError(err);
      if (roomId === this.hooks.roomId()) this.render();
    }
  }

  /** @param {Pending} p drops a failed reply, its text back in the box if that is empty */
  discard(p) {
    const list = this.pending;
    const i = list.indexOf(p);
    if (i >= 0) list.splice(i, 1);
    if (!this.ui.reply.value.trim()) this.ui.reply.value = p.content;
    this.render();
  }

  /**
   * A stream event can announce our own reply before its POST answers: drop
   * the pending copy with the same text so it never shows twice.
   * @param {Message} msg an admin message of the open room
   * @param {string} me the signed-in admin's display name
   */
  settleLike(msg, me) {
    if (msg.author !== me) return;
    const list = this.pending;
    const i = list.findIndex((p) => p.status === 'sending' && p.content === msg.content);
    if (i >= 0) {
      list.splice(i, 1);
      this.render();
    }
  }

  /** Draws the open room's pending replies under the thread. */
  render() {
    const list = this.hooks.roomId() ? this.pending : [];
    replaceChildren(this.ui.pending, ...list.map((p) => el('div', { class: 'msg msg-admin pending' + (p.status === 'failed' ? ' failed' : '') },
      el('div', { class: 'bubble', text: p.content }),
      p.status === 'sending'
        ? el('div', { class: 'msg-status', text: 'Sending…' })
        : el('div', { class: 'msg-status error' },
          el('span', { text: 'Not sent' + (p.error ? ' — ' + p.error : '') + ' ' }),
          el('button', { class: 'link-btn', type: 'button', text: 'Retry', onclick: () => this.deliver(p) }),
          el('button', { class: 'link-btn', type: 'button', text: 'Discard', onclick: () => this.discard(p) })))));
  }
}
