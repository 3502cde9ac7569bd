// The "/" popup of the reply box: typing "/" at the start of the box or
// after white space lists the canned replies whose shortcut matches what
// follows; Up/Down move, Enter or Tab insert the body (placeholders filled
// in), Escape closes, a click inserts. The textarea is an ARIA combobox
// whose listbox is the popup. It only hooks onto the textarea: the
// composer knows nothing of it.

import { el, replaceChildren } from '../widget/dom.js';
import { expand } from './canned.js';

const MAX_SHOWN = 8;
const PREVIEW_CHARS = 90;

/**
 * @typedef {import('./canned.js').Canned} Canned
 * @typedef {import('./canned.js').PlaceholderValues} PlaceholderValues
 */

/**
 * The "/shortcut" being typed just before the caret, if any.
 * @param {string} text
 * @param {number} caret
 * @returns {{start: number, query: string}|null}
 */
export function slashQuery(text, caret) {
  const m = /(^|\s)\/([\w-]{0,32})$/.exec(text.slice(0, caret));
  if (!m) return null;
  return { start: caret - m[2].length - 1, query: m[2] };
}

/** The popup attached to one reply box. */
export class SlashPopup {
  /**
   * @param {HTMLTextAreaElement} reply
   * @param {{
   *   match: (query: string) => Canned[], values: () => PlaceholderValues,
   *   empty: () => string,
   * }} hooks match lists the candidates; empty says why there are none
   */
  constructor(reply, hooks) {
    this.reply = reply;
    this.hooks = hooks;
    /** @type {Canned[]} */
    this.items = [];
    this.active = -1;
    /** @type {{start: number, query: string}|null} */
    this.at = null;
    this.list = el('ul', { id: 'slash-list', class: 'slash-popup', role: 'listbox', 'aria-label': 'Canned replies', hidden: true });
    reply.insertAdjacentElement('beforebegin', this.list);
    reply.setAttribute('role', 'combobox');
    reply.setAttribute('aria-autocomplete', 'list');
    reply.setAttribute('aria-controls', 'slash-list');
    reply.setAttribute('aria-expanded', 'false');

    // Capture, so that the composer's Enter-to-send on the same textarea
    // never sees the Enter that picks a reply.
    reply.addEventListener('keydown', (e) => this.onKey(e), true);
    reply.addEventListener('input', () => this.update());
    reply.addEventListener('click', () => this.update());
    reply.addEventListener('blur', () => this.close());
    // A press on an option must not take the focus from the reply box.
    this.list.addEventListener('mousedown', (e) => e.preventDefault());
  }

  /** @returns {boolean} */
  get open() {
    return !this.list.hidden;
  }

  /** Opens, refreshes or closes the popup for what is before the caret. */
  update() {
    const r = this.reply;
    const at = r.selectionStart === r.selectionEnd ? slashQuery(r.value, r.selectionStart) : null;
    if (!at) {
      this.close();
      return;
    }
    const same = this.at && this.at.query === at.query && this.open;
    this.at = at;
    if (same) return;
    this.items = this.hooks.match(at.query).slice(0, MAX_SHOWN);
    this.active = this.items.length ? 0 : -1;
    this.render();
  }

  /** The list changed (another agent's edit): the open popup follows, on the same item if it is still there. */
  refresh() {
    if (!this.open || !this.at) return;
    const current = this.items[this.active]?.id;
    this.items = this.hooks.match(this.at.query).slice(0, MAX_SHOWN);
    const i = this.items.findIndex((c) => c.id === current);
    this.active = i >= 0 ? i : this.items.length ? 0 : -1;
    this.render();
  }

  render() {
    const values = this.hooks.values();
    if (!this.items.length) {
      replaceChildren(this.list, el('li', { class: 'slash-none', role: 'presentation', text: this.hooks.empty() }));
    } else {
      replaceChildren(this.list, ...this.items.map((c, i) => {
        const preview = expand(c.body, values).replace(/\s+/g, ' ');
        return el('li', {
          id: 'slash-opt-' + i, class: 'slash-option', role: 'option', 'aria-selected': String(i === this.active),
          onclick: () => this.insert(i),
        },
        el('span', { class: 'slash-shortcut', text: '/' + c.shortcut }),
        el('span', { class: 'slash-preview', dir: 'auto', text: preview.length > PREVIEW_CHARS ? preview.slice(0, PREVIEW_CHARS - 1) + '…' : preview }));
      }));
    }
    this.list.hidden = false;
    this.reply.setAttribute('aria-expanded', 'true');
    this.markActive();
  }

  markActive() {
    const opts = this.list.querySelectorAll('[role="option"]');
    opts.forEach((o, i) => o.setAttribute('aria-selected', String(i === this.active)));
    if (this.active >= 0) {
      this.reply.setAttribute('aria-activedescendant', 'slash-opt-' + this.active);
      opts[this.active]?.scrollIntoView({ block: 'nearest' });
    } else {
      this.reply.removeAttribute('aria-activedescendant');
    }
  }

  close() {
    this.at = null;
    this.items = [];
    this.active = -1;
    if (this.list.hidden) return;
    this.list.hidden = true;
    replaceChildren(this.list);
    this.reply.setAttribute('aria-expanded', 'false');
    this.reply.removeAttribute('aria-activedescendant');
  }

  /** @param {KeyboardEvent} e */
  onKey(e) {
    if (!this.open || e.isComposing) return;
    const n = this.items.length;
    let handled = true;
    if (e.key === 'ArrowDown' && n) {
      this.active = (this.active + 1) % n;
      this.markActive();
    } else if (e.key === 'ArrowUp' && n) {
      this.active = (this.active - 1 + n) % n;
      this.markActive();
    } else if ((e.key === 'Enter' || e.key === 'Tab') && !e.shiftKey && this.active >= 0) {
      this.insert(this.active);
    } else if (e.key === 'Escape') {
      this.close();
    } else {
      handled = false;
    }
    if (handled) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }

  /**
   * Replaces the "/query" before the caret by the body of item i, its
   * placeholders filled in, and tells the composer (an input event).
   * @param {number} i
   */
  insert(i) {
    const c = this.items[i];
    const at = this.at;
    if (!c || !at) return;
    const r = this.reply;
    const text = expand(c.body, this.hooks.values());
    const end = at.start + 1 + at.query.length;
    r.focus();
    r.setSelectionRange(at.start, end);
    // setRangeText keeps the rest of the box; execCommand would too, and
    // be undoable, but it is deprecated.
    r.setRangeText(text, at.start, end, 'end');
    this.close();
    r.dispatchEvent(new Event('input', { bubbles: true }));
  }
}
