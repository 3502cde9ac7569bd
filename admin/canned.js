// Canned replies: the team's list kept live from the admin stream
// (CannedList), their placeholders (expand), and the page that manages them
// (CannedPage, #/canned). The "/" popup of the reply box is slash.js.

import { el, replaceChildren } from '../widget/dom.js';
import * as api from './api.js';

export const MAX_SHORTCUT = 32;
export const MAX_BODY = 2000; // what a reply may hold
const SHORTCUT_RE = /^[a-z0-9_-]{1,32}$/;

/**
 * @typedef {{id: string, shortcut: string, body: string, createdBy: string, updatedAt: string}} Canned
 * @typedef {{visitorName?: string, visitorEmail?: string, agentName?: string}} PlaceholderValues
 */

/**
 * Fills in a body's placeholders: {{visitor.name}} (a visitor who gave no
 * name is "there", so "Hi {{visitor.name}}," reads "Hi there,"),
 * {{visitor.email}} and {{agent.name}} ("" without a value). Any other
 * {{…}} stays as typed.
 * @param {string} body
 * @param {PlaceholderValues} v
 * @returns {string}
 */
export function expand(body, v) {
  /** @type {Record<string, string>} */
  const values = {
    'visitor.name': (v.visitorName || '').trim() || 'there',
    'visitor.email': (v.visitorEmail || '').trim(),
    'agent.name': (v.agentName || '').trim(),
  };
  return body.replace(/\{\{\s*([a-z]+\.[a-z]+)\s*\}\}/gi, (all, name) => {
    const key = name.toLowerCase();
    return Object.hasOwn(values, key) ? values[key] : all;
  });
}

/** The team's canned replies, sorted by shortcut, kept live. */
export class CannedList {
  constructor() {
    /** @type {Canned[]} */
    this.items = [];
    this.loaded = false;
    this.gen = 0;
    /** @type {Set<() => void>} */
    this.listeners = new Set();
  }

  /** @param {() => void} fn called after every change */
  subscribe(fn) {
    this.listeners.add(fn);
  }

  changed() {
    for (const fn of this.listeners) fn();
  }

  /** Loads the whole list (stream opened afresh, or reset). */
  async load() {
    const gen = ++this.gen;
    try {
      const { canned } = await api.listCanned();
      if (gen !== this.gen) return;
      this.items = canned;
      this.loaded = true;
      this.changed();
    } catch {
      // Offline or signed out: the next stream open loads again.
    }
  }

  clear() {
    this.gen++;
    this.items = [];
    this.loaded = false;
    this.changed();
  }

  /** @param {Canned} c added or changed (a canned.updated event, or an answer) */
  upsert(c) {
    const rest = this.items.filter((x) => x.id !== c.id);
    rest.push(c);
    rest.sort((a, b) => (a.shortcut < b.shortcut ? -1 : a.shortcut > b.shortcut ? 1 : 0));
    this.items = rest;
    this.changed();
  }

  /** @param {string} id deleted (a canned.deleted event, or an answer) */
  remove(id) {
    const before = this.items.length;
    this.items = this.items.filter((x) => x.id !== id);
    if (this.items.length !== before) this.changed();
  }

  /**
   * The canned replies whose shortcut starts with query, then those that
   * only contain it.
   * @param {string} query
   * @returns {Canned[]}
   */
  match(query) {
    const q = query.toLowerCase();
    const starts = this.items.filter((c) => c.shortcut.startsWith(q));
    const inside = q ? this.items.filter((c) => !c.shortcut.startsWith(q) && c.shortcut.includes(q)) : [];
    return starts.concat(inside);
  }
}

/** The "Canned replies" page: list, add, edit, delete. */
export class CannedPage {
  /**
   * @param {{root: HTMLElement, dialog: HTMLDialogElement}} ui
   * @param {CannedList} list
   * @param {{toast: (msg: string, kind?: string) => void}} hooks
   */
  constructor(ui, list, hooks) {
    this.ui = ui;
    this.list = list;
    this.hooks = hooks;
    /** @type {Canned|null} the one being edited */
    this.editing = null;
    /** the id this console is deleting: its own delete is no news */
    this.deleting = '';
    this.built = false;
    list.subscribe(() => this.renderList());
  }

  /** Shows the page (built on first use). */
  show() {
    if (!this.built) this.build();
    this.renderList();
    if (!this.list.loaded) this.list.load();
  }

  build() {
    this.built = true;
    const shortcut = /** @type {HTMLInputElement} */ (el('input', {
      id: 'canned-shortcut', type: 'text', maxlength: String(MAX_SHORTCUT + 1), autocomplete: 'off', spellcheck: 'false',
      autocapitalize: 'none', placeholder: 'hello', required: true, 'aria-describedby': 'canned-shortcut-help',
    }));
    const body = /** @type {HTMLTextAreaElement} */ (el('textarea', {
      id: 'canned-body', dir: 'auto', rows: '4', maxlength: String(MAX_BODY), required: true,
      placeholder: 'Hi {{visitor.name}}, thanks for reaching out!', 'aria-describedby': 'canned-body-help',
    }));
    const error = el('p', { class: 'form-error', role: 'alert', hidden: true });
    const submit = /** @type {HTMLButtonElement} */ (el('button', { class: 'btn btn-primary', type: 'submit', text: 'Add canned reply' }));
    const cancel = /** @type {HTMLButtonElement} */ (el('button', { class: 'btn', type: 'button', text: 'Cancel', hidden: true, onclick: () => this.stopEditing() }));
    const title = el('h2', { id: 'canned-form-title', text: 'New canned reply' });
    const form = /** @type {HTMLFormElement} */ (el('form', { class: 'canned-form', 'aria-labelledby': 'canned-form-title', novalidate: true },
      title,
      el('label', { for: 'canned-shortcut', text: 'Shortcut' }),
      el('div', { class: 'canned-shortcut-field' }, el('span', { class: 'slash', 'aria-hidden': 'true', text: '/' }), shortcut),
      el('p', { id: 'canned-shortcut-help', class: 'help', text: `Up to ${MAX_SHORTCUT} letters, digits, - or _. Type / and the shortcut in the reply box to insert it.` }),
      el('label', { for: 'canned-body', text: 'Reply' }),
      body,
      el('p', { id: 'canned-body-help', class: 'help' },
        'Placeholders, filled in when you insert the reply: ',
        el('code', { text: '{{visitor.name}}' }), ' (“there” when the visitor gave no name), ',
        el('code', { text: '{{visitor.email}}' }), ', ',
        el('code', { text: '{{agent.name}}' }), ' (your display name). Others stay as typed.'),
      error,
      el('div', { class: 'canned-actions' }, cancel, submit)));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.save();
    });
    this.form = { form, title, shortcut, body, error, submit, cancel };
    this.listEl = el('ul', { id: 'canned-list', class: 'canned-list', 'aria-label': 'Canned replies' });
    this.countEl = el('p', { class: 'muted' });
    replaceChildren(this.ui.root,
      el('div', { class: 'page-head' },
        el('div', {}, el('h1', { text: 'Canned replies' }), this.countEl)),
      el('p', { class: 'muted', text: 'Snippets the whole team shares. Every agent can add, edit and delete them; changes reach every console at once.' }),
      el('div', { class: 'canned-layout' }, form, el('section', { class: 'canned-items', 'aria-label': 'Saved canned replies' }, this.listEl)));
  }

  renderList() {
    if (!this.built || !this.listEl || !this.countEl) return;
    const items = this.list.items;
    if (this.editing && !items.some((c) => c.id === this.editing?.id)) {
      const mine = this.editing.id === this.deleting;
      this.stopEditing();
      if (!mine) this.hooks.toast('The canned reply you were editing was deleted.');
    }
    this.countEl.textContent = !this.list.loaded ? 'Loading…'
      : items.length === 1 ? '1 canned reply' : `${items.length} canned replies`;
    if (this.list.loaded && items.length === 0) {
      replaceChildren(this.listEl, el('li', { class: 'empty canned-empty' },
        el('p', { class: 'empty-title', text: 'No canned replies yet' }),
        el('p', { class: 'empty-text', text: 'Add the answers you give often; type / in the reply box to use them.' })));
      return;
    }
    replaceChildren(this.listEl, ...items.map((c) => el('li', { class: 'canned-item' + (this.editing?.id === c.id ? ' editing' : ''), dataset: { id: c.id } },
      el('div', { class: 'canned-item-head' },
        el('code', { class: 'canned-shortcut', text: '/' + c.shortcut }),
        el('span', { class: 'muted canned-by', text: c.createdBy ? 'by ' + c.createdBy : '' }),
        el('button', { class: 'btn btn-ghost btn-sm', type: 'button', text: 'Edit', 'aria-label': `Edit /${c.shortcut}`, onclick: () => this.startEditing(c) }),
        el('button', { class: 'btn btn-ghost btn-sm btn-danger', type: 'button', text: 'Delete', 'aria-label': `Delete /${c.shortcut}`, onclick: () => this.confirmDelete(c) })),
      el('p', { class: 'canned-body', dir: 'auto', text: c.body }))));
  }

  /** @param {Canned} c */
  startEditing(c) {
    const f = this.form;
    if (!f) return;
    this.editing = c;
    f.title.textContent = 'Edit /' + c.shortcut;
    f.shortcut.value = c.shortcut;
    f.body.value = c.body;
    f.submit.textContent = 'Save';
    f.cancel.hidden = false;
    f.error.hidden = true;
    this.renderList();
    f.body.focus();
  }

  stopEditing() {
    const f = this.form;
    if (!f) return;
    this.editing = null;
    f.title.textContent = 'New canned reply';
    f.form.reset();
    f.submit.textContent = 'Add canned reply';
    f.cancel.hidden = true;
    f.error.hidden = true;
    this.renderList();
  }

  /** @param {string} msg */
  showError(msg) {
    if (!this.form) return;
    this.form.error.textContent = msg;
    this.form.error.hidden = false;
  }

  async save() {
    const f = this.form;
    if (!f) return;
    const shortcut = f.shortcut.value.trim().replace(/^\//, '').toLowerCase();
    const body = f.body.value.trim();
    if (!SHORTCUT_RE.test(shortcut)) {
      this.showError(`The shortcut must be 1 to ${MAX_SHORTCUT} letters, digits, - or _.`);
      f.shortcut.focus();
      return;
    }
    if (!body) {
      this.showError('Write the reply.');
      f.body.focus();
      return;
    }
    f.submit.disabled = true;
    f.submit.classList.add('busy');
    f.error.hidden = true;
    try {
      const editing = this.editing;
      const { canned } = editing
        ? await api.updateCanned(editing.id, { shortcut, body })
        : await api.addCanned(shortcut, body);
      this.list.upsert(canned);
      this.hooks.toast(editing ? `Saved /${canned.shortcut}.` : `Added /${canned.shortcut}.`);
      this.stopEditing();
      f.shortcut.focus();
    } catch (err) {
      if (api.isUnauthorized(err)) return;
      if (err instanceof api.ApiError && err.code === 'conflict') this.showError(`Another canned reply already uses /${shortcut}.`);
      else if (err instanceof api.ApiError && err.code === 'not_found') {
        this.showError('This canned reply was deleted meanwhile.');
        this.list.load();
      } else this.showError(api.describeError(err));
    } finally {
      f.submit.disabled = false;
      f.submit.classList.remove('busy');
    }
  }

  /** @param {Canned} c asks, then deletes */
  confirmDelete(c) {
    const d = this.ui.dialog;
    const name = d.querySelector('[data-shortcut]');
    if (name) name.textContent = '/' + c.shortcut;
    d.returnValue = '';
    d.addEventListener('close', async () => {
      if (d.returnValue !== 'delete') return;
      this.deleting = c.id;
      try {
        await api.deleteCanned(c.id);
        if (this.editing?.id === c.id) this.stopEditing();
        this.list.remove(c.id);
        this.hooks.toast(`Deleted /${c.shortcut}.`);
      } catch (err) {
        if (api.isUnauthorized(err)) return;
        if (err instanceof api.ApiError && err.status === 404) this.list.remove(c.id);
        else this.hooks.toast(api.describeError(err), 'error');
      } finally {
        this.deleting = '';
      }
    }, { once: true });
    d.showModal();
  }
}
