// The inbox: the room list with its filter, search, infinite scroll, live
// updates from the admin stream and the unread count. How one row looks is
// room-row.js's.

import { el, replaceChildren } from '../widget/dom.js';
import * as api from './api.js';
import { icon } from './icons.js';
import { visitorLabel } from './people.js';
import { foldWord, roomRow } from './room-row.js';
import { roster } from './roster.js';

const PAGE = 50;

/** @typedef {'all'|'unread'|'mine'|'unassigned'|'open'|'pending'|'resolved'} Filter */

/** What an empty view says. */
const EMPTY_VIEW = {
  unread: 'No unread conversations.',
  mine: 'No open conversation is assigned to you.',
  unassigned: 'Every open conversation has someone on it.',
  open: 'No open conversations.',
  pending: 'Nothing is waiting or snoozed.',
  resolved: 'No resolved conversations.',
};
const TYPING_MS = 5000;
/** How long typing in the search box pauses before the server is asked. */
const SEARCH_DEBOUNCE_MS = 250;
const SEARCH_LIMIT = 50;

/**
 * Newest first; ties broken by id so the order is stable.
 * @param {any} a @param {any} b
 */
function byActivity(a, b) {
  const d = Date.parse(b.updatedAt) - Date.parse(a.updatedAt);
  // Ties by id, descending: the order of the server's room index.
  return d !== 0 ? d : (a.id > b.id ? -1 : a.id < b.id ? 1 : 0);
}

const fold = foldWord;

export class Inbox {
  /**
   * @param {{
   *   list: HTMLElement, scroller: HTMLElement, sentinel: HTMLElement, footer: HTMLElement,
   *   empty: HTMLElement, search: HTMLInputElement, filters: HTMLElement, unreadTab: HTMLElement,
   *   onUnreadChange: (n: number) => void, onError: (msg: string) => void,
   *   labelFilter: HTMLSelectElement, me: () => string,
   * }} ui
   */
  constructor(ui) {
    this.ui = ui;
    /** @type {Map<string, any>} */
    this.rooms = new Map();
    /** @type {Map<string, import('./room-row.js').Row>} */
    this.rows = new Map();
    /** @type {Map<string, number>} room id → when an event last touched it */
    this.eventAt = new Map();
    /** @type {Map<string, number>} room id → typing timer */
    this.typing = new Map();
    /** @type {Filter} */
    this.filter = 'all';
    /** the label the list is narrowed to ('' for none) */
    this.label = '';
    /** @type {Record<string, number>} */
    this.counts = {};
    this.query = '';
    this.nextCursor = '';
    this.loaded = false;
    this.loading = false;
    this.generation = 0;
    this.selectedId = '';
    this.unreadRooms = 0;
    this.countTimer = 0;
    this.failed = '';
    /**
     * The server's answer for `search.q` (null until it came): while it is
     * on its way, the loaded rooms are filtered here as a first answer.
     * @type {{q: string, results: {room: any, match: any}[], more: boolean}|null}
     */
    this.search = null;
    this.searchTimer = 0;
    /** @type {AbortController|null} */
    this.searchAbort = null;

    ui.search.addEventListener('input', () => this.setQuery(ui.search.value.trim()));
    ui.search.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && ui.search.value) {
        e.stopPropagation();
        ui.search.value = '';
        this.setQuery('');
      } else if (e.key === 'ArrowDown') {
        e.preventDefault();
        this.moveFocus(1);
      }
    });
    ui.filters.addEventListener('click', (e) => {
      const btn = /** @type {HTMLElement} */ (e.target).closest('[data-filter]');
      if (btn) this.setFilter(/** @type {Filter} */ (btn.getAttribute('data-filter')));
    });
    ui.labelFilter.addEventListener('change', () => this.setLabel(ui.labelFilter.value));
    roster.subscribe(() => {
      this.renderLabelFilter();
      this.render();
    });
    ui.list.addEventListener('keydown', (e) => this.onListKey(e));
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((en) => en.isIntersecting) && !this.query) this.loadMore();
    }, { root: ui.scroller, rootMargin: '200px' });
    this.observer.observe(ui.sentinel);
    this.clock = setInterval(() => this.render(), 30 * 1000);
  }

  /** Forgets everything (sign-out). */
  clear() {
    this.generation++;
    clearTimeout(this.countTimer);
    this.countTimer = 0;
    this.rooms.clear();
    this.eventAt.clear();
    for (const t of this.typing.values()) clearTimeout(t);
    this.typing.clear();
    this.nextCursor = '';
    this.loaded = false;
    this.loading = false;
    this.selectedId = '';
    this.ui.search.value = '';
    this.setQuery('');
    this.search = null;
    this.failed = '';
    this.setUnread(0);
    this.render();
  }

  /**
   * Loads the first page afresh (start, filter change, reconnect). Rooms an
   * event touched while the request was in flight keep the event's version.
   */
  async load() {
    const gen = ++this.generation;
    const started = performance.now();
    this.loading = true;
    this.render();
    try {
      const page = await api.listRooms({ ...this.query0(), limit: PAGE });
      if (gen !== this.generation) return;
      const fresh = new Map();
      for (const r of page.rooms) {
        const seen = this.eventAt.get(r.id) || 0;
        fresh.set(r.id, seen > started && this.rooms.has(r.id) ? this.rooms.get(r.id) : r);
      }
      // Keep what events brought in meanwhile, and the open room.
      for (const [id, r] of this.rooms) {
        if (!fresh.has(id) && ((this.eventAt.get(id) || 0) > started || id === this.selectedId)) fresh.set(id, r);
      }
      this.rooms = fresh;
      this.nextCursor = page.nextCursor || '';
      this.loaded = true;
      this.failed = '';
      this.setUnread(page.unreadRooms || 0);
      if (page.counts) this.setCounts(page.counts);
    } catch (err) {
      if (gen !== this.generation) return;
      this.failed = api.describeError(err);
      if (!api.isUnauthorized(err)) this.ui.onError(this.failed);
    } finally {
      if (gen === this.generation) {
        this.loading = false;
        this.render();
      }
    }
  }

  /** Loads the next page when there is one. */
  async loadMore() {
    if (this.loading || !this.loaded || !this.nextCursor) return;
    const gen = this.generation;
    this.loading = true;
    this.render();
    try {
      const page = await api.listRooms({ ...this.query0(), limit: PAGE, cursor: this.nextCursor });
      if (gen !== this.generation) return;
      for (const r of page.rooms) {
        // A room already here is as new as the page or newer (events keep it).
        if (!this.rooms.has(r.id)) this.rooms.set(r.id, r);
      }
      this.nextCursor = page.nextCursor || '';
    } catch (err) {
      if (gen === this.generation && !api.isUnauthorized(err)) {
        this.ui.onError(api.describeError(err));
      }
    } finally {
      if (gen === this.generation) {
        this.loading = false;
        this.render();
      }
    }
  }

  /**
   * Shows the rooms matching q (all of them when empty): the loaded ones at
   * once, then, after a pause in typing, the server's search of every
   * conversation.
   * @param {string} q
   */
  setQuery(q) {
    if (q === this.query) return;
    this.query = q;
    clearTimeout(this.searchTimer);
    this.searchAbort?.abort();
    this.searchAbort = null;
    if (this.search && this.search.q !== q) this.search = null;
    if (q) this.searchTimer = setTimeout(() => this.runSearch(q), SEARCH_DEBOUNCE_MS);
    this.render();
  }

  /** @param {string} q asks the server; a newer query cancels it */
  async runSearch(q) {
    const abort = new AbortController();
    this.searchAbort = abort;
    try {
      const page = await api.search(q, SEARCH_LIMIT, abort.signal);
      if (abort.signal.aborted || q !== this.query) return;
      this.search = { q, results: page.results || [], more: !!page.more };
      this.render();
    } catch (err) {
      if (abort.signal.aborted || q !== this.query) return;
      // The loaded rooms stay filtered: say why the rest are not searched.
      if (!api.isUnauthorized(err)) this.ui.onError('Search failed: ' + api.describeError(err));
    } finally {
      if (this.searchAbort === abort) this.searchAbort = null;
    }
  }

  /** @returns {boolean} whether the server's results for the query are shown */
  searching() {
    return !!this.query && !!this.search && this.search.q === this.query;
  }

  /** @returns {{filter: Filter, label?: string}} what the server is asked for */
  query0() {
    return this.label ? { filter: 'all', label: this.label } : { filter: this.filter };
  }

  /** @param {Filter} filter */
  setFilter(filter) {
    if (filter === this.filter && !this.label) return;
    this.filter = filter;
    this.label = '';
    this.ui.labelFilter.value = '';
    this.restart();
  }

  /** @param {string} id narrows the list to a label ('' for none) */
  setLabel(id) {
    if (id === this.label) return;
    this.label = id;
    if (id) this.filter = 'all';
    this.restart();
  }

  /** Shows the labels in the label filter. */
  renderLabelFilter() {
    const sel = this.ui.labelFilter;
    replaceChildren(sel, el('option', { value: '', text: 'All labels' }),
      ...roster.labels.map((l) => el('option', { value: l.id, text: l.name })));
    if (this.label && !roster.label(this.label)) {
      this.setLabel('');
      return;
    }
    sel.value = this.label;
    sel.parentElement.hidden = roster.labels.length === 0 && !this.label;
  }

  /** Reloads the list for a new filter or label. */
  restart() {
    for (const b of this.ui.filters.querySelectorAll('[data-filter]')) {
      b.setAttribute('aria-pressed', String(!this.label && b.getAttribute('data-filter') === this.filter));
    }
    const keep = this.selectedId && this.rooms.get(this.selectedId);
    this.rooms = new Map(keep ? [[this.selectedId, keep]] : []);
    this.nextCursor = '';
    this.loaded = false;
    this.ui.scroller.scrollTop = 0;
    this.load();
  }

  /**
   * Applies a room from the stream (or from an opened conversation).
   * @param {any} room
   */
  upsert(room) {
    this.eventAt.set(room.id, performance.now());
    for (const hit of this.search?.results || []) if (hit.room.id === room.id) hit.room = room;
    const prev = this.rooms.get(room.id);
    if (prev) {
      this.rooms.set(room.id, room);
      this.setUnread(this.unreadRooms + (room.unread > 0 ? 1 : 0) - (prev.unread > 0 ? 1 : 0));
    } else {
      // A room we have not loaded: show it if it belongs to the loaded part of
      // the list (new rooms and new activity land at the top).
      const oldest = this.oldestLoaded();
      const fits = !this.nextCursor || !oldest || byActivity(room, oldest) <= 0;
      if (fits && this.matches(room)) this.rooms.set(room.id, room);
    }
    // Whether it moved between views is unknown here: ask for the counts.
    this.refreshCount();
    if (room.lastMessage?.sender === 'visitor') this.stopTyping(room.id);
    this.render();
  }

  /**
   * Keeps the list's preview in step with a message event, in case its room
   * event is late. Only ever moves forward.
   * @param {any} msg
   */
  applyMessage(msg) {
    const room = this.rooms.get(msg.roomId);
    if (!room || (room.lastMessage && room.lastMessage.seq >= msg.seq)) return;
    this.upsert({
      ...room,
      lastMessage: { seq: msg.seq, sender: msg.sender, content: msg.content, createdAt: msg.createdAt },
      updatedAt: msg.createdAt > room.updatedAt ? msg.createdAt : room.updatedAt,
      messageCount: Math.max(room.messageCount, msg.seq),
    });
  }

  /** @param {string} id */
  remove(id) {
    this.eventAt.set(id, performance.now());
    if (this.search) this.search.results = this.search.results.filter((hit) => hit.room.id !== id);
    const prev = this.rooms.get(id);
    if (prev) {
      this.rooms.delete(id);
      if (prev.unread > 0) this.setUnread(this.unreadRooms - 1);
    } else {
      this.refreshCount();
    }
    this.stopTyping(id);
    this.render();
  }

  /** @param {string} id the visitor of this room is typing */
  setTyping(id) {
    clearTimeout(this.typing.get(id));
    this.typing.set(id, setTimeout(() => this.stopTyping(id), TYPING_MS));
    this.render();
  }

  /** @param {string} id */
  stopTyping(id) {
    if (!this.typing.has(id)) return;
    clearTimeout(this.typing.get(id));
    this.typing.delete(id);
    this.render();
  }

  /** @param {string} id the open room, '' for none */
  select(id) {
    this.selectedId = id;
    this.render();
  }

  /** @param {string} id @returns {any} */
  get(id) {
    return this.rooms.get(id) || this.search?.results.find((hit) => hit.room.id === id)?.room;
  }

  /** @returns {any|undefined} */
  oldestLoaded() {
    let oldest;
    for (const r of this.rooms.values()) if (!oldest || byActivity(r, oldest) > 0) oldest = r;
    return oldest;
  }

  /**
   * Tells whether a room belongs in the list as filtered.
   * @param {any} r
   */
  matches(r) {
    if (this.label) return (r.labels || []).includes(this.label);
    const status = r.status || 'open';
    switch (this.filter) {
      case 'unread': return r.unread > 0;
      case 'mine': return status === 'open' && r.assignee === this.ui.me();
      case 'unassigned': return status === 'open' && !r.assignee;
      case 'open': case 'pending': case 'resolved': return status === this.filter;
      default: return true;
    }
  }

  /** @param {Record<string, number>} counts the size of every view */
  setCounts(counts) {
    this.counts = counts;
    for (const span of this.ui.filters.querySelectorAll('[data-count]')) {
      const n = counts[span.getAttribute('data-count') || ''] || 0;
      span.textContent = n > 0 ? String(n) : '';
    }
    this.setUnread(counts.unread || 0);
  }

  /** Asks the server for the view counts, once for a burst of needs. */
  refreshCount() {
    if (this.countTimer) return;
    const gen = this.generation;
    this.countTimer = setTimeout(async () => {
      try {
        const { counts } = await api.roomCounts();
        if (gen === this.generation) this.setCounts(counts);
      } catch {
        // The next load corrects it.
      } finally {
        this.countTimer = 0;
      }
    }, 1000);
  }

  /** @param {number} n */
  setUnread(n) {
    this.unreadRooms = Math.max(0, n);
    this.ui.unreadTab.textContent = this.unreadRooms > 0 ? String(this.unreadRooms) : '';
    this.ui.unreadTab.hidden = this.unreadRooms === 0;
    this.ui.onUnreadChange(this.unreadRooms);
  }

  /** @returns {any[]} the rooms shown, in order */
  visibleRooms() {
    if (this.searching()) {
      // The server's order (newest match first), with the rooms as fresh as
      // the stream made them. A search looks across every conversation,
      // whatever the view.
      return this.search.results.map((hit) => {
        const mine = this.rooms.get(hit.room.id);
        return mine && mine.updatedAt > hit.room.updatedAt ? mine : hit.room;
      });
    }
    const q = fold(this.query);
    const out = [];
    for (const r of this.rooms.values()) {
      if (!this.matches(r) && r.id !== this.selectedId) continue;
      if (q) {
        const hay = fold([visitorLabel(r), r.visitorEmail, r.lastMessage?.content].join('\n'));
        if (!hay.includes(q)) continue;
      }
      out.push(r);
    }
    return out.sort(byActivity);
  }

  render() {
    const rooms = this.visibleRooms();
    const now = new Date();
    const keep = new Set();
    let prevNode = null;
    const focusTarget = rooms.find((r) => r.id === this.selectedId)?.id || rooms[0]?.id;
    for (const room of rooms) {
      keep.add(room.id);
      const row = this.row(room, now, room.id === focusTarget);
      const want = prevNode ? prevNode.nextSibling : this.ui.list.firstChild;
      if (want !== row.li) this.ui.list.insertBefore(row.li, want);
      prevNode = row.li;
    }
    for (const [id, row] of this.rows) {
      if (!keep.has(id)) {
        row.li.remove();
        this.rows.delete(id);
      }
    }
    this.renderEmpty(rooms.length);
  }

  /**
   * Creates or updates the row of a room.
   * @param {any} room
   * @param {Date} now
   * @param {boolean} tabbable
   * @returns {import('./room-row.js').Row}
   */
  row(room, now, tabbable) {
    const match = this.searching() ? this.search.results.find((hit) => hit.room.id === room.id)?.match : undefined;
    const terms = match ? fold(this.query).split(/[^\p{L}\p{N}]+/u).filter((w) => w.length >= 2 || /[^\x00-\u024f]/.test(w)) : [];
    const row = roomRow(this.rows.get(room.id), room, {
      now, tabbable, typing: this.typing.has(room.id), selected: room.id === this.selectedId, match, terms,
    });
    this.rows.set(room.id, row);
    return row;
  }

  /** @param {number} shown */
  renderEmpty(shown) {
    const { empty, footer } = this.ui;
    let content = null;
    if (shown === 0 && !this.loaded && this.failed) {
      content = [el('p', { class: 'empty-title', text: 'Could not load conversations' }),
        el('p', { class: 'empty-text', text: this.failed }),
        el('button', { class: 'btn', type: 'button', text: 'Try again', onclick: () => this.load() })];
    } else if (shown === 0 && !this.loaded) {
      content = [el('div', { class: 'spinner', 'aria-label': 'Loading' })];
    } else if (shown === 0 && this.searching()) {
      content = [icon('search', 'empty-icon'), el('p', { class: 'empty-title', text: 'No matches' }),
        el('p', { class: 'empty-text', text: `No conversation matches “${this.query}”.` })];
    } else if (shown === 0 && this.query) {
      content = [el('div', { class: 'spinner', 'aria-label': 'Searching' })];
    } else if (shown === 0 && this.label) {
      content = [icon('check', 'empty-icon'), el('p', { class: 'empty-title', text: 'No conversations with this label' })];
    } else if (shown === 0 && this.filter !== 'all') {
      content = [icon('check', 'empty-icon'), el('p', { class: 'empty-title', text: 'All caught up' }),
        el('p', { class: 'empty-text', text: EMPTY_VIEW[this.filter] })];
    } else if (shown === 0) {
      content = [icon('chat', 'empty-icon'), el('p', { class: 'empty-title', text: 'No conversations yet' }),
        el('p', { class: 'empty-text' }, 'No conversations yet — ',
          el('a', { href: '/', target: '_blank', rel: 'noopener', text: 'open the demo page' }), ' to start one.')];
    }
    empty.hidden = !content;
    if (content) replaceChildren(empty, ...content);

    let foot = null;
    if (this.searching()) {
      if (this.search.more) foot = el('p', { class: 'search-more', text: `The ${SEARCH_LIMIT} newest matches: type more words to narrow them.` });
    } else if (shown > 0 && this.query) {
      foot = el('div', { class: 'spinner spinner-sm', 'aria-label': 'Searching every conversation' });
    } else if (shown > 0 && this.loading) foot = el('div', { class: 'spinner spinner-sm', 'aria-label': 'Loading' });
    footer.hidden = !foot;
    replaceChildren(footer, foot);
  }

  /** @param {KeyboardEvent} e */
  onListKey(e) {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      this.moveFocus(1);
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      this.moveFocus(-1);
    } else if (e.key === 'Home' || e.key === 'End') {
      e.preventDefault();
      this.moveFocus(e.key === 'Home' ? -Infinity : Infinity);
    }
  }

  /**
   * Moves keyboard focus through the rows.
   * @param {number} delta
   */
  moveFocus(delta) {
    const links = /** @type {HTMLAnchorElement[]} */ (Array.from(this.ui.list.querySelectorAll('a.room')));
    if (links.length === 0) return;
    let i = links.indexOf(/** @type {HTMLAnchorElement} */ (document.activeElement));
    if (i < 0) i = links.findIndex((a) => a.dataset.id === this.selectedId);
    const next = i < 0 ? (delta > 0 ? 0 : links.length - 1)
      : Math.max(0, Math.min(links.length - 1, i + (Number.isFinite(delta) ? delta : delta > 0 ? links.length : -links.length)));
    for (const a of links) a.tabIndex = -1;
    links[next].tabIndex = 0;
    links[next].focus();
    links[next].scrollIntoView({ block: 'nearest' });
  }

  /** Focuses the row of the open room (after Esc), or the first one. */
  focusSelected() {
    const a = /** @type {HTMLElement|null} */ (this.ui.list.querySelector(`a.room[data-id="${CSS.escape(this.selectedId)}"]`)
      || this.ui.list.querySelector('a.room'));
    a?.focus();
  }
}
