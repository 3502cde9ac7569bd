// The admin event stream: GET /api/v1/admin/events read with fetch so the
// token travels in the Authorization header (never in a URL), Server-Sent
// Events parsed by hand, reconnects with backoff.

import { reportUnauthorized, session } from './api.js';
import { sleep } from './util.js';

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
 * Splits a text/event-stream into events. Feed it decoded text chunks in
 * order; it calls onEvent for each complete event.
 */
export class SSEParser {
  /** @param {(ev: {event: string, data: string, id: string}) => void} onEvent */
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.buffer = '';
    this.event = '';
    this.data = [];
    this.id = '';
    this.first = true;
  }

  /** @param {string} chunk */
  push(chunk) {
    if (this.first && chunk) {
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
      this.first = false;
    }
    this.buffer += chunk;
    // A trailing "\r" may be half of "\r\n": keep it until the next chunk.
    let start = 0;
    for (;;) {
      const m = /\r\n|\n|\r(?!$)/g;
      m.lastIndex = start;
      const hit = m.exec(this.buffer);
      if (!hit) break;
      this.line(this.buffer.slice(start, hit.index));
      start = hit.index + hit[0].length;
    }
    this.buffer = this.buffer.slice(start);
  }

  /** @param {string} line */
  line(line) {
    if (line === '') {
      if (this.data.length) this.onEvent({ event: this.event || 'message', data: this.data.join('\n'), id: this.id });
      this.event = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return; // comment, e.g. ": ping"
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.id = value;
  }
}

/**
 * Keeps the admin stream open for as long as it runs.
 */
export class AdminStream {
  /**
   * @param {{
   *   onEvent: (ev: StreamEvent) => void,
   *   onOpen: (info: {reconnected: boolean}) => void,
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
    this.onOnline = () => this.wait?.abort();
  }

  /** Starts the stream; it keeps reconnecting until stop(). */
  start() {
    if (this.running) return;
    this.running = true;
    this.connectedOnce = false;
    window.addEventListener('online', this.onOnline);
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
    try {
      touch();
      const res = await fetch(URL_EVENTS, {
        headers: { Accept: 'text/event-stream', Authorization: 'Bearer ' + token },
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
      this.handlers.onOpen({ reconnected: this.connectedOnce });
      this.connectedOnce = true;
      const parser = new SSEParser((raw) => {
        if (this.run === run) this.dispatch(raw);
      });
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        touch();
        parser.push(value);
      }
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
