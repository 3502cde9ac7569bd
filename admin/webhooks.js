// The Webhooks page (#/webhooks, owners only): the endpoints Parley POSTs
// signed events to. An owner adds one (URL and events; the secret is shown
// once), rotates its secret (the old one keeps signing for a day), deletes
// it, enables it again after it was marked failing, and reads each
// endpoint's recent deliveries (status, latency, the start of the answer)
// with a resend. A failing endpoint is flagged on the page and on the nav.

import { el, replaceChildren } from '../widget/dom.js';
import * as api from './api.js';
import { confirmDialog, onSubmit, showOnce } from './dialogs.js';

/** @typedef {import('./api.js').Webhook} Webhook */
/** @typedef {import('./api.js').WebhookDelivery} WebhookDelivery */

export const EVENTS = [
  ['conversation.created', 'A conversation starts'],
  ['message.created', 'A message (visitor or agent)'],
  ['conversation.updated', 'Status, assignment, labels or block change'],
  ['conversation.deleted', 'A conversation is deleted'],
];

export class WebhooksPage {
  /**
   * @param {{root: HTMLElement, nav: HTMLElement}} ui
   * @param {{owner: () => boolean, toast: (msg: string, kind?: string) => void}} hooks
   */
  constructor(ui, hooks) {
    this.ui = ui;
    this.hooks = hooks;
    /** @type {Webhook[]} */
    this.items = [];
    this.gen = 0;
    /** @type {Set<string>} endpoints whose deliveries are open */
    this.open = new Set();
  }

  clear() {
    this.gen++;
    this.items = [];
    this.open.clear();
    this.flag(false);
    replaceChildren(this.ui.root);
  }

  /**
   * Marks the nav link while an endpoint is failing, so the owner hears of
   * it without opening the page.
   * @param {boolean} on
   */
  flag(on) {
    this.ui.nav.classList.toggle('nav-alert', on);
    if (on) this.ui.nav.title = 'A webhook endpoint is failing';
    else this.ui.nav.removeAttribute('title');
  }

  /** Reads the endpoints for the nav's flag only (owners). */
  async check() {
    if (!this.hooks.owner()) return;
    try {
      const { webhooks } = await api.listWebhooks();
      this.flag(webhooks.some((w) => w.failing));
    } catch { /* the page says it when opened */ }
  }

  /** Loads the endpoints and draws the page. */
  async load() {
    const gen = ++this.gen;
    if (!this.hooks.owner()) {
      replaceChildren(this.ui.root, el('div', { class: 'page-head' }, el('div', {},
        el('h1', { text: 'Webhooks' }), el('p', { class: 'muted', text: 'Only an owner manages webhooks.' }))));
      return;
    }
    if (!this.items.length) replaceChildren(this.ui.root, el('p', { class: 'muted pad', text: 'Loading webhooks…' }));
    try {
      const { webhooks } = await api.listWebhooks();
      if (gen !== this.gen) return;
      this.items = webhooks;
      this.render();
      for (const id of this.open) this.loadDeliveries(id);
    } catch (err) {
      if (gen !== this.gen || api.isUnauthorized(err)) return;
      replaceChildren(this.ui.root, el('p', { class: 'form-error', role: 'alert', text: api.describeError(err) }));
    }
  }

  render() {
    const failing = this.items.filter((w) => w.failing);
    this.flag(failing.length > 0);
    replaceChildren(this.ui.root,
      el('div', { class: 'page-head' },
        el('div', {},
          el('h1', { text: 'Webhooks' }),
          el('p', { class: 'muted', text: 'Parley POSTs signed events (Standard Webhooks) to these HTTPS endpoints, retrying for about a day.' }))),
      failing.length ? el('p', { class: 'hook-alert', role: 'alert', 'data-failing': true,
        text: failing.length === 1
          ? `${failing[0].url} kept failing and gets nothing until you enable it: ${failing[0].failing?.reason}.`
          : `${failing.length} endpoints kept failing and get nothing until you enable them.` }) : null,
      this.addForm(),
      this.slackForm(),
      el('div', { class: 'card' }, this.items.length
        ? el('ul', { class: 'team-list', 'aria-label': 'Webhook endpoints' }, this.items.map((w) => this.row(w)))
        : el('p', { class: 'muted', text: 'No endpoints yet.' })));
  }

  /** @returns {HTMLElement} the add form */
  addForm() {
    const error = el('p', { class: 'form-error', role: 'alert', hidden: true });
    const url = /** @type {HTMLInputElement} */ (el('input', { id: 'hook-url', name: 'url', type: 'url', required: true, placeholder: 'https://example.com/parley-hook', maxlength: '2000', autocomplete: 'off', spellcheck: 'false' }));
    const boxes = EVENTS.map(([v, label]) => el('label', { class: 'radio' },
      el('input', { type: 'checkbox', name: 'events', value: v, checked: true }), el('span', { text: label + ' (' + v + ')' })));
    const save = /** @type {HTMLButtonElement} */ (el('button', { class: 'btn btn-primary', type: 'submit', 'data-action': 'add-webhook', text: 'Add endpoint' }));
    const form = /** @type {HTMLFormElement} */ (el('form', { class: 'card hook-add', novalidate: true },
      el('label', { for: 'hook-url', text: 'Endpoint URL' }), url,
      el('fieldset', { class: 'profile-notify' }, el('legend', { text: 'Events' }), boxes),
      error, el('div', { class: 'dialog-actions' }, save)));
    onSubmit(form, save, error, async () => {
      const events = [...form.querySelectorAll('input[name="events"]:checked')].map((i) => /** @type {HTMLInputElement} */ (i).value);
      const { webhook } = await api.createWebhook({ url: url.value.trim(), events });
      form.reset();
      showSecret('Endpoint added', webhook.secret || '');
      await this.load();
    });
    return form;
  }

  /** @returns {HTMLElement} the Slack notifier's form: a Slack incoming-webhook URL */
  slackForm() {
    const error = el('p', { class: 'form-error', role: 'alert', hidden: true });
    const url = /** @type {HTMLInputElement} */ (el('input', { id: 'slack-url', name: 'url', type: 'url', required: true, placeholder: 'https://hooks.slack.com/services/…', maxlength: '2000', autocomplete: 'off', spellcheck: 'false' }));
    const save = /** @type {HTMLButtonElement} */ (el('button', { class: 'btn', type: 'submit', 'data-action': 'add-slack', text: 'Connect Slack' }));
    const form = /** @type {HTMLFormElement} */ (el('form', { class: 'card hook-add', novalidate: true },
      el('label', { for: 'slack-url', text: 'Slack incoming webhook' }),
      el('p', { class: 'muted', text: 'Posts each new conversation and each visitor message to a Slack channel, with a link to the conversation here.' }),
      url, error, el('div', { class: 'dialog-actions' }, save)));
    onSubmit(form, save, error, async () => {
      await api.createWebhook({ kind: 'slack', url: url.value.trim() });
      form.reset();
      this.hooks.toast('Slack is connected.');
      await this.load();
    });
    return form;
  }

  /**
   * @param {Webhook} w
   * @returns {HTMLElement}
   */
  row(w) {
    const state = w.failing
      ? el('span', { class: 'tag tag-danger', 'data-state': 'failing', text: 'Failing' })
      : el('span', { class: 'tag tag-muted', 'data-state': 'active', text: w.rotatingUntil ? 'Active · rotating' : 'Active' });
    const open = this.open.has(w.id);
    const slack = w.kind === 'slack';
    return el('li', { class: 'hook-row', 'data-webhook': w.id },
      el('div', { class: 'team-row' },
        el('div', { class: 'team-who' },
          el('span', { class: 'team-name', text: (slack ? 'Slack · ' : '') + w.url }),
          el('span', { class: 'muted team-sub', text: w.events.join(', ') +
            (w.failing ? ' · failing since ' + new Date(w.failing.since).toLocaleString() + ': ' + w.failing.reason : '') })),
        state,
        el('div', { class: 'team-actions' },
          w.failing ? el('button', { class: 'btn btn-sm', type: 'button', 'data-action': 'enable', text: 'Enable', onclick: () => this.enable(w) }) : null,
          el('button', { class: 'btn btn-sm', type: 'button', 'data-action': 'deliveries', 'aria-expanded': String(open), text: 'Deliveries', onclick: () => this.toggle(w) }),
          slack ? null : el('button', { class: 'btn btn-sm', type: 'button', 'data-action': 'rotate', text: 'Rotate secret', onclick: () => this.rotate(w) }),
          el('button', { class: 'btn btn-sm btn-danger', type: 'button', 'data-action': 'delete', 'aria-label': 'Delete ' + w.url, text: 'Delete', onclick: () => this.remove(w) }))),
      el('div', { class: 'hook-deliveries', 'data-deliveries-of': w.id, hidden: !open }));
  }

  /** @param {Webhook} w */
  toggle(w) {
    if (this.open.has(w.id)) this.open.delete(w.id);
    else this.open.add(w.id);
    this.render();
    if (this.open.has(w.id)) this.loadDeliveries(w.id);
  }

  /** @param {string} id */
  async loadDeliveries(id) {
    const box = /** @type {HTMLElement|null} */ (this.ui.root.querySelector(`[data-deliveries-of="${CSS.escape(id)}"]`));
    if (!box) return;
    replaceChildren(box, el('p', { class: 'muted', text: 'Loading deliveries…' }));
    try {
      const { deliveries } = await api.webhookDeliveries(id);
      replaceChildren(box, deliveries.length
        ? el('table', { class: 'hook-table' },
          el('thead', {}, el('tr', {}, ['When', 'Event', 'Try', 'Result', 'Time', 'Answer', ''].map((h) => el('th', { text: h })))),
          el('tbody', {}, deliveries.map((d) => this.deliveryRow(id, d))))
        : el('p', { class: 'muted', text: 'No deliveries yet.' }));
    } catch (err) {
      if (!api.isUnauthorized(err)) replaceChildren(box, el('p', { class: 'form-error', role: 'alert', text: api.describeError(err) }));
    }
  }

  /**
   * @param {string} id
   * @param {WebhookDelivery} d
   * @returns {HTMLElement}
   */
  deliveryRow(id, d) {
    const result = d.status ? String(d.status) : 'no answer';
    return el('tr', { 'data-delivery': d.job, 'data-ok': String(d.ok) },
      el('td', { text: new Date(d.at).toLocaleString() }),
      el('td', { text: d.type }),
      el('td', { text: String(d.attempt) }),
      el('td', { class: d.ok ? 'hook-ok' : 'hook-bad', text: (d.ok ? '✓ ' : '✕ ') + result }),
      el('td', { text: d.latencyMs + ' ms' }),
      el('td', { class: 'hook-answer', title: d.error || '', text: d.response || d.error || '' }),
      el('td', {}, el('button', { class: 'btn btn-sm', type: 'button', 'data-action': 'resend', text: 'Resend',
        onclick: async (/** @type {Event} */ e) => {
          const b = /** @type {HTMLButtonElement} */ (e.currentTarget);
          b.disabled = true;
          try {
            await api.resendWebhook(id, d.job);
            this.hooks.toast('Queued again, with the same webhook-id.');
            setTimeout(() => this.loadDeliveries(id), 1500);
          } catch (err) {
            if (!api.isUnauthorized(err)) this.hooks.toast(api.describeError(err), 'error');
          } finally {
            b.disabled = false;
          }
        } })));
  }

  /** @param {Webhook} w */
  async rotate(w) {
    if (!await confirmDialog('hook-confirm', 'Rotate this secret?', `A new secret is made and shown once. For 24 hours ${w.url} gets both signatures, so you can switch over.`, 'Rotate', false)) return;
    try {
      const { webhook } = await api.rotateWebhook(w.id);
      showSecret('New secret', webhook.secret || '');
      await this.load();
    } catch (err) {
      if (!api.isUnauthorized(err)) this.hooks.toast(api.describeError(err), 'error');
    }
  }

  /** @param {Webhook} w */
  async enable(w) {
    try {
      await api.enableWebhook(w.id);
      this.hooks.toast('Enabled: new events are delivered again.');
      await this.load();
    } catch (err) {
      if (!api.isUnauthorized(err)) this.hooks.toast(api.describeError(err), 'error');
    }
  }

  /** @param {Webhook} w */
  async remove(w) {
    if (!await confirmDialog('hook-confirm', 'Delete this endpoint?', `${w.url} gets nothing more; deliveries still queued for it are dropped.`, 'Delete', true)) return;
    try {
      await api.deleteWebhook(w.id);
      this.open.delete(w.id);
      this.hooks.toast('Endpoint deleted.');
      await this.load();
    } catch (err) {
      if (!api.isUnauthorized(err)) this.hooks.toast(api.describeError(err), 'error');
    }
  }
}

/**
 * Shows a signing secret that will not be shown again.
 * @param {string} title
 * @param {string} secret
 */
function showSecret(title, secret) {
  showOnce('hook-secret', title,
    'Your receiver verifies each delivery with this signing secret. It is shown only this once.', secret, 'data-secret');
}
