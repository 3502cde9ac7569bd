// The visitor's details beside the open conversation (a drawer on narrow
// screens): who they are, where they started, and the room's actions.

import { el, replaceChildren } from '../widget/dom.js';
import { icon } from './icons.js';
import { mailtoURL, safeURL } from './links.js';
import { renderMail } from './mail.js';
import { avatar, visitorLabel } from './people.js';
import { fullTime } from './time.js';

/** The visitor details panel of the open room. */
export class DetailsPanel {
  /**
   * @param {HTMLElement} root
   * @param {{copy: () => void, download: () => void, toggleBlock: () => void, remove: () => void}} actions
   */
  constructor(root, actions) {
    this.root = root;
    this.actions = actions;
    /** @type {{count: HTMLElement, block: HTMLElement}|null} */
    this.parts = null;
    this.sig = '';
    /** @type {any} who the visitor is (GET …/visitor, visitor.page events) */
    this.visitor = null;
    this.visitorBox = el('div', { class: 'details-visitor', 'aria-live': 'polite' });
    this.clock = 0;
  }

  /**
   * Shows who the visitor is: the page they are on and the last ones, the
   * referrer and campaign, browser and OS, their local time and language,
   * whether they are on the site now.
   * @param {any} v a VisitorInfo, null for none yet
   */
  setVisitor(v) {
    this.visitor = v;
    clearInterval(this.clock);
    const box = this.visitorBox;
    if (!v || !v.pages || !v.pages.length) {
      replaceChildren(box);
      return;
    }
    /** @param {{url: string, title: string}} p */
    const link = (p) => {
      const u = safeURL(p.url);
      return u ? el('a', { href: u.href, target: '_blank', rel: 'noopener noreferrer', title: u.href, text: p.title || u.host + u.pathname })
        : el('span', { text: p.title || p.url });
    };
    /** @param {string} label @param {Node|string} value */
    const row = (label, value) => el('div', { class: 'detail' }, el('dt', { text: label }), el('dd', {}, value));
    const [now, ...before] = v.pages;
    const nowURL = safeURL(now.url);
    const c = v.campaign;
    const local = el('span', { 'data-visitor-time': true });
    const tick = () => {
      try {
        local.textContent = new Intl.DateTimeFormat(undefined, { timeZone: v.timeZone, hour: 'numeric', minute: '2-digit', weekday: 'short' }).format(new Date()) + ' (' + v.timeZone + ')';
      } catch {
        local.textContent = v.timeZone;
      }
    };
    if (v.timeZone) {
      tick();
      this.clock = window.setInterval(tick, 30000);
    }
    replaceChildren(box,
      el('h4', {}, 'Visitor ', el('span', { class: 'tag ' + (v.online ? 'tag-verified' : 'tag-muted'), 'data-visitor-online': String(!!v.online), text: v.online ? 'On the site now' : 'Left the site' })),
      el('dl', { class: 'details-list' },
        row('Now on', el('span', { 'data-visitor-now': true }, link(now), nowURL ? el('small', { class: 'muted visitor-url', text: nowURL.host + nowURL.pathname + nowURL.search + nowURL.hash }) : null)),
        v.referrer ? row('Referrer', link({ url: v.referrer, title: '' })) : null,
        c ? row('Campaign', el('span', { 'data-visitor-campaign': true, text: [c.source, c.medium, c.campaign, c.term, c.content].filter(Boolean).join(' · ') })) : null,
        v.browser || v.os ? row('Browser', el('span', { 'data-visitor-browser': true, text: [v.browser && (v.browser + (v.browserVersion ? ' ' + v.browserVersion : '')), v.os, v.device].filter(Boolean).join(' · ') })) : null,
        v.timeZone ? row('Local time', local) : null,
        v.language ? row('Language', v.language) : null),
      before.length ? el('details', { class: 'visitor-pages' },
        el('summary', { text: `Last pages (${before.length})` }),
        el('ol', {}, before.map((p) => el('li', {}, link(p), el('small', { class: 'muted', text: ' ' + fullTime(p.at) }))))) : null);
  }

  /**
   * Shows the visitor's details. What identifies the visitor is drawn when it
   * changes; the count and the block button are updated in place.
   * @param {any} r the room
   */
  render(r) {
    const sig = JSON.stringify([r.id, r.visitorName, r.visitorEmail, r.page, r.createdAt, r.verified, r.userId]);
    if (sig !== this.sig) {
      this.sig = sig;
      this.build(r);
    }
    const d = this.parts;
    d.count.textContent = String(r.messageCount ?? 0);
    replaceChildren(d.block, icon(r.blocked ? 'unlock' : 'block'), r.blocked ? 'Unblock visitor' : 'Block visitor');
  }

  /** Empties the panel (no room open). */
  clear() {
    replaceChildren(this.root);
    this.parts = null;
    this.sig = '';
    this.setVisitor(null);
  }

  /** @param {any} r */
  build(r) {
    const page = safeURL(r.page);
    /** @param {string} label @param {Node|string} value @param {string} ic */
    const row = (label, value, ic) => el('div', { class: 'detail' },
      icon(/** @type {any} */ (ic)), el('dt', { text: label }), el('dd', {}, value));
    const count = el('span');
    const block = el('button', { class: 'btn', type: 'button', 'data-action': 'block', onclick: () => this.actions.toggleBlock() });
    this.parts = { count, block };
    const mail = el('div', { class: 'details-mail' });
    replaceChildren(this.root,
      el('button', {
        class: 'icon-btn details-close', type: 'button', 'aria-label': 'Close details', title: 'Close (Esc)',
        onclick: () => closeDetails(),
      }, icon('close')),
      el('div', { class: 'details-head' },
        avatar(r, 'lg'),
        el('h3', { text: visitorLabel(r) }),
        r.visitorEmail ? el('a', { href: mailtoURL(r.visitorEmail), text: r.visitorEmail }) : el('p', { class: 'muted', text: 'No email given' })),
      el('dl', { class: 'details-list' },
        r.userId ? row(r.verified ? 'Site user' : 'Claims to be', el('span', {},
          el('code', { text: r.userId }), ' ', el('span', { class: 'tag ' + (r.verified ? 'tag-verified' : 'tag-muted'), text: r.verified ? 'Verified' : 'Unverified' })), 'check') : null,
        row('Started on', page ? el('a', { href: page.href, target: '_blank', rel: 'noopener noreferrer', title: page.href, text: page.host + page.pathname }) : '—', 'globe'),
        row('First seen', r.createdAt ? fullTime(r.createdAt) : '—', 'clock'),
        row('Messages', count, 'chat'),
        row('Conversation', el('code', { text: r.id }), 'hash')),
      this.visitorBox,
      el('div', { class: 'details-actions' },
        el('button', { class: 'btn', type: 'button', onclick: () => this.actions.copy() }, icon('copy'), 'Copy transcript'),
        el('button', { class: 'btn', type: 'button', onclick: () => this.actions.download() }, icon('download'), 'Download .txt'),
        block,
        el('button', { class: 'btn btn-danger', type: 'button', 'data-action': 'delete', 'data-owner-only': true, onclick: () => this.actions.remove() },
          icon('trash'), 'Delete conversation')),
      mail);
    renderMail(mail, r);
  }
}

/** Opens the details drawer (narrow screens) and moves focus into it. */
export function openDetails() {
  document.body.classList.add('details-open');
  document.querySelector('.details-toggle')?.setAttribute('aria-expanded', 'true');
  /** @type {HTMLElement|null} */ (document.querySelector('.details-close'))?.focus();
}

/** Closes the details drawer and gives focus back to its toggle. */
export function closeDetails() {
  if (!document.body.classList.contains('details-open')) return;
  document.body.classList.remove('details-open');
  const toggle = /** @type {HTMLElement|null} */ (document.querySelector('.details-toggle'));
  toggle?.setAttribute('aria-expanded', 'false');
  if (toggle && toggle.offsetParent) toggle.focus();
}
