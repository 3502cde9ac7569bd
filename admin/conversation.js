// The open conversation: opening and closing a room, and applying what the
// stream says about it. It coordinates the modules that do the work: the
// messages held (messages.js), the thread as drawn (thread.js), the header
// and the details panel (header.js, details.js), the reply box (composer.js)
// and the room's actions (actions.js).

import { RoomActions } from './actions.js';
import * as api from './api.js';
import { Composer } from './composer.js';
import { DetailsPanel } from './details.js';
import { ConversationHeader } from './header.js';
import { MessageStore, ReadMarks, pagesAfter, seenByVisitor } from './messages.js';
import { NotesView } from './notes.js';
import { visitorLabel } from './people.js';
import { roster } from './roster.js';
import { ThreadView } from './thread.js';
import { Workflow } from './workflow.js';

export { closeDetails } from './details.js';

const TYPING_SHOW_MS = 5000;
const GONE = 'This conversation no longer exists.';

/** @typedef {import('./messages.js').Message} Message */

/** The open room: what opens, closes and updates it, told to the modules that show it. */
export class Conversation {
  /**
   * @param {{
   *   empty: HTMLElement, view: HTMLElement, header: HTMLElement, banner: HTMLElement,
   *   thread: HTMLElement, top: HTMLElement, msgs: HTMLElement, pending: HTMLElement, typing: HTMLElement,
   *   jump: HTMLButtonElement, form: HTMLFormElement, reply: HTMLTextAreaElement, counter: HTMLElement,
   *   details: HTMLElement, dialog: HTMLDialogElement, tools: HTMLElement, confirmReply: HTMLDialogElement,
   * }} ui
   * @param {{
   *   me: () => {username: string, displayName: string},
   *   onRoom: (room: any) => void, onGone: (id: string, message: string) => void,
   *   toast: (msg: string, kind?: string) => void,
   * }} hooks
   */
  constructor(ui, hooks) {
    this.ui = ui;
    this.hooks = hooks;
    this.id = '';
    this.room = null;
    this.ready = false;
    this.loadingOlder = false;
    this.gen = 0;
    this.typingTimer = 0;

    this.store = new MessageStore();
    this.reads = new ReadMarks(() => this.id);
    this.thread = new ThreadView(ui, () => this.loadOlder());
    this.notes = new NotesView(ui.msgs);
    this.workflow = new Workflow(ui.tools, {
      room: () => this.room,
      me: hooks.me,
      onRoom: (room) => {
        this.applyRoom(room);
        this.hooks.onRoom(room);
      },
      report: (err) => this.report(err),
    });
    this.composer = new Composer(ui, {
      onNote: async (content) => {
        const atBottom = this.thread.nearBottom();
        await this.notes.post(content);
        if (atBottom) this.thread.scrollToBottom(true);
      },
      confirmReply: () => this.confirmReply(),
      roomId: () => this.id,
      onSent: (message) => {
        if (this.ready) this.addMessages([message]);
        else this.store.put(message);
      },
      onGone: (roomId) => this.hooks.onGone(roomId, GONE),
      scrollToBottom: () => this.thread.scrollToBottom(true),
      toast: hooks.toast,
    });
    this.actions = new RoomActions(ui.dialog, {
      room: () => this.room,
      ready: () => this.ready,
      held: () => this.store.bySeq,
      onBlocked: (id, blocked) => {
        if (this.room?.id !== id) return;
        this.room = { ...this.room, blocked };
        this.hooks.onRoom(this.room);
        this.renderHeader();
        this.renderDetails();
      },
      onGone: hooks.onGone,
      toast: hooks.toast,
      report: (err) => this.report(err),
    });
    this.header = new ConversationHeader(ui, () => this.actions.toggleBlock());
    this.details = new DetailsPanel(ui.details, {
      copy: () => this.actions.copyTranscript(),
      download: () => this.actions.downloadTranscript(),
      toggleBlock: () => this.actions.toggleBlock(),
      remove: () => this.actions.confirmDelete(),
    });

    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && this.ready && this.room?.unread > 0) this.reads.schedule();
    });
  }

  /** @returns {string} the room this console is deleting: its room.deleted event is expected */
  get deleting() {
    return this.actions.deleting;
  }

  /**
   * Opens a room (a no-op when it is already open).
   * @param {string} id
   * @param {any} [known] the room as the list knows it, for an instant header
   */
  async open(id, known) {
    if (id === this.id) return;
    this.composer.saveDraft();
    this.reset();
    const gen = ++this.gen;
    this.id = id;
    this.room = known || { id, visitorName: '', visitorEmail: '', page: '', createdAt: '', messageCount: 0, unread: 0 };
    this.ui.empty.hidden = true;
    this.ui.view.hidden = false;
    this.composer.showDraft(id);
    this.header.build();
    this.renderHeader();
    this.renderDetails();
    this.thread.showLoading('Loading messages');
    this.composer.render();
    this.workflow.opened(id);
    try {
      const res = await api.openRoom(id);
      if (gen !== this.gen) return;
      this.room = res.room;
      this.store.opened(res.messages, res.room.firstSeq);
      this.notes.opened(id, res.notes);
      this.ready = true;
      api.visitorInfo(id).then((v) => { if (gen === this.gen) this.details.setVisitor(v.visitor); }, () => {});
      this.hooks.onRoom(res.room);
      this.renderHeader();
      this.renderDetails();
      this.renderThread();
      this.thread.scrollToBottom(true);
      await this.fillViewport(gen);
    } catch (err) {
      if (gen !== this.gen) return;
      this.fail(err);
    }
  }

  /** Closes the room view (back to the empty state). */
  close() {
    this.composer.saveDraft();
    this.reset();
    this.gen++;
    this.ui.view.hidden = true;
    this.ui.empty.hidden = false;
    this.details.clear();
  }

  reset() {
    this.id = '';
    this.room = null;
    this.store.clear();
    this.ready = false;
    this.loadingOlder = false;
    this.reads.cancel();
    clearTimeout(this.typingTimer);
    this.typingTimer = 0;
    this.composer.reset();
    this.header.hideBanner();
    this.thread.clear();
    this.notes.clear();
    this.workflow.opened('');
  }

  /** Forgets everything, drafts included (sign-out). */
  clear() {
    this.close();
    this.composer.clear();
  }

  /** @param {unknown} err why the room could not be loaded */
  fail(err) {
    if (api.isUnauthorized(err)) return;
    if (err instanceof api.ApiError && (err.status === 404 || err.code === 'room_not_found' || err.code === 'invalid_request')) {
      this.hooks.onGone(this.id, GONE);
      return;
    }
    this.thread.showError(api.describeError(err), () => {
      const id = this.id;
      this.id = '';
      this.open(id, this.room);
    });
  }

  /**
   * Tells the admin that an action failed (a 401 says nothing: the login
   * form takes over).
   * @param {unknown} err
   */
  report(err) {
    if (api.isUnauthorized(err)) return;
    this.hooks.toast(err instanceof api.ApiError ? api.describeError(err) : String(/** @type {Error} */ (err)?.message || err), 'error');
  }

  // ——— live updates ———

  /**
   * Asks before a reply to a conversation assigned to another agent.
   * @returns {Promise<boolean>} send it
   */
  confirmReply() {
    const r = this.room;
    const me = this.hooks.me().username;
    if (!r || !r.assignee || r.assignee === me) return Promise.resolve(true);
    const d = this.ui.confirmReply;
    const name = d.querySelector('[data-name]');
    if (name) name.textContent = r.assigneeName || roster.agentName(r.assignee);
    return new Promise((resolve) => {
      d.addEventListener('close', () => resolve(d.returnValue === 'send'), { once: true });
      d.returnValue = '';
      d.showModal();
    });
  }

  /** @param {{roomId: string, visitor: any}} d a visitor.page event */
  applyVisitor(d) {
    if (d.roomId === this.id) this.details.setVisitor(d.visitor);
  }

  /** @param {import('./notes.js').Note} note a note of some room, from the stream */
  applyNote(note) {
    if (note.roomId !== this.id || !this.ready) return;
    const atBottom = this.thread.nearBottom();
    if (this.notes.add(note) && atBottom) this.thread.scrollToBottom(true);
  }

  /** @param {any} d an agent.activity event */
  agentActivity(d) {
    this.workflow.agentActivity(d);
  }

  /** @param {any} room a newer version of some room */
  applyRoom(room) {
    if (room.id !== this.id || !this.ready) return;
    this.room = room;
    this.renderHeader();
    this.renderDetails();
    this.updateSeen();
    // A visitor message counted unread while we are looking at it: read it.
    if (room.unread > 0) this.reads.schedule();
  }

  /** @param {Message} msg a message of any room, from the stream */
  applyMessage(msg) {
    if (msg.roomId !== this.id) return;
    if (msg.sender === 'visitor') this.hideTyping();
    if (msg.sender === 'admin') {
      this.composer.settleLike(msg, this.hooks.me().displayName);
      this.workflow.replied(msg.roomId, msg.author);
    }
    if (!this.ready) {
      this.store.put(msg); // merged with the open answer
      return;
    }
    const max = this.store.maxSeq();
    this.addMessages([msg]);
    if (msg.sender === 'visitor') this.reads.schedule();
    // A hole before this message (a missed event): fetch what is missing.
    if (max && msg.seq > max + 1) this.fetchAfter(max);
  }

  /** @param {string} roomId the visitor of roomId is typing */
  visitorTyping(roomId) {
    if (roomId !== this.id || !this.ready) return;
    this.thread.showTyping(visitorLabel(this.room));
    this.thread.scrollToBottom(false);
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.hideTyping(), TYPING_SHOW_MS);
    this.renderHeader();
  }

  hideTyping() {
    if (!this.typingTimer) return;
    clearTimeout(this.typingTimer);
    this.typingTimer = 0;
    this.thread.hideTyping();
    this.renderHeader();
  }

  /** Drops the messages held and opens the room again (after reset, or a stale message). */
  reload() {
    if (!this.id) return;
    const id = this.id;
    this.id = '';
    this.open(id, this.room);
  }

  /** After the stream reconnects: fetch every message after the last one held. */
  async catchUp() {
    if (!this.id || !this.ready) return;
    await this.fetchAfter(this.store.maxSeq());
  }

  /**
   * Fetches the messages after seq, page by page, and adds them.
   * @param {number} seq
   */
  async fetchAfter(seq) {
    const gen = this.gen;
    try {
      for await (const messages of pagesAfter(this.id, seq)) {
        if (gen !== this.gen) return;
        this.addMessages(messages);
        if (messages.some((m) => m.sender === 'visitor')) this.reads.schedule();
      }
    } catch (err) {
      if (gen === this.gen) this.fail(err);
    }
  }

  /**
   * Adds messages (any order, duplicates ignored) and shows them.
   * @param {Message[]} list
   */
  addMessages(list) {
    const atBottom = this.thread.nearBottom();
    const fresh = this.store.addNew(list);
    if (this.store.stale) return this.reload();
    if (fresh.length === 0) return;
    if (fresh[0].seq > this.thread.lastSeq) {
      for (const m of fresh) this.thread.append(m, this.room);
      this.updateSeen();
      this.notes.place();
    } else {
      this.renderThread();
    }
    const me = this.hooks.me().displayName;
    const mine = fresh.some((m) => m.sender === 'admin' && m.author === me);
    if (atBottom || mine) this.thread.scrollToBottom(true);
    else this.thread.showJump();
  }

  // ——— history ———

  /** Loads a page of older messages, keeping the scroll position. */
  async loadOlder() {
    if (!this.ready || !this.store.hasOlder || this.loadingOlder) return;
    const gen = this.gen;
    this.loadingOlder = true;
    this.thread.showLoadingOlder();
    try {
      const page = await this.store.fetchOlder(this.id);
      if (gen !== this.gen) return;
      this.thread.keepPosition(() => {
        this.store.addOlder(page);
        this.renderThread();
      });
    } catch (err) {
      if (gen === this.gen) this.report(err);
    } finally {
      if (gen === this.gen) {
        this.loadingOlder = false;
        this.renderTop();
      }
    }
  }

  /**
   * Loads older pages until the thread can scroll (so scroll-up works).
   * @param {number} gen
   */
  async fillViewport(gen) {
    for (let i = 0; i < 10 && gen === this.gen && this.store.hasOlder; i++) {
      if (this.thread.canScroll()) break;
      await this.loadOlder();
    }
  }

  // ——— drawing ———

  renderTop() {
    if (!this.ready) return;
    this.thread.renderTop(this.room, this.store.hasOlder, () => this.loadOlder());
  }

  renderThread() {
    const list = this.store.sorted();
    this.thread.render(list, this.room);
    this.renderTop();
    this.updateSeen();
    if (list.length === 0 && !this.store.hasOlder && this.notes.notes.size === 0) this.thread.showNone();
    this.notes.place();
  }

  /** Shows "Seen" under the newest admin message once the visitor read it. */
  updateSeen() {
    const last = this.room ? this.store.lastAdmin() : null;
    this.thread.showSeen(last && seenByVisitor(this.room, last.seq) ? last.seq : 0);
  }

  renderHeader() {
    const r = this.room;
    if (!r || !this.header.built) return;
    this.header.render(r, !!this.typingTimer);
    this.composer.setPlaceholder(visitorLabel(r));
    this.workflow.render();
  }

  renderDetails() {
    if (this.room) this.details.render(this.room);
  }
}
