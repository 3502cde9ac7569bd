// The Team page (#/team): every agent with their role, email and whether
// they are online. An owner adds agents (the password, generated or chosen,
// is shown once), changes roles, resets passwords and removes agents, each
// behind a confirmation; an agent sees the list read-only. The admin
// stream's agent.updated and agent.removed keep it current in place.

import { el, replaceChildren } from '../widget/dom.js';
import * as api from './api.js';
import { confirmDialog, showOnce } from './dialogs.js';
import { HoursSection } from './hours.js';
import { initials } from './people.js';

/** @typedef {{username: string, displayName: string, email: string, role: string, online?: boolean}} Agent */

export const ROLES = [['agent', 'Agent'], ['owner', 'Owner']];

export class Team {
  /**
   * @param {{root: HTMLElement}} ui
   * @param {{me: () => {username: string, role: string}, toast: (msg: string, kind?: string) => void}} hooks
   */
  constructor(ui, hooks) {
    this.ui = ui;
    this.hooks = hooks;
    /** @type {Map<string, Agent>} */
    this.agents = new Map();
    this.loaded = false;
    this.gen = 0;
    /** @type {HTMLElement|null} */
    this.list = null;
    this.hours = new HoursSection(hooks);
  }

  /** @returns {boolean} the signed-in admin is an owner */
  get owner() {
    return this.hooks.me().role === 'owner';
  }

  clear() {
    this.gen++;
    this.loaded = false;
    this.agents.clear();
    this.list = null;
    replaceChildren(this.ui.root);
  }

  /** Loads the team and draws the page. */
  async load() {
    const gen = ++this.gen;
    if (!this.loaded) replaceChildren(this.ui.root, el('p', { class: 'muted pad', text: 'Loading the team…' }));
    try {
      const { agents } = await api.listAgents();
      if (gen !== this.gen) return;
      this.agents = new Map(agents.map((/** @type {Agent} */ a) => [a.username, a]));
      this.loaded = true;
      this.render();
      this.hours.load(this.owner);
    } catch (err) {
      if (gen !== this.gen || api.isUnauthorized(err)) return;
      replaceChildren(this.ui.root, el('p', { class: 'form-error', role: 'alert', text: api.describeError(err) }));
    }
  }

  /** @param {Agent} a an agent.updated event's agent */
  applyAgent(a) {
    const known = this.agents.get(a.username);
    // Events do not say who is online: keep what the list said.
    this.agents.set(a.username, { ...a, online: known?.online ?? a.online });
    if (this.loaded) this.render();
  }

  /** @param {string} username an agent.removed event's */
  removeAgent(username) {
    this.agents.delete(username);
    if (this.loaded) this.render();
  }

  /** Draws the whole page from this.agents (the team is small). */
  render() {
    const owner = this.owner;
    const sorted = [...this.agents.values()].sort((a, b) => a.username.localeCompare(b.username));
    this.list = el('ul', { class: 'team-list', 'aria-label': 'Agents' }, sorted.map((a) => this.row(a, owner)));
    replaceChildren(this.ui.root,
      el('div', { class: 'page-head' },
        el('div', {},
          el('h1', { text: 'Team' }),
          el('p', { class: 'muted', text: owner
            ? 'Add agents, change their roles, reset their passwords. Owners manage the team and may delete conversations.'
            : 'Everyone who answers here. Only an owner can change the team.' })),
        owner ? el('button', { class: 'btn btn-primary', type: 'button', 'data-action': 'add-agent', text: 'Add agent', onclick: () => this.openAdd() }) : null),
      el('div', { class: 'card' }, this.list),
      this.hours.root);
  }

  /**
   * @param {Agent} a
   * @param {boolean} owner the viewer may manage
   * @returns {HTMLElement}
   */
  row(a, owner) {
    const me = this.hooks.me().username === a.username;
    const name = a.displayName || a.username;
    return el('li', { class: 'team-row', 'data-agent': a.username },
      el('span', { class: 'avatar av-me', 'aria-hidden': 'true', text: initials(name) }),
      el('div', { class: 'team-who' },
        el('span', { class: 'team-name', text: name + (me ? ' (you)' : '') }),
        el('span', { class: 'muted team-sub', text: '@' + a.username + (a.email ? ' · ' + a.email : '') })),
      a.online === undefined ? null : el('span', { class: 'team-online' + (a.online ? ' on' : ''), text: a.online ? 'Online' : 'Offline' }),
      owner
        ? el('label', { class: 'team-role' },
          el('span', { class: 'visually-hidden', text: 'Role of ' + name }),
          el('select', { 'data-role-of': a.username, onchange: (/** @type {Event} */ e) => this.changeRole(a, /** @type {HTMLSelectElement} */ (e.target)) },
            ROLES.map(([v, label]) => el('option', { value: v, text: label, selected: v === a.role }))))
        : el('span', { class: 'tag ' + (a.role === 'owner' ? 'tag-owner' : 'tag-muted'), 'data-role': a.role, text: a.role === 'owner' ? 'Owner' : 'Agent' }),
      owner ? el('div', { class: 'team-actions' },
        // Your own password is changed in "Your profile", with the current one.
        me ? null : el('button', { class: 'btn btn-sm', type: 'button', 'data-action': 'reset', 'aria-label': 'Reset ' + name + '’s password', text: 'Reset password', onclick: () => this.confirmReset(a) }),
        el('button', { class: 'btn btn-sm btn-danger', type: 'button', 'data-action': 'remove', 'aria-label': 'Remove ' + name, text: 'Remove', onclick: () => this.confirmRemove(a) })) : null);
  }

  /**
   * @param {Agent} a
   * @param {HTMLSelectElement} select
   */
  async changeRole(a, select) {
    const role = select.value;
    select.disabled = true;
    try {
      const { agent } = await api.updateAgent(a.username, { role });
      this.applyAgent(agent);
      this.hooks.toast(`${agent.displayName || agent.username} is now ${role === 'owner' ? 'an owner' : 'an agent'}.`);
    } catch (err) {
      select.value = a.role;
      if (!api.isUnauthorized(err)) this.hooks.toast(api.describeError(err), 'error');
    } finally {
      select.disabled = false;
    }
  }

  /** @param {Agent} a */
  async confirmReset(a) {
    const name = a.displayName || a.username;
    if (!await confirmDialog('agent-confirm', `Reset ${name}’s password?`,
      `A new password is made and shown to you once. ${name} is signed out everywhere at once and signs in with the new one.`, 'Reset password', false)) return;
    try {
      const { password } = await api.updateAgent(a.username, { password: true });
      showPassword(a.username, password);
    } catch (err) {
      if (!api.isUnauthorized(err)) this.hooks.toast(api.describeError(err), 'error');
    }
  }

  /** @param {Agent} a */
  async confirmRemove(a) {
    const name = a.displayName || a.username;
    if (!await confirmDialog('agent-confirm', `Remove ${name}?`,
      `${name} is signed out everywhere at once and can no longer sign in. Their conversations stay.`, 'Remove', true)) return;
    try {
      await api.removeAgent(a.username);
      this.removeAgent(a.username);
      this.hooks.toast(`${name} was removed.`);
    } catch (err) {
      if (!api.isUnauthorized(err)) this.hooks.toast(api.describeError(err), 'error');
    }
  }

  /** The "Add agent" dialog; on success, the password is shown once. */
  openAdd() {
    const d = addDialog();
    const form = /** @type {HTMLFormElement} */ (d.querySelector('form'));
    const error = /** @type {HTMLElement} */ (form.querySelector('.form-error'));
    const chosen = /** @type {HTMLInputElement} */ (form.elements.namedItem('password'));
    const choose = /** @type {HTMLInputElement} */ (form.querySelector('[name="pwmode"][value="choose"]'));
    form.reset();
    error.hidden = true;
    chosen.disabled = true;
    if (!d.dataset.bound) {
      d.dataset.bound = '1';
      for (const r of form.querySelectorAll('[name="pwmode"]')) {
        r.addEventListener('change', () => {
          chosen.disabled = !choose.checked;
          if (choose.checked) chosen.focus();
        });
      }
      /** @type {HTMLElement} */ (form.querySelector('[value="cancel"]')).addEventListener('click', () => d.close());
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        const f = new FormData(form);
        /** @type {Record<string, string>} */
        const body = {
          username: String(f.get('username') || '').trim(),
          displayName: String(f.get('displayName') || '').trim(),
          email: String(f.get('email') || '').trim(),
          role: String(f.get('role') || 'agent'),
        };
        if (choose.checked) body.password = chosen.value;
        const save = /** @type {HTMLButtonElement} */ (form.querySelector('[type="submit"]'));
        save.disabled = true;
        save.classList.add('busy');
        error.hidden = true;
        try {
          const { agent, password } = await api.createAgent(body);
          d.close();
          this.applyAgent(agent);
          if (password && !choose.checked) showPassword(agent.username, password);
          else this.hooks.toast(`${agent.displayName || agent.username} was added.`);
        } catch (err) {
          if (api.isUnauthorized(err)) return;
          error.textContent = api.describeError(err);
          error.hidden = false;
        } finally {
          save.disabled = false;
          save.classList.remove('busy');
        }
      });
    }
    d.showModal();
    /** @type {HTMLElement} */ (form.elements.namedItem('username')).focus();
  }
}

/** @returns {HTMLDialogElement} the add dialog, built once */
function addDialog() {
  const found = /** @type {HTMLDialogElement|null} */ (document.getElementById('agent-add'));
  if (found) return found;
  const d = /** @type {HTMLDialogElement} */ (el('dialog', { id: 'agent-add', class: 'dialog profile', 'aria-labelledby': 'agent-add-title' },
    el('form', { novalidate: true },
      el('h2', { id: 'agent-add-title', text: 'Add an agent' }),
      el('label', { for: 'agent-username', text: 'Username' }),
      el('input', { id: 'agent-username', name: 'username', type: 'text', maxlength: '64', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', required: true }),
      el('label', { for: 'agent-name', text: 'Display name' }),
      el('input', { id: 'agent-name', name: 'displayName', type: 'text', maxlength: '80', autocomplete: 'off' }),
      el('label', { for: 'agent-email', text: 'Email' }),
      el('input', { id: 'agent-email', name: 'email', type: 'email', maxlength: '254', autocomplete: 'off', spellcheck: 'false' }),
      el('label', { for: 'agent-role', text: 'Role' }),
      el('select', { id: 'agent-role', name: 'role' }, ROLES.map(([v, label]) => el('option', { value: v, text: label }))),
      el('fieldset', { class: 'profile-notify' },
        el('legend', { text: 'Password' }),
        el('label', { class: 'radio' }, el('input', { type: 'radio', name: 'pwmode', value: 'generate', checked: true }), el('span', { text: 'Generate one (shown once)' })),
        el('label', { class: 'radio' }, el('input', { type: 'radio', name: 'pwmode', value: 'choose' }), el('span', { text: 'Choose one' })),
        el('input', { name: 'password', type: 'password', 'aria-label': 'Chosen password', placeholder: '8 to 72 characters', minlength: '8', maxlength: '72', autocomplete: 'new-password', disabled: true })),
      el('p', { class: 'form-error', role: 'alert', hidden: true }),
      el('div', { class: 'dialog-actions' },
        el('button', { class: 'btn', type: 'button', value: 'cancel', text: 'Cancel' }),
        el('button', { class: 'btn btn-primary', type: 'submit', text: 'Add agent' })))));
  document.body.append(d);
  return d;
}

/**
 * Shows a password that will not be shown again.
 * @param {string} username
 * @param {string} password
 */
function showPassword(username, password) {
  showOnce('agent-password', 'Password for ' + username,
    'Give it to them in a safe way. It is shown only this once: Parley keeps only its hash.', password, 'data-password');
}
