// The one text/event-stream reader (WHATWG HTML, server-sent events), shared
// by the widget panel and the console, which read their streams with fetch.

/** @typedef {{event: string, data: string, id: string}} SSEEvent */

/**
 * Splits a stream into events: feed it decoded text in order, cut anywhere
 * (a CRLF included). Comments are skipped: liveness is each chunk's arrival.
 */
export class SSEReader {
  /** @param {(ev: SSEEvent) => void} onEvent */
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.lastEventId = ''; // carried over to later events, and streams
    this.retry = 0; // ms, from "retry:"
    this.end();
  }

  /** @param {string} text */
  feed(text) {
    if (!text) return;
    if (!this.started) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.cr && text[0] === '\n') text = text.slice(1);
    this.cr = text.endsWith('\r');
    const lines = (this.line + text).split(/\r\n|\r|\n/);
    this.line = lines.pop();
    for (const line of lines) this.field(line);
  }

  /** Ends a stream: an event it left unfinished is dropped, as the spec says. */
  end() {
    this.started = false;
    this.line = '';
    this.cr = false; // the last chunk ended in CR: an LF opening the next is its end
    this.event = '';
    this.data = [];
    this.id = this.lastEventId;
  }

  /** @param {string} line */
  field(line) {
    if (line === '') return this.dispatch();
    if (line[0] === ':') return;
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (name === 'data') this.data.push(value);
    else if (name === 'event') this.event = value;
    else if (name === 'id' && !value.includes('\0')) this.id = value;
    else if (name === 'retry' && /^\d+$/.test(value)) this.retry = +value;
  }

  /** A blank line: the event, if it has data. */
  dispatch() {
    this.lastEventId = this.id;
    const { data, event } = this;
    this.event = '';
    this.data = [];
    if (data.length) this.onEvent({ event: event || 'message', data: data.join('\n'), id: this.id });
  }
}

/**
 * Pumps a fetch Response's body into reader until it ends; rejects when
 * the read fails (network, abort).
 * @param {Response} response
 * @param {SSEReader} reader
 * @param {() => void} [onChunk] as each chunk arrives (an idle watchdog)
 */
export async function readEvents(response, reader, onChunk) {
  const body = response.body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { value, done } = await body.read();
      if (done) break;
      if (onChunk) onChunk();
      reader.feed(decoder.decode(value, { stream: true }));
    }
    reader.feed(decoder.decode());
  } finally {
    reader.end();
  }
}
