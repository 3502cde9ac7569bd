// The Labels page (#/labels): the team's labels with their colours. Owners
// add, rename, recolour and delete them (a deleted label comes off every
// conversation); agents see the list. The admin stream's `labels` event
// keeps it current through the roster.

import { el, replaceChildren } from '../widget/dom.js';
import * as api from './api.js';
import { roster } from './roster.js';
import { labelChip } from './workflow.js';

const PALETTE = ['#d97706', '#dc2626', '#16a34a', '#2563eb', '#7c3aed', '#db2777', '#0d9488', '#6b7280'];

export class LabelsPage {
  /**
   * @param {{root: HTMLElement}} ui
   * @param {{owner: () => boolean, toast: (msg: string, kind?: string) => void}} hooks
   */
  constructor(ui, hooks) {
    this.ui = ui;
    this.hooks = hooks;
    this.shown = false;
    /** @type {string} the label whose Delete asks to be confirmed */
    this.confirming = '';
    roster.subscribe(() => { if (this.shown) this.render(); });
  }

  show() {
    this.shown = true;
    this.render();
  }

  hide() {
    this.shown = false;
  }

  render() {
    const owner = this.hooks.owner();
    const name = /** @type {HTMLInputElement} */ (el('input', { name: 'name', maxlength: '40', required: true, placeholder: 'Billing', 'aria-label': 'New label name', dir: 'auto' }));
    const color = /** @type {HTMLInputElement} */ (el('input', { name: 'color', type: 'color', 'aria-label': 'Colour', value: PALETTE[roster.labels.length % PALETTE.length] }));
    const error = el('p', { class: 'form-error', role: 'alert', hidden: true });
    const form = el('form', { class: 'label-form', onsubmit: async (/** @type {Event} */ e) => {
      e.preventDefault();
      error.hidden = true;
      try {
        const { label } = await api.createLabel({ name: name.value, color: color.value });
        roster.setLabels([...roster.labels.filter((l) => l.id !== label.id), label]);
        this.hooks.toast(`Label “${label.name}” added.`);
      } catch (err) {
        if (api.isUnauthorized(err)) return;
        error.textContent = api.describeError(err);
        error.hidden = false;
      }
    } }, name, color, el('button', { class: 'btn btn-primary', type: 'submit', text: 'Add label' }), error);
    replaceChildren(this.ui.root,
      el('div', { class: 'page-head' },
        el('div', {},
          el('h1', { text: 'Labels' }),
          el('p', { class: 'muted', text: owner
            ? 'Labels sort conversations (Billing, Bug, VIP…). Agents put them on conversations; the inbox filters by them.'
            : 'Agents put labels on conversations; the inbox filters by them. Owners define them.' }))),
      owner ? el('div', { class: 'card' }, form) : null,
      el('div', { class: 'card' }, roster.labels.length === 0
        ? el('p', { class: 'muted pad', text: 'No labels yet.' })
        : el('ul', { class: 'label-list', 'aria-label': 'Labels' }, roster.labels.map((l) => this.row(l, owner)))));
  }

  /** @param {{id: string, name: string, color: string}} l @param {boolean} owner */
  row(l, owner) {
    if (!owner) return el('li', { class: 'label-row', 'data-label': l.id }, labelChip(l));
    const name = /** @type {HTMLInputElement} */ (el('input', { value: l.name, maxlength: '40', 'aria-label': `Name of ${l.name}`, dir: 'auto' }));
    const color = /** @type {HTMLInputElement} */ (el('input', { type: 'color', value: l.color, 'aria-label': `Colour of ${l.name}` }));
    const confirming = this.confirming === l.id;
    return el('li', { class: 'label-row', 'data-label': l.id },
      labelChip(l), name, color,
      el('button', { class: 'btn btn-sm', type: 'button', text: 'Save', onclick: () => this.save(l, name.value, color.value) }),
      el('button', {
        class: 'btn btn-sm btn-danger', type: 'button', 'data-action': 'delete-label',
        text: confirming ? 'Delete from every conversation?' : 'Delete',
        onclick: () => (confirming ? this.remove(l) : this.askDelete(l.id)),
      }));
  }

  /** @param {string} id */
  askDelete(id) {
    this.confirming = id;
    this.render();
  }

  /** @param {{id: string, name: string, color: string}} l @param {string} name @param {string} color */
  async save(l, name, color) {
    try {
      const { label } = await api.updateLabel(l.id, { name, color });
      roster.setLabels(roster.labels.map((x) => (x.id === label.id ? label : x)));
      this.hooks.toast('Label saved.');
    } catch (err) {
      if (!api.isUnauthorized(err)) this.hooks.toast(api.describeError(err), 'error');
    }
  }

  /** @param {{id: string, name: string}} l */
  async remove(l) {
    this.confirming = '';
    try {
      await api.deleteLabel(l.id);
      roster.setLabels(roster.labels.filter((x) => x.id !== l.id));
      this.hooks.toast(`Label “${l.name}” deleted.`);
    } catch (err) {
      if (!api.isUnauthorized(err)) this.hooks.toast(api.describeError(err), 'error');
      this.render();
    }
  }
}
