// The console's small modal dialogs built on the fly: a yes/no question,
// and a secret shown only once (a generated password, a signing secret).
// Each is removed from the page when it closes.

import { el } from '../widget/dom.js';
import * as api from './api.js';

/**
 * Asks a yes/no question in a modal dialog.
 * @param {string} id the dialog's id (its title's is id + '-title')
 * @param {string} title
 * @param {string} text
 * @param {string} yes the confirming button's label
 * @param {boolean} danger
 * @returns {Promise<boolean>}
 */
export function confirmDialog(id, title, text, yes, danger) {
  const d = /** @type {HTMLDialogElement} */ (el('dialog', { class: 'dialog', id, 'aria-labelledby': id + '-title' },
    el('form', { method: 'dialog' },
      el('h2', { id: id + '-title', text: title }),
      el('p', { text }),
      el('div', { class: 'dialog-actions' },
        el('button', { class: 'btn', value: 'cancel', type: 'submit', text: 'Cancel' }),
        el('button', { class: danger ? 'btn btn-danger-solid' : 'btn btn-primary', value: 'yes', type: 'submit', text: yes })))));
  document.body.append(d);
  return new Promise((resolve) => {
    d.addEventListener('close', () => {
      resolve(d.returnValue === 'yes');
      d.remove();
    });
    d.showModal();
    /** @type {HTMLElement} */ (d.querySelector('[value="cancel"]')).focus();
  });
}

/**
 * Shows a secret that will not be shown again, with a Copy button; it is
 * gone from the page once the dialog closes.
 * @param {string} id the dialog's id (its title's is id + '-title')
 * @param {string} title
 * @param {string} text what the secret is for
 * @param {string} secret
 * @param {string} marker a data- attribute the secret's element carries
 */
export function showOnce(id, title, text, secret, marker) {
  const code = el('code', { class: 'secret', [marker]: true, text: secret });
  const copy = el('button', { class: 'btn', type: 'button', text: 'Copy' });
  const d = /** @type {HTMLDialogElement} */ (el('dialog', { class: 'dialog', id, 'aria-labelledby': id + '-title' },
    el('form', { method: 'dialog' },
      el('h2', { id: id + '-title', text: title }),
      el('p', { text }),
      el('p', { class: 'secret-row' }, code, copy),
      el('div', { class: 'dialog-actions' }, el('button', { class: 'btn btn-primary', value: 'done', type: 'submit', text: 'Done' })))));
  copy.addEventListener('click', () => {
    navigator.clipboard?.writeText(secret).then(() => { copy.textContent = 'Copied'; }, () => {});
  });
  d.addEventListener('close', () => d.remove());
  document.body.append(d);
  d.showModal();
}

/**
 * Runs a page's add form: on submit, save is disabled and the error line
 * hidden while action runs; a refusal is said in the error line (a lost
 * session is the app's to handle), and save comes back either way.
 * @param {HTMLFormElement} form
 * @param {HTMLButtonElement} save
 * @param {HTMLElement} error
 * @param {() => Promise<void>} action
 */
export function onSubmit(form, save, error, action) {
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    save.disabled = true;
    error.hidden = true;
    try {
      await action();
    } catch (err) {
      if (api.isUnauthorized(err)) return;
      error.textContent = api.describeError(err);
      error.hidden = false;
    } finally {
      save.disabled = false;
    }
  });
}
