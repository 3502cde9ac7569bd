// One reader of text/event-stream (WHATWG HTML, "server-sent events"),
// shared by the widget panel and the console. The streams are read with
// fetch, not EventSource, so that the token goes in a header.

/**
 * @typedef {{event: string, data: string, id: string}} SSEEvent
 */

/**
 * Splits a text/event-stream into events. Feed it decoded text in order; it
 * calls onEvent at each blank line that ends an event with data. Lines may
 * end in CR, LF or CRLF, split anywhere between chunks. Comments (": ping")
 * are skipped: liveness is the caller's business, per chunk received.
 */
export class SSEReader {
  /** @param {(ev: SSEEvent) => void} onEvent */
  constructor(onEvent) {
    this.onEvent = onEvent;
    /** The last event id seen; it carries over to later events, as the spec says. */
    this.lastEventId = '';
    /** The reconnection time the server asked for with "retry:", in ms (0: none). */
    this.retry = 0;
    this.end();
  }

  /** @param {string} text the next decoded chunk */
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

  /**
   * Ends the stream: an event not closed by a blank line is dropped, as the
   * spec says. The last event id stays, for the reconnect.
   */
  end() {
    this.started = false; // a BOM may open the next stream
    this.line = '';
    this.cr = false; // the last chunk ended with CR: an LF opening the next one belongs to it
    this.event = '';
    this.data = [];
    this.id = this.lastEventId; // the id buffer, committed at each blank line
  }

  /** @param {string} line one line, without its end */
  field(line) {
    if (line === '') return this.dispatch();
    if (line[0] === ':') return; // a comment
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (name === 'data') this.data.push(value);
    else if (name === 'event') this.event = value;
    else if (name === 'id' && !value.includes('\0')) this.id = value;
    else if (name === 'retry' && /^\d+$/.test(value)) this.retry = +value;
  }

  /** Ends an event at a blank line; one without data is not dispatched. */
  dispatch() {
    this.lastEventId = this.id;
    const data = this.data;
    const event = this.event || 'message';
    this.event = '';
    this.data = [];
    if (data.length) this.onEvent({ event, data: data.join('\n'), id: this.lastEventId });
  }
}

/**
 * Pumps a fetch Response's body through a streaming UTF-8 decoder into
 * reader until the body ends. It rejects when the read fails (a network
 * error, or the fetch's signal aborted).
 * @param {Response} response
 * @param {SSEReader} reader
 * @param {() => void} [onChunk] called as each chunk arrives, before it is read
 *   (the callers' idle watchdog)
 * @returns {Promise<void>}
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
