import { unrefTimer, type Clock } from './clock.ts';
import type { EndReason, TabCoordinator, TabMessage } from './cross-tab.ts';
import type { Emitter } from './emitter.ts';
import { SESSION_OVER, TesseraRequestError } from './errors.ts';
import type { User } from './grant.ts';
import { canRefresh, type TokenSet, type TokenStorage } from './storage.ts';

/** The client's events and what each carries. */
/** How close to expiry a request refreshes first, at most (see `usable`). */
const USABLE_MARGIN_MS = 2000;

export interface ClientEvents {
  /** A session began: a login here, `resume()`, or a login in another tab sharing the credentials. */
  start: { user: User | null };
  /** New tokens: `byOtherTab` when another tab refreshed and this one picked up its result. */
  refresh: { expiresAt: number; byOtherTab: boolean };
  /** The session is over and its tokens are gone; nothing more happens until the next login. */
  end: { reason: EndReason };
}

export interface RefresherOptions {
  storage: TokenStorage;
  clock: Clock;
  random: () => number;
  /** Refresh at least this long before expiry, in ms; up to twice as long, at random. */
  refreshSkew: number;
  tabs: TabCoordinator | null;
  /** Cookie mode: other tabs' results arrive in their message (the cookies changed), not in storage. */
  cookie: boolean;
  events: Emitter<ClientEvents>;
  /** One refresh request; rejects with a `TesseraRequestError` when the server refuses. */
  exchange(tokens: TokenSet): Promise<TokenSet>;
}

const RETRY_BASE_MS = 2000;
const RETRY_MAX_MS = 5 * 60 * 1000;

/**
 * Keeps one session's tokens fresh: schedules the background refresh, merges every concurrent
 * need for a refresh into one request, coordinates with other tabs, and ends the session for good
 * when the server says it is over.
 */
export class Refresher {
  readonly #options: RefresherOptions;
  readonly #unsubscribe: () => void;
  #active = false;
  /** Bumped at every start and end, so a refresh that outlived its session cannot revive it. */
  #generation = 0;
  #inflight: Promise<TokenSet | null> | null = null;
  #timer: unknown = null;
  #failures = 0;

  constructor(options: RefresherOptions) {
    this.#options = options;
    this.#unsubscribe = options.tabs?.subscribe((message) => void this.#onTabMessage(message)) ?? (() => {});
  }

  current(): Promise<TokenSet | null> {
    return Promise.resolve(this.#options.storage.get());
  }

  /** A session began here: keep its tokens, schedule its refresh, tell listeners and other tabs. */
  async start(tokens: TokenSet, user: User | null): Promise<void> {
    await this.#options.storage.set(tokens);
    this.#begin(tokens, user);
    this.#publishUpdate(tokens);
  }

  /** Picks up stored tokens (after a reload); false when there are none. */
  async resume(): Promise<boolean> {
    const tokens = await this.current();
    if (tokens === null) return false;
    this.#begin(tokens, null);
    return true;
  }

  /**
   * Tokens to send now, refreshed first when they are about to expire — the safety net for a timer
   * that did not fire (a frozen tab, a sleeping laptop). The margin is the scheduling lead, capped
   * at a few seconds: with short-lived tokens the full lead could exceed their whole lifetime, and
   * every request would refresh (a storm the browser test caught). When that refresh fails for a
   * passing reason (offline), still-valid tokens are better than an error.
   */
  async usable(): Promise<TokenSet | null> {
    const tokens = await this.current();
    const now = this.#options.clock.now();
    const margin = Math.min(this.#options.refreshSkew, USABLE_MARGIN_MS);
    if (tokens === null || !canRefresh(tokens) || now < tokens.expiresAt - margin) return tokens;
    try {
      return await this.refresh(tokens);
    } catch (error) {
      if (now < tokens.expiresAt) return tokens;
      throw error;
    }
  }

  /**
   * New tokens, or null when the session is over. Every caller until the answer arrives shares
   * one request. `stale` is the token set a request just failed with: if the tokens have changed
   * since, they are returned without asking the server.
   */
  refresh(stale?: TokenSet): Promise<TokenSet | null> {
    this.#inflight ??= this.#refreshAcrossTabs(stale).finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  /** Ends the session: no timer, no tokens, one `end` event, and the other tabs told. */
  async end(reason: EndReason, announce = true): Promise<void> {
    this.#cancelTimer();
    this.#generation += 1;
    const hadSession = this.#active || (await this.current()) !== null;
    this.#active = false;
    await this.#options.storage.clear();
    if (announce) this.#options.tabs?.publish({ type: 'ended', reason });
    if (hadSession) this.#options.events.emit('end', { reason });
  }

  close(): void {
    this.#cancelTimer();
    this.#unsubscribe();
  }

  async #refreshAcrossTabs(stale: TokenSet | undefined): Promise<TokenSet | null> {
    const before = stale ?? (await this.current());
    if (before === null) return null;
    const run = async (): Promise<TokenSet | null> => {
      // Lock, then recheck: another tab may have refreshed while this one waited.
      const latest = await this.current();
      if (latest === null) return null;
      if (!sameTokens(latest, before)) {
        if (this.#active) this.#schedule(latest);
        return latest;
      }
      if (!canRefresh(latest)) {
        await this.end('expired');
        return null;
      }
      return this.#exchange(latest);
    };
    return this.#options.tabs ? this.#options.tabs.exclusive(run) : run();
  }

  async #exchange(tokens: TokenSet): Promise<TokenSet | null> {
    const generation = this.#generation;
    let next: TokenSet;
    try {
      next = await this.#options.exchange(tokens);
    } catch (error) {
      if (error instanceof TesseraRequestError && SESSION_OVER.has(error.code)) {
        if (generation === this.#generation) await this.end(error.code as EndReason);
        return null;
      }
      throw error;
    }
    // Logged out (or in again) while the request was out: these tokens belong to a dead session.
    if (generation !== this.#generation) return null;
    await this.#options.storage.set(next);
    this.#failures = 0;
    this.#schedule(next);
    this.#options.events.emit('refresh', { expiresAt: next.expiresAt, byOtherTab: false });
    this.#publishUpdate(next);
    return next;
  }

  #begin(tokens: TokenSet, user: User | null): void {
    this.#generation += 1;
    this.#active = true;
    this.#failures = 0;
    this.#schedule(tokens);
    this.#options.events.emit('start', { user });
  }

  /**
   * Refresh at a random moment between one and two leads before expiry: tabs and devices that
   * logged in together spread out instead of arriving at once. The lead is at most a quarter of
   * the remaining lifetime, so short-lived tokens are not refreshed the moment they arrive.
   */
  #schedule(tokens: TokenSet): void {
    const now = this.#options.clock.now();
    if (!canRefresh(tokens)) {
      this.#setTimer(() => void this.end('expired'), tokens.expiresAt - now);
      return;
    }
    const lead = Math.min(this.#options.refreshSkew, Math.max(0, tokens.expiresAt - now) / 4);
    const at = Math.floor(tokens.expiresAt - lead - this.#options.random() * lead);
    this.#setTimer(() => void this.#background(), at - now);
  }

  async #background(): Promise<void> {
    try {
      await this.refresh();
    } catch {
      // Offline or the server unavailable: retry with backoff; a request in between retries too.
      this.#failures += 1;
      if (this.#active) this.#setTimer(() => void this.#background(), retryDelay(this.#failures));
    }
  }

  async #onTabMessage(message: TabMessage): Promise<void> {
    if (message.type === 'ended') return this.end(message.reason, false);
    if (message.type !== 'updated') return;
    let tokens: TokenSet | null = {
      expiresAt: message.expiresAt,
      refreshExpiresAt: message.refreshExpiresAt,
    };
    if (this.#options.cookie) await this.#options.storage.set(tokens);
    else tokens = await this.current();
    if (tokens === null) return;
    if (!this.#active) return this.#begin(tokens, null);
    this.#schedule(tokens);
    this.#options.events.emit('refresh', { expiresAt: tokens.expiresAt, byOtherTab: true });
  }

  #publishUpdate(tokens: TokenSet): void {
    this.#options.tabs?.publish({
      type: 'updated',
      expiresAt: tokens.expiresAt,
      refreshExpiresAt: tokens.refreshExpiresAt,
    });
  }

  #setTimer(callback: () => void, ms: number): void {
    this.#cancelTimer();
    this.#timer = this.#options.clock.setTimeout(callback, Math.max(0, ms));
    unrefTimer(this.#timer);
  }

  #cancelTimer(): void {
    if (this.#timer !== null) this.#options.clock.clearTimeout(this.#timer);
    this.#timer = null;
  }
}

function sameTokens(a: TokenSet, b: TokenSet): boolean {
  return a.expiresAt === b.expiresAt && a.accessToken === b.accessToken && a.refreshToken === b.refreshToken;
}

function retryDelay(failures: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (failures - 1));
}
