/** One dispatched Server-Sent Event. */
export interface ServerSentEvent {
  event: string;
  data: string;
  id: string | undefined;
}

/**
 * An incremental `text/event-stream` parser (WHATWG HTML §9.2.6): feed it decoded text chunks as
 * they arrive, in any split; it calls `onEvent` per dispatched event. Comments (`: keepalive`) and
 * `retry` are read but dispatch nothing; the caller treats any chunk as a sign of life.
 */
export class SseParser {
  readonly #onEvent: (event: ServerSentEvent) => void;
  #buffer = '';
  #event = '';
  #data: string[] = [];
  #id: string | undefined;

  constructor(onEvent: (event: ServerSentEvent) => void) {
    this.#onEvent = onEvent;
  }

  push(chunk: string): void {
    this.#buffer += chunk;
    for (;;) {
      const end = /\r\n|\r|\n/.exec(this.#buffer);
      // A lone trailing CR may be the first half of CRLF: wait for the next chunk.
      if (!end || (end[0] === '\r' && end.index === this.#buffer.length - 1)) return;
      const line = this.#buffer.slice(0, end.index);
      this.#buffer = this.#buffer.slice(end.index + end[0].length);
      this.#line(line);
    }
  }

  #line(line: string): void {
    if (line === '') return this.#dispatch();
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.#event = value;
    else if (field === 'data') this.#data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.#id = value;
  }

  #dispatch(): void {
    if (this.#data.length > 0) {
      this.#onEvent({ event: this.#event || 'message', data: this.#data.join('\n'), id: this.#id });
    }
    this.#event = '';
    this.#data = [];
  }
}
