import { setTimeout as sleep } from 'node:timers/promises';
import { TokenRevokedError, UnavailableError } from '@tessera/protocol';
import { RevokedSet } from './revoked-set.ts';
import { SseParser, type ServerSentEvent } from './sse-parser.ts';

/** What to do with tokens while the feed has been unreachable for longer than `maxStalenessMs`. */
export type UnreachablePolicy = 'serve-stale' | 'refuse';

export interface RevocationFeedOptions {
  /** The auth server's `/auth/revocations` URL; the stream is at `<url>/stream`. */
  url: string;
  onUnreachable: UnreachablePolicy;
  maxStalenessMs: number;
  /** `stream` (Server-Sent Events, polling while the stream is down) or `poll` only. */
  transport: 'stream' | 'poll';
  pollIntervalMs: number;
  /** Milliseconds; injectable so tests move time instead of waiting. */
  now: () => number;
}

/** The server sends a comment at least this often (ms); a stream silent for 3× as long is dead. */
const SERVER_HEARTBEAT_MS = 15_000;
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;
const PRUNE_EVERY_MS = 30_000;

/** The stream endpoint is not offered (an older server, a proxy that refuses streaming). */
class StreamUnsupportedError extends Error {}

/**
 * Subscribes to the auth server's revocation feed and keeps the revoked set in memory:
 * Server-Sent Events, so a logout is felt within the network's latency; while the stream is
 * down, one poll per reconnection attempt (and polls only, if the server offers no stream). The
 * cursor of the last applied entry survives reconnections, so nothing is missed across a restart
 * of the auth server. When no contact has been made for longer than the bound, `check` refuses
 * (503) or keeps serving with the last known set, as configured.
 */
export class RevocationFeed {
  readonly #options: RevocationFeedOptions;
  readonly #revoked = new RevokedSet();
  readonly #stop = new AbortController();
  #cursor = 0;
  #connected = false;
  #lastContactAt: number;
  #lastPruneAt: number;
  #streamUnsupported = false;
  #settled = false;
  readonly #firstAttempt: Promise<void>;
  readonly #running: Promise<void>;

  constructor(options: RevocationFeedOptions) {
    this.#options = options;
    this.#lastContactAt = this.#lastPruneAt = options.now();
    let settle!: () => void;
    this.#firstAttempt = new Promise((resolve) => (settle = resolve));
    this.#running = this.#run(() => {
      this.#settled = true;
      settle();
    });
  }

  /** The cursor of the last entry applied; the next request asks from here. */
  get cursor(): number {
    return this.#cursor;
  }

  /** Whether the feed is out of contact for longer than the configured bound. */
  get stale(): boolean {
    return !this.#connected && this.#options.now() - this.#lastContactAt > this.#options.maxStalenessMs;
  }

  /**
   * Settles once the first attempt to reach the feed is over, successful or not; `null` after
   * that. Awaited before the first check, so a service that just started does not accept an
   * already revoked token.
   */
  get ready(): Promise<void> | null {
    return this.#settled ? null : this.#firstAttempt;
  }

  /**
   * Throws `TokenRevokedError` for a token of a revoked session (or a revoked token); with
   * `refuse`, throws `UnavailableError` for every token while the feed is stale.
   */
  check(sid: string, jti: string): void {
    if (this.#revoked.covers(sid, jti, this.#options.now())) throw new TokenRevokedError();
    if (this.#options.onUnreachable === 'refuse' && this.stale) {
      throw new UnavailableError(5, { cause: new Error('the revocation feed is unreachable') });
    }
  }

  async close(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }

  async #run(settle: () => void): Promise<void> {
    let failures = 0;
    while (!this.#stop.signal.aborted) {
      const streaming = this.#options.transport === 'stream' && !this.#streamUnsupported;
      try {
        if (streaming) await this.#stream(settle);
        else await this.#poll();
        failures = 0;
      } catch (error) {
        if (error instanceof StreamUnsupportedError) this.#streamUnsupported = true;
        else failures += 1;
      }
      this.#connected = false;
      // Between stream attempts, a poll catches up on what was missed while disconnected.
      if (streaming) await this.#poll().catch(() => undefined);
      settle();
      const delay = streaming
        ? Math.min(RECONNECT_MIN_MS * 2 ** failures, RECONNECT_MAX_MS)
        : this.#options.pollIntervalMs;
      // Unref'd: the feed alone does not keep a process alive.
      await sleep(delay, undefined, { signal: this.#stop.signal, ref: false }).catch(() => undefined);
    }
  }

  /** Reads `GET <url>?since=<cursor>` until the cursor stops moving (the server answers in pages). */
  async #poll(): Promise<void> {
    for (;;) {
      const url = new URL(this.#options.url);
      url.searchParams.set('since', String(this.#cursor));
      const response = await fetch(url, {
        headers: { accept: 'application/json' },
        redirect: 'error',
        signal: AbortSignal.any([this.#stop.signal, AbortSignal.timeout(5000)]),
      });
      if (!response.ok) throw new Error(`revocation feed answered ${response.status}`);
      const before = this.#cursor;
      this.#apply(await response.json());
      if (this.#cursor === before) return;
    }
  }

  /** Holds one SSE connection open until it ends; resolves on a clean end, rejects otherwise. */
  async #stream(settle: () => void): Promise<void> {
    const url = new URL(`${this.#options.url.replace(/\/$/, '')}/stream`);
    url.searchParams.set('since', String(this.#cursor));
    const watchdog = new AbortController();
    let timer = setTimeout(() => watchdog.abort(), 3 * SERVER_HEARTBEAT_MS);
    try {
      const response = await fetch(url, {
        headers: { accept: 'text/event-stream' },
        redirect: 'error',
        signal: AbortSignal.any([this.#stop.signal, watchdog.signal]),
      });
      const type = response.headers.get('content-type') ?? '';
      if (
        [404, 405, 406, 501].includes(response.status) ||
        (response.ok && !type.startsWith('text/event-stream'))
      ) {
        await response.body?.cancel();
        throw new StreamUnsupportedError(`no revocation stream (${response.status})`);
      }
      if (!response.ok || !response.body) throw new Error(`revocation stream answered ${response.status}`);
      const parser = new SseParser((event) => this.#onEvent(event, settle));
      for await (const chunk of response.body.pipeThrough(new TextDecoderStream())) {
        clearTimeout(timer);
        timer = setTimeout(() => watchdog.abort(), 3 * SERVER_HEARTBEAT_MS);
        this.#lastContactAt = this.#options.now();
        parser.push(chunk);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  #onEvent(event: ServerSentEvent, settle: () => void): void {
    if (event.event !== 'revocations') return;
    this.#apply(JSON.parse(event.data));
    this.#connected = true;
    settle();
  }

  /** Applies one `{cursor, revoked}` batch, from a poll or a stream event. */
  #apply(body: unknown): void {
    const { cursor, revoked } = (typeof body === 'object' && body !== null ? body : {}) as Record<
      string,
      unknown
    >;
    if (
      typeof cursor !== 'number' ||
      !Number.isSafeInteger(cursor) ||
      cursor < 0 ||
      !Array.isArray(revoked)
    ) {
      throw new Error('malformed revocation batch');
    }
    const now = this.#options.now();
    this.#revoked.add(revoked);
    this.#cursor = Math.max(this.#cursor, cursor);
    this.#lastContactAt = now;
    if (now - this.#lastPruneAt >= PRUNE_EVERY_MS) {
      this.#revoked.prune(now);
      this.#lastPruneAt = now;
    }
  }
}
