// The open conversation's header (avatar, name, email or page, "typing…",
// the Verified and Blocked tags, the details toggle) and the banner over a blocked room.

import { el, replaceChildren } from '../widget/dom.js';
import { closeDetails, openDetails } from './details.js';
import { icon } from './icons.js';
import { safeURL } from './links.js';
import { avatar, visitorLabel } from './people.js';
import { fullTime } from './time.js';

/** The header and the blocked banner of the open room. */
export class ConversationHeader {
  /**
   * @param {{header: HTMLElement, banner: HTMLElement}} ui
   * @param {() => void} onUnblock the banner's Unblock button
   */
  constructor(ui, onUnblock) {
    this.ui = ui;
    this.onUnblock = onUnblock;
    /** @type {{avatar: HTMLElement, name: HTMLElement, sub: HTMLElement, verified: HTMLElement, tag: HTMLElement}|null} */
    this.parts = null;
    this.bannerSig = '';
  }

  /**
   * Builds the header once per room; render then updates its text, so that a
   * focused button keeps the focus while events arrive.
   */
  build() {
    const h = {
      avatar: el('span', { class: 'avatar-slot' }),
      name: el('h2', { id: 'conv-name' }),
      sub: el('p', { class: 'conv-sub' }),
      verified: el('span', { class: 'tag tag-verified', text: 'Verified', hidden: true }),
      tag: el('span', { class: 'tag tag-danger', text: 'Blocked', hidden: true }),
    };
    replaceChildren(this.ui.header,
      el('a', { class: 'icon-btn back', href: '#/', 'aria-label': 'Back to conversations', title: 'Back (Esc)' }, icon('back')),
      h.avatar,
      el('div', { class: 'conv-title' }, h.name, h.sub),
      h.verified,
      h.tag,
      el('button', {
        class: 'icon-btn details-toggle', type: 'button', 'aria-label': 'Visitor details', title: 'Visitor details',
        'aria-controls': 'details', 'aria-expanded': String(document.body.classList.contains('details-open')),
        onclick: () => {
          if (document.body.classList.contains('details-open')) closeDetails();
          else openDetails();
        },
      }, icon('info')));
    this.parts = h;
  }

  /** @returns {boolean} build has run */
  get built() {
    return this.parts !== null;
  }

  /**
   * @param {any} r the room
   * @param {boolean} typing the visitor is typing
   */
  render(r, typing) {
    const h = this.parts;
    if (!h) return;
    const page = safeURL(r.page);
    replaceChildren(h.avatar, avatar(r));
    h.name.textContent = visitorLabel(r);
    h.sub.textContent = typing ? 'typing…'
      : r.visitorEmail || (page ? 'on ' + page.pathname : r.visitorName ? 'No email given' : 'Anonymous visitor');
    h.sub.classList.toggle('typing', typing);
    h.tag.hidden = !r.blocked;
    h.verified.hidden = !r.verified;
    h.verified.title = r.verified ? `Signed in on your site as ${r.userId}` : '';
    const ipUntil = r.blocked && r.ipBlockedUntil && Date.parse(r.ipBlockedUntil) > Date.now() ? r.ipBlockedUntil : '';
    const sig = r.blocked ? 'b' + ipUntil : '';
    if (sig !== this.bannerSig || this.ui.banner.hidden === !!r.blocked) {
      this.bannerSig = sig;
      this.ui.banner.hidden = !r.blocked;
      replaceChildren(this.ui.banner, r.blocked ? [icon('block'),
        el('span', { text: 'This visitor is blocked and cannot send messages.' + (ipUntil ? ` Their IP address is blocked until ${fullTime(ipUntil)}.` : '') }),
        el('button', { class: 'link-btn', type: 'button', text: ipUntil ? 'Unblock both' : 'Unblock', onclick: () => this.onUnblock() })] : null);
    }
  }

  hideBanner() {
    this.ui.banner.hidden = true;
    this.bannerSig = '';
  }
}
