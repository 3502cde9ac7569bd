// "Your profile": the signed-in admin's display name, notification address,
// when to be mailed about new conversations and their password (GET/PATCH
// /api/v1/admin/me), in a dialog opened from the header. With email off on the server it says
// so, and how to turn it on, under the preference.

import { el, replaceChildren } from '../widget/dom.js';
import * as api from './api.js';

/** The notify preferences the API knows: value and label. */
export const NOTIFY_CHOICES = [['always', 'Always'], ['offline', 'Only when I’m not online'], ['never', 'Never']];

/**
 * @typedef {{username: string, displayName: string, email: string, notify: string, role?: string}} Profile
 */

/**
 * The dialog, built once on first use.
 * @returns {HTMLDialogElement}
 */
function profileDialog() {
  const found = /** @type {HTMLDialogElement|null} */ (document.getElementById('profile-dialog'));
  if (found) return found;
  const d = /** @type {HTMLDialogElement} */ (el('dialog', { id: 'profile-dialog', class: 'dialog profile', 'aria-labelledby': 'profile-title' },
    el('form', { novalidate: true },
      el('h2', { id: 'profile-title', text: 'Your profile' }),
      el('p', { class: 'muted profile-user', 'data-user': true }),
      el('label', { for: 'profile-name', text: 'Display name' }),
      el('input', { id: 'profile-name', name: 'displayName', type: 'text', maxlength: '80', autocomplete: 'name' }),
      el('label', { for: 'profile-email', text: 'Email' }),
      el('input', { id: 'profile-email', name: 'email', type: 'email', maxlength: '254', autocomplete: 'email', spellcheck: 'false', placeholder: 'you@example.com', 'aria-describedby': 'profile-email-note' }),
      el('p', { id: 'profile-email-note', class: 'muted profile-note', text: 'Where notification mails go. Leave it empty for none.' }),
      el('fieldset', { class: 'profile-notify', 'aria-describedby': 'profile-mail-off' },
        el('legend', { text: 'Email me about new conversations' }),
        NOTIFY_CHOICES.map(([v, label]) => el('label', { class: 'radio' },
          el('input', { type: 'radio', name: 'notify', value: v }), el('span', { text: label })))),
      el('p', { id: 'profile-mail-off', class: 'profile-mail-off', role: 'note', hidden: true }),
      el('details', { class: 'profile-password' },
        el('summary', { text: 'Change password' }),
        el('label', { for: 'profile-current', text: 'Current password' }),
        el('input', { id: 'profile-current', name: 'currentPassword', type: 'password', autocomplete: 'current-password' }),
        el('label', { for: 'profile-new', text: 'New password' }),
        el('input', { id: 'profile-new', name: 'newPassword', type: 'password', minlength: '8', maxlength: '72', autocomplete: 'new-password', 'aria-describedby': 'profile-new-note' }),
        el('p', { id: 'profile-new-note', class: 'muted profile-note', text: '8 to 72 characters. Your other sessions are signed out.' })),
      el('p', { class: 'form-error', role: 'alert', hidden: true }),
      el('div', { class: 'dialog-actions' },
        el('button', { class: 'btn', type: 'button', value: 'cancel', text: 'Cancel' }),
        el('button', { class: 'btn btn-primary', type: 'submit', value: 'save', text: 'Save' })))));
  document.body.append(d);
  return d;
}

/** Opens the profile dialog from a header button and saves what changed. */
export class ProfileEditor {
  /**
   * @param {HTMLElement} button the header button: focus returns to it
   * @param {{toast: (msg: string, kind?: string) => void, onSaved: (p: Profile) => void, onToken: (token: string, expiresAt: string) => void}} hooks
   */
  constructor(button, hooks) {
    this.button = button;
    this.hooks = hooks;
    /** @type {Profile|null} the profile as the server last answered it */
    this.loaded = null;
    this.gen = 0;
    button.addEventListener('click', () => this.open());
  }

  /** The dialog's parts. */
  parts() {
    const d = profileDialog();
    const form = /** @type {HTMLFormElement} */ (d.querySelector('form'));
    if (!d.dataset.bound) {
      d.dataset.bound = '1';
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        this.save();
      });
      /** @type {HTMLElement} */ (form.querySelector('[value="cancel"]')).addEventListener('click', () => d.close());
      d.addEventListener('close', () => {
        // The event comes a task late: by then the dialog may be open again.
        if (d.open) return;
        this.gen++;
        if (this.button.offsetParent) this.button.focus();
      });
    }
    return {
      d, form,
      name: /** @type {HTMLInputElement} */ (form.elements.namedItem('displayName')),
      email: /** @type {HTMLInputElement} */ (form.elements.namedItem('email')),
      current: /** @type {HTMLInputElement} */ (form.elements.namedItem('currentPassword')),
      fresh: /** @type {HTMLInputElement} */ (form.elements.namedItem('newPassword')),
      pwBox: /** @type {HTMLDetailsElement} */ (form.querySelector('.profile-password')),
      radios: /** @type {HTMLInputElement[]} */ ([...form.querySelectorAll('input[name="notify"]')]),
      user: /** @type {HTMLElement} */ (form.querySelector('[data-user]')),
      mailOff: /** @type {HTMLElement} */ (form.querySelector('.profile-mail-off')),
      error: /** @type {HTMLElement} */ (form.querySelector('.form-error')),
      save: /** @type {HTMLButtonElement} */ (form.querySelector('[type="submit"]')),
    };
  }

  /** Shows the dialog and fills it from the server. */
  async open() {
    const p = this.parts();
    const gen = ++this.gen;
    this.loaded = null;
    p.form.reset();
    p.pwBox.open = false;
    p.error.hidden = true;
    p.mailOff.hidden = true;
    p.user.textContent = 'Loading…';
    setDisabled(p, true);
    p.d.showModal();
    try {
      const [me, mail] = await Promise.all([api.adminMe(), api.mailStatus().catch(() => null)]);
      if (gen !== this.gen) return;
      this.fill(p, me, mail);
    } catch (err) {
      if (gen !== this.gen || api.isUnauthorized(err)) return;
      p.user.textContent = '';
      showError(p, api.describeError(err));
      /** @type {HTMLElement} */ (p.form.querySelector('[value="cancel"]')).focus();
    }
  }

  /**
   * @param {ReturnType<ProfileEditor['parts']>} p
   * @param {Profile} me
   * @param {{enabled: boolean, hint?: string}|null} mail null when it could not be told
   */
  fill(p, me, mail) {
    this.loaded = me;
    p.user.textContent = 'Signed in as ' + me.username;
    p.name.value = me.displayName || '';
    p.email.value = me.email || '';
    for (const r of p.radios) r.checked = r.value === me.notify;
    setDisabled(p, false);
    if (mail && !mail.enabled) {
      replaceChildren(p.mailOff, el('strong', { text: 'No mail is sent yet. ' }),
        capitalize(mail.hint || 'email is off on this server: set PARLEY_SMTP_URL') + '. Your choice is kept for when it is on.');
      p.mailOff.hidden = false;
    }
    p.name.focus();
  }

  /** Sends the fields that changed; a refusal stays in the dialog. */
  async save() {
    const p = this.parts();
    const was = this.loaded;
    if (!was) return;
    /** @type {Partial<Profile> & {password?: string, currentPassword?: string}} */
    const change = {};
    const name = p.name.value.trim();
    const email = p.email.value.trim();
    const notify = p.radios.find((r) => r.checked)?.value || was.notify;
    if (name !== (was.displayName || '')) change.displayName = name;
    if (email !== (was.email || '')) change.email = email;
    if (notify !== was.notify) change.notify = notify;
    if (p.fresh.value) {
      if (!p.current.value) {
        showError(p, 'Enter your current password to change it.');
        p.current.focus();
        return;
      }
      change.password = p.fresh.value;
      change.currentPassword = p.current.value;
    }
    if (!Object.keys(change).length) {
      p.d.close();
      return;
    }
    const gen = this.gen;
    p.error.hidden = true;
    p.save.disabled = true;
    p.save.classList.add('busy');
    try {
      const saved = await api.updateAdminMe(change);
      if (gen !== this.gen) return;
      this.loaded = saved;
      if (saved.token && saved.expiresAt) this.hooks.onToken(saved.token, saved.expiresAt);
      p.d.close();
      this.hooks.onSaved(saved);
      this.hooks.toast(change.password !== undefined ? 'Password changed. Your other sessions were signed out.'
        : change.displayName !== undefined
        ? 'Profile saved. Your replies carry the new name from your next sign-in.'
        : 'Profile saved.');
    } catch (err) {
      if (gen !== this.gen || api.isUnauthorized(err)) return;
      showError(p, api.describeError(err));
      const field = err instanceof api.ApiError && /^email/.test(err.message) ? p.email
        : err instanceof api.ApiError && /^displayName/.test(err.message) ? p.name
          : err instanceof api.ApiError && /^currentPassword/.test(err.message) ? p.current
            : err instanceof api.ApiError && /^password/.test(err.message) ? p.fresh : null;
      field?.focus();
    } finally {
      p.save.disabled = false;
      p.save.classList.remove('busy');
    }
  }
}

/** @param {ReturnType<ProfileEditor['parts']>} p @param {boolean} off */
function setDisabled(p, off) {
  p.name.disabled = off;
  p.email.disabled = off;
  p.current.disabled = off;
  p.fresh.disabled = off;
  for (const r of p.radios) r.disabled = off;
  p.save.disabled = off;
}

/** @param {ReturnType<ProfileEditor['parts']>} p @param {string} msg */
function showError(p, msg) {
  p.error.textContent = msg;
  p.error.hidden = false;
}

/** @param {string} s */
function capitalize(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
