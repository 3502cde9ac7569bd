// The admin event stream: GET /api/v1/admin/events read with fetch so the
// token travels in the Authorization header (never in a URL), Server-Sent
// Events read with the SSE reader the widget shares, reconnects with backoff
// and resumes with Last-Event-ID: the server replays what was missed, or
// sends reset when it cannot (the console then reloads everything).

import { SSEReader, readEvents } from '../widget/sse.js';
import { reportUnauthorized, session } from './api.js';
import { sleep } from './sleep.js';

const URL_EVENTS = '/api/v1/admin/events';
// The server sends a comment at least every 25 s; silence longer than this
// means a half-open connection.
const IDLE_TIMEOUT = 60 * 1000;
const BACKOFF_MIN = 1000;
const BACKOFF_MAX = 30 * 1000;

/**
 * @typedef {{type: string, data: any, id: string}} StreamEvent
 * @typedef {'connecting'|'live'|'reconnecting'|'stopped'} StreamStatus
 */

/**
 * Keeps the admin stream open for as long as it runs.
 */
export class AdminStream {
  /**
   * @param {{
   *   onEvent: (ev: StreamEvent) => void,
   *   onOpen: (info: {reconnected: boolean, resumed: boolean}) => void,
   *   onStatus: (status: StreamStatus, retryInMs?: number) => void,
   * }} handlers
   */
  constructor(handlers) {
    this.handlers = handlers;
    this.running = false;
    // Each start() begins a new run; a loop left over from an earlier run
    // (stop, then start again before its fetch settled) ends by itself.
    this.run = 0;
    /** @type {AbortController|null} */
    this.abort = null;
    /** @type {AbortController|null} */
    this.wait = null;
    this.connectedOnce = false;
    // The id of the last admin event received: the resume point.
    this.lastId = '';
    this.onOnline = () => this.wait?.abort();
  }

  /** Starts the stream; it keeps reconnecting until stop(). */
  start() {
    if (this.running) return;
    this.running = true;
    this.connectedOnce = false;
    this.lastId = '';
    window.addEventListener('online', this.onOnline);
    this.loop(++this.run);
  }

  /**
   * Connects again at once with the session's current token (a new password
   * ended the old one), resuming from the last event received.
   */
  restart() {
    if (!this.running) return;
    this.run++;
    this.abort?.abort();
    this.wait?.abort();
    this.loop(++this.run);
  }

  /** Closes the stream for good. */
  stop() {
    this.running = false;
    this.run++;
    window.removeEventListener('online', this.onOnline);
    this.abort?.abort();
    this.wait?.abort();
    this.handlers.onStatus('stopped');
  }

  /** @param {number} run */
  async loop(run) {
    let attempt = 0;
    while (this.run === run) {
      this.handlers.onStatus(this.connectedOnce || attempt > 0 ? 'reconnecting' : 'connecting');
      const outcome = await this.connect(run);
      if (this.run !== run || outcome === 'unauthorized') return;
      if (outcome === 'opened') attempt = 0;
      // Exponential backoff with jitter: 1 s, 2 s, 4 s … capped at 30 s.
      const base = Math.min(BACKOFF_MAX, BACKOFF_MIN * 2 ** attempt);
      const delay = Math.round(base / 2 + Math.random() * base / 2);
      attempt = Math.min(attempt + 1, 10);
      this.handlers.onStatus('reconnecting', delay);
      const wait = new AbortController();
      this.wait = wait;
      await sleep(delay, wait.signal);
      if (this.wait === wait) this.wait = null;
    }
  }

  /**
   * One connection, until it ends.
   * @param {number} run
   * @returns {Promise<'opened'|'failed'|'unauthorized'>}
   */
  async connect(run) {
    const abort = new AbortController();
    this.abort = abort;
    let idle = 0;
    const touch = () => {
      clearTimeout(idle);
      idle = setTimeout(() => abort.abort(), IDLE_TIMEOUT);
    };
    let opened = false;
    const token = session.token();
    const resumed = this.lastId;
    try {
      touch();
      /** @type {Record<string, string>} */
      const headers = { Accept: 'text/event-stream', Authorization: 'Bearer ' + token };
      if (resumed) headers['Last-Event-ID'] = resumed;
      const res = await fetch(URL_EVENTS, {
        headers,
        cache: 'no-store', signal: abort.signal,
      });
      if (res.status === 401) {
        reportUnauthorized(token);
        return 'unauthorized';
      }
      if (!res.ok || !res.body || this.run !== run) {
        await res.body?.cancel().catch(() => {});
        return 'failed';
      }
      opened = true;
      this.handlers.onStatus('live');
      this.handlers.onOpen({ reconnected: this.connectedOnce, resumed: !!resumed });
      this.connectedOnce = true;
      const reader = new SSEReader((raw) => {
        if (this.run === run) this.dispatch(raw);
      });
      await readEvents(res, reader, touch);
    } catch {
      // Network error, abort on stop or idle: the loop decides what next.
    } finally {
      clearTimeout(idle);
      if (this.abort === abort) this.abort = null;
    }
    return opened ? 'opened' : 'failed';
  }

  /** @param {{event: string, data: string, id: string}} raw */
  dispatch(raw) {
    // A reset without an id (the server keeps no admin event yet): the
    // next connection starts afresh, as the first did.
    if (raw.id) this.lastId = raw.id;
    else if (raw.event === 'reset') this.lastId = '';
    let data;
    try {
      data = JSON.parse(raw.data);
    } catch {
      return; // not ours to understand
    }
    try {
      this.handlers.onEvent({ type: raw.event, data, id: raw.id });
    } catch (err) {
      // A bug in one handler must not kill the stream.
      console.warn('parley: event handler failed', err);
    }
  }
}
