// What an admin can do to the open room: block its visitor (and, if the
// admin chooses, their IP address for a while) or unblock them, delete it
// (after the confirmation dialog), and copy or download its transcript.

import { el } from '../widget/dom.js';
import * as api from './api.js';
import { pagesAfter } from './messages.js';
import { visitorLabel } from './people.js';
import { fullTime } from './time.js';

/** @typedef {import('./messages.js').Message} Message */

/** The IP block durations the block dialog offers: API value and label. */
export const IP_BLOCKS = [['1h', '1 hour'], ['24h', '24 hours'], ['168h', '7 days'], ['720h', '30 days']];

/**
 * The block dialog: what a block does, and the choice of blocking the
 * visitor's IP address too, for how long. Built once, on first use.
 * @returns {HTMLDialogElement}
 */
function blockDialog() {
  const found = /** @type {HTMLDialogElement|null} */ (document.getElementById('confirm-block'));
  if (found) return found;
  const d = /** @type {HTMLDialogElement} */ (el('dialog', { id: 'confirm-block', class: 'dialog', 'aria-labelledby': 'block-title' },
    el('form', { method: 'dialog' },
      el('h2', { id: 'block-title', text: 'Block this visitor?' }),
      el('p', { text: 'They can still read the conversation, but can no longer send, type, change their details or delete it, nor start a new one from this browser.' }),
      el('label', { class: 'block-ip' },
        el('input', { type: 'checkbox', name: 'ip' }),
        el('span', { text: 'Also block their IP address for' }),
        el('select', { name: 'for', 'aria-label': 'How long' },
          IP_BLOCKS.map(([v, label]) => el('option', { value: v, text: label, selected: v === '24h' })))),
      el('p', { class: 'muted block-note', text: 'Nobody from that address (its whole /64 for IPv6) can then start a conversation or send.' }),
      el('div', { class: 'dialog-actions' },
        el('button', { class: 'btn', value: 'cancel', type: 'submit', text: 'Cancel' }),
        el('button', { class: 'btn btn-danger-solid', value: 'block', type: 'submit', text: 'Block' })))));
  document.body.append(d);
  return d;
}

/** Blocks, deletes and exports the open room, on the admin's click. */
export class RoomActions {
  /**
   * @param {HTMLDialogElement} dialog the delete confirmation
   * @param {{
   *   room: () => any, ready: () => boolean, held: () => Map<number, Message>,
   *   onBlocked: (id: string, blocked: boolean) => void, onGone: (id: string, message: string) => void,
   *   toast: (msg: string, kind?: string) => void, report: (err: unknown) => void,
   * }} hooks
   */
  constructor(dialog, hooks) {
    this.dialog = dialog;
    this.hooks = hooks;
    /** The room this console is deleting: its room.deleted event is expected. */
    this.deleting = '';
  }

  /** Unblocks the visitor, or asks in the block dialog how to block them. */
  toggleBlock() {
    const r = this.hooks.room();
    if (!r || !this.hooks.ready()) return;
    if (r.blocked) {
      this.setBlocked(r.id, false, '', 'Visitor unblocked.');
      return;
    }
    const d = blockDialog();
    const form = /** @type {HTMLFormElement} */ (d.querySelector('form'));
    const ip = /** @type {HTMLInputElement} */ (form.elements.namedItem('ip'));
    ip.checked = false;
    d.returnValue = '';
    d.addEventListener('close', () => {
      if (d.returnValue !== 'block') return;
      const sel = /** @type {HTMLSelectElement} */ (form.elements.namedItem('for'));
      const ipFor = ip.checked ? sel.value : '';
      const label = IP_BLOCKS.find(([v]) => v === ipFor)?.[1];
      this.setBlocked(r.id, true, ipFor, label ? `Visitor and IP address blocked for ${label}.` : 'Visitor blocked.');
    }, { once: true });
    d.showModal();
    /** @type {HTMLElement|null} */ (d.querySelector('[value="cancel"]'))?.focus();
  }

  /**
   * @param {string} id @param {boolean} want @param {string} ipFor
   * @param {string} done the toast on success
   */
  async setBlocked(id, want, ipFor, done) {
    try {
      await api.setBlocked(id, want, ipFor);
      this.hooks.onBlocked(id, want);
      this.hooks.toast(done);
    } catch (err) {
      this.hooks.report(err);
    }
  }

  /** Asks, in the dialog, whether to delete the room; deletes it on yes. */
  confirmDelete() {
    const r = this.hooks.room();
    if (!r) return;
    const d = this.dialog;
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
        else this.hooks.report(err);
      } finally {
        this.deleting = '';
      }
    }, { once: true });
    d.showModal();
    /** @type {HTMLElement|null} */ (d.querySelector('[value="cancel"]'))?.focus();
  }

  async copyTranscript() {
    try {
      const text = await transcript(this.hooks.room(), this.hooks.held());
      await copyText(text);
      this.hooks.toast('Transcript copied to the clipboard.');
    } catch (err) {
      this.hooks.report(err instanceof api.ApiError ? err : new Error('Could not copy the transcript.'));
    }
  }

  async downloadTranscript() {
    try {
      const text = await transcript(this.hooks.room(), this.hooks.held());
      const blob = new Blob([text], { type: 'text/plain;charset=utf-8' });
      const url = URL.createObjectURL(blob);
      const slug = visitorLabel(this.hooks.room()).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'visitor';
      const a = el('a', { href: url, download: `parley-${slug}-${new Date().toISOString().slice(0, 10)}.txt` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (err) {
      this.hooks.report(err);
    }
  }
}

/**
 * The whole stored conversation as plain text.
 * @param {any} r the room
 * @param {Map<number, Message>} held the messages already held
 * @returns {Promise<string>}
 */
export async function transcript(r, held) {
  const all = new Map(held);
  for await (const messages of pagesAfter(r.id, 0)) {
    for (const m of messages) all.set(m.seq, m);
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
