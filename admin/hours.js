// The business hours section of the Team page: a weekly grid of time
// ranges and a time zone. Owners change them (saved in Redis, they override
// PARLEY_BUSINESS_HOURS) or go back to the environment's; agents read them.

import { el, replaceChildren } from '../widget/dom.js';
import * as api from './api.js';

const DAYS = [['mon', 'Monday'], ['tue', 'Tuesday'], ['wed', 'Wednesday'], ['thu', 'Thursday'], ['fri', 'Friday'], ['sat', 'Saturday'], ['sun', 'Sunday']];
const MAX_RANGES = 8;

/** @typedef {{timezone: string, week: Object<string, string[]>}} Hours */

export class HoursSection {
  /** @param {{toast: (msg: string, kind?: string) => void}} hooks */
  constructor(hooks) {
    this.hooks = hooks;
    this.root = el('section', { class: 'card hours', 'aria-labelledby': 'hours-title' });
    /** @type {?{hours: Hours, source: string, open: boolean, nextOpen?: string}} */
    this.data = null;
  }

  /** Loads the hours and draws the section; owner may edit. @param {boolean} owner */
  async load(owner) {
    this.owner = owner;
    try {
      this.data = await api.businessHours();
      this.render();
    } catch (err) {
      if (api.isUnauthorized(err)) return;
      replaceChildren(this.root, el('p', { class: 'form-error', role: 'alert', text: api.describeError(err) }));
    }
  }

  /** @returns {string} where the hours in effect come from, in words */
  sourceText() {
    const d = this.data;
    const state = d.source === 'none' ? '' : d.open ? ' Open now.'
      : d.nextOpen ? ` Closed now; back ${new Date(d.nextOpen).toLocaleString()}.` : ' Closed now.';
    if (d.source === 'console') return 'Saved here: these hours override PARLEY_BUSINESS_HOURS and PARLEY_TIMEZONE.' + state;
    if (d.source === 'env') return 'From PARLEY_BUSINESS_HOURS and PARLEY_TIMEZONE. Saving here overrides them.' + state;
    return 'Not set: always open, presence alone says whether anyone answers. A day with no range is closed once any day has one.';
  }

  /** Draws the grid from this.data. */
  render() {
    const { hours } = this.data;
    const ro = !this.owner;
    this.rows = new Map();
    const grid = el('div', { class: 'hours-grid', role: 'group', 'aria-label': 'Weekly hours' },
      DAYS.map(([key, name]) => {
        const list = el('div', { class: 'hours-ranges', 'data-day': key });
        this.rows.set(key, list);
        for (const r of hours.week[key] || []) list.append(this.rangeRow(r, ro));
        return el('div', { class: 'hours-day' },
          el('span', { class: 'hours-name', text: name }), list,
          ro ? null : el('button', { class: 'btn btn-small', type: 'button', 'data-add': key, text: 'Add range',
            onclick: () => { if (list.children.length < MAX_RANGES) list.append(this.rangeRow('09:00-17:00', false)); } }));
      }));
    const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
    this.zone = el('input', { id: 'hours-zone', list: 'hours-zones', value: hours.timezone, maxlength: 64, disabled: ro, autocomplete: 'off' });
    this.error = el('p', { class: 'form-error', role: 'alert', hidden: true });
    replaceChildren(this.root,
      el('h2', { id: 'hours-title', text: 'Business hours' }),
      el('p', { class: 'muted', 'data-source': this.data.source, text: this.sourceText() }),
      el('p', { class: 'muted', text: 'Outside these hours the widget says when you are back and asks for an email, even if an agent is online. A range ending at or before its start runs past midnight into the next day.' }),
      grid,
      el('label', { for: 'hours-zone', text: 'Time zone' }), this.zone,
      el('datalist', { id: 'hours-zones' }, zones.map((z) => el('option', { value: z }))),
      this.error,
      ro ? el('p', { class: 'muted', text: 'Only an owner can change the hours.' }) : el('div', { class: 'hours-actions' },
        el('button', { class: 'btn btn-primary', type: 'button', 'data-action': 'save-hours', text: 'Save hours', onclick: () => this.save() }),
        this.data.source === 'console'
          ? el('button', { class: 'btn', type: 'button', 'data-action': 'reset-hours', text: 'Use the environment’s hours', onclick: () => this.reset() })
          : null));
  }

  /** One range: two time inputs and a remove button. @param {string} r HH:MM-HH:MM @param {boolean} ro */
  rangeRow(r, ro) {
    const [from, to] = r.split('-');
    const row = el('div', { class: 'hours-range' },
      el('input', { type: 'time', value: from, 'aria-label': 'Opens', disabled: ro, required: true }),
      el('span', { text: '–' }),
      el('input', { type: 'time', value: to === '24:00' ? '00:00' : to, 'aria-label': 'Closes', disabled: ro, required: true }));
    if (!ro) row.append(el('button', { class: 'btn btn-small', type: 'button', 'aria-label': 'Remove range', text: '×', onclick: () => row.remove() }));
    return row;
  }

  /** @returns {Hours} what the grid says */
  read() {
    /** @type {Object<string, string[]>} */
    const week = {};
    for (const [key, list] of this.rows) {
      week[key] = [...list.children].map((row) => {
        const [a, b] = row.querySelectorAll('input');
        return `${/** @type {HTMLInputElement} */ (a).value}-${/** @type {HTMLInputElement} */ (b).value}`;
      });
    }
    return { timezone: this.zone.value.trim(), week };
  }

  async save() {
    this.error.hidden = true;
    try {
      this.data = await api.saveBusinessHours(this.read());
      this.render();
      this.hooks.toast('Business hours saved.');
    } catch (err) {
      if (api.isUnauthorized(err)) return;
      this.error.textContent = api.describeError(err);
      this.error.hidden = false;
    }
  }

  async reset() {
    try {
      this.data = await api.resetBusinessHours();
      this.render();
      this.hooks.toast('The environment’s hours apply again.');
    } catch (err) {
      if (!api.isUnauthorized(err)) this.hooks.toast(api.describeError(err), 'error');
    }
  }
}
