// What an admin can do to the open room: block or unblock its visitor,
// delete it (after the confirmation dialog), and copy or download its
// transcript.

import { el } from '../widget/dom.js';
import * as api from './api.js';
import { pagesAfter } from './messages.js';
import { visitorLabel } from './people.js';
import { fullTime } from './time.js';

/** @typedef {import('./messages.js').Message} Message */

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

  async toggleBlock() {
    const r = this.hooks.room();
    if (!r || !this.hooks.ready()) return;
    const want = !r.blocked;
    try {
      await api.setBlocked(r.id, want);
      this.hooks.onBlocked(r.id, want);
      this.hooks.toast(want ? 'Visitor blocked.' : 'Visitor unblocked.');
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
