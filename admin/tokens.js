// The Tokens page (#/tokens, owners only): API tokens for scripts. An owner
// makes one (a name and its scopes; the token is shown once), reads the list
// (scopes, created, last used) and revokes one. The list reloads whenever
// the page is shown and when the tab comes back into view, so "last used"
// stays fresh without a stream event.

import { el, replaceChildren } from '../widget/dom.js';
import * as api from './api.js';
import { confirmDialog, onSubmit, showOnce } from './dialogs.js';
import { fullTime } from './time.js';

/** @typedef {import('./api.js').APIToken} APIToken */

export const SCOPES = [
  ['read', 'Read conversations, messages and the live stream'],
  ['reply', 'Reply: send messages and notes, typing, read marks'],
  ['manage', 'Manage: status, assignment, labels, block, delete'],
];

export class TokensPage {
  /**
   * @param {{root: HTMLElement}} ui
   * @param {{owner: () => boolean, toast: (msg: string, kind?: string) => void}} hooks
   */
  constructor(ui, hooks) {
    this.ui = ui;
    this.hooks = hooks;
    /** @type {APIToken[]} */
    this.items = [];
    this.gen = 0;
    this.shown = false;
    document.addEventListener('visibilitychange', () => {
      if (this.shown && document.visibilityState === 'visible') this.load();
    });
  }

  clear() {
    this.gen++;
    this.shown = false;
    this.items = [];
    replaceChildren(this.ui.root);
  }

  /** @param {boolean} on whether the page is on screen */
  setShown(on) { this.shown = on; }

  /** Loads the tokens and draws the page. */
  async load() {
    const gen = ++this.gen;
    if (!this.hooks.owner()) {
      replaceChildren(this.ui.root, el('div', { class: 'page-head' }, el('div', {},
        el('h1', { text: 'API tokens' }), el('p', { class: 'muted', text: 'Only an owner manages API tokens.' }))));
      return;
    }
    if (!this.items.length) replaceChildren(this.ui.root, el('p', { class: 'muted pad', text: 'Loading tokens…' }));
    try {
      const { tokens } = await api.listTokens();
      if (gen !== this.gen) return;
      this.items = tokens;
      this.render();
    } catch (err) {
      if (gen !== this.gen || api.isUnauthorized(err)) return;
      replaceChildren(this.ui.root, el('p', { class: 'form-error', role: 'alert', text: api.describeError(err) }));
    }
  }

  render() {
    replaceChildren(this.ui.root,
      el('div', { class: 'page-head' },
        el('div', {},
          el('h1', { text: 'API tokens' }),
          el('p', { class: 'muted', text: 'Scripts use a token as "Authorization: Bearer pat_…" on the admin API and the admin stream. A token acts as you, within its scopes; revoking it stops it at once.' }))),
      this.addForm(),
      el('div', { class: 'card' }, this.items.length
        ? el('ul', { class: 'team-list', 'aria-label': 'API tokens' }, this.items.map((t) => this.row(t)))
        : el('p', { class: 'muted', text: 'No tokens yet.' })));
  }

  /** @returns {HTMLElement} the create form */
  addForm() {
    const error = el('p', { class: 'form-error', role: 'alert', hidden: true });
    const name = /** @type {HTMLInputElement} */ (el('input', { id: 'token-name', name: 'name', type: 'text', required: true, placeholder: 'Support bot', maxlength: '64', autocomplete: 'off' }));
    const boxes = SCOPES.map(([v, label]) => el('label', { class: 'radio' },
      el('input', { type: 'checkbox', name: 'scopes', value: v, checked: v === 'read' }), el('span', { text: label })));
    const save = /** @type {HTMLButtonElement} */ (el('button', { class: 'btn btn-primary', type: 'submit', 'data-action': 'create-token', text: 'Create token' }));
    const form = /** @type {HTMLFormElement} */ (el('form', { class: 'card hook-add', novalidate: true },
      el('label', { for: 'token-name', text: 'Name' }), name,
      el('fieldset', { class: 'profile-notify' }, el('legend', { text: 'Scopes (reply and manage include read)' }), boxes),
      error, el('div', { class: 'dialog-actions' }, save)));
    onSubmit(form, save, error, async () => {
      const scopes = [...form.querySelectorAll('input[name="scopes"]:checked')].map((i) => /** @type {HTMLInputElement} */ (i).value);
      const { token } = await api.createToken({ name: name.value.trim(), scopes });
      form.reset();
      showOnce('token-secret', 'Token created',
        'Copy this token now: it is shown only this once. Parley keeps only its hash.', token.token || '', 'data-token-secret');
      await this.load();
    });
    return form;
  }

  /**
   * @param {APIToken} t
   * @returns {HTMLElement}
   */
  row(t) {
    const used = t.lastUsedAt
      ? el('span', { 'data-last-used': t.lastUsedAt, title: t.lastUsedAt, text: 'last used ' + fullTime(t.lastUsedAt) })
      : el('span', { 'data-last-used': '', text: 'never used' });
    return el('li', { class: 'hook-row', 'data-token': t.id },
      el('div', { class: 'team-row' },
        el('div', { class: 'team-who' },
          el('span', { class: 'team-name', text: t.name }),
          el('span', { class: 'muted team-sub' },
            el('span', { title: t.createdAt, text: 'created ' + fullTime(t.createdAt) + ' by ' + t.createdBy }),
            ' · ', used)),
        el('span', { class: 'token-scopes' }, t.scopes.map((s) => el('span', { class: 'tag tag-muted', 'data-scope': s, text: s }))),
        el('div', { class: 'team-actions' },
          el('button', { class: 'btn btn-sm btn-danger', type: 'button', 'data-action': 'revoke', 'aria-label': 'Revoke ' + t.name, text: 'Revoke', onclick: () => this.revoke(t) }))));
  }

  /** @param {APIToken} t */
  async revoke(t) {
    if (!await confirmDialog('token-confirm', 'Revoke this token?', `"${t.name}" stops working at once, and its open streams end. This cannot be undone.`, 'Revoke', true)) return;
    try {
      await api.revokeToken(t.id);
      this.hooks.toast('Token revoked.');
      await this.load();
    } catch (err) {
      if (!api.isUnauthorized(err)) this.hooks.toast(api.describeError(err), 'error');
    }
  }
}
