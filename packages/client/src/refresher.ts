import { unrefTimer, type Clock } from './clock.ts';
import type { EndReason, TabCoordinator, TabMessage } from './cross-tab.ts';
import type { Emitter } from './emitter.ts';
import { SESSION_OVER, TesseraRequestError } from './errors.ts';
import type { User } from './grant.ts';
import { canRefresh, type TokenSet, type TokenStorage } from './storage.ts';

/** How close to expiry a request refreshes first, at most (see `usable`). */
const USABLE_MARGIN_MS = 2000;

/** The client's events and what each carries. */
export interface ClientEvents {
  /** A session began: a login here, `resume()`, or a login in another tab sharing the credentials. */
  start: { user: User | null };
  /** New tokens: `byOtherTab` when another tab refreshed and this one picked up its result. */
  refresh: { expiresAt: number; byOtherTab: boolean };
  /**
   * A refresh came due with no activity within the idle timeout, in this tab or any tab sharing
   * the credentials: the access token is left to expire at `expiresAt` (local clock). The session
   * is not over; the next activity or request refreshes first.
   */
  idle: { expiresAt: number };
  /** The session is over and its tokens are gone; nothing more happens until the next login. */
  end: { reason: EndReason };
}

export interface RefresherOptions {
  storage: TokenStorage;
  clock: Clock;
  random: () => number;
  /** Refresh at least this long before expiry, in ms; up to twice as long, at random. */
  refreshSkew: number;
  /**
   * Activity (`activity()`) within this many ms before a refresh comes due keeps the session
   * fresh; `null`: the access token's lifetime as this client received it.
   */
  idleTimeout: number | null;
  tabs: TabCoordinator | null;
  /** Cookie mode: other tabs' results arrive in their message (the cookies changed), not in storage. */
  cookie: boolean;
  events: Emitter<ClientEvents>;
  /** One refresh request; rejects with a `TesseraRequestError` when the server refuses. */
  exchange(tokens: TokenSet): Promise<TokenSet>;
}

const RETRY_BASE_MS = 2000;
const RETRY_MAX_MS = 5 * 60 * 1000;
/** Other tabs hear of this tab's activity at most once per this many ms, or per quarter of the idle timeout if shorter (not under 1 s). */
const ANNOUNCE_MAX_MS = 30_000;
const ANNOUNCE_MIN_MS = 1000;
/** The longest delay `setTimeout` honours; longer waits are chained. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The times of the token set the timer was last scheduled for (no secrets). */
interface Timing {
  expiresAt: number;
  refreshExpiresAt: number | undefined;
  /** From its arrival here to its expiry, in ms: the default idle timeout. */
  lifetime: number;
}

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
  #timing: Timing | null = null;
  /** A refresh came due without recent activity: no refresh is scheduled until the next activity. */
  #idle = false;
  /** Local time of the last activity here or in another tab sharing the credentials. */
  #lastActivity = -Infinity;
  #announcedAt = -Infinity;

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
   * that did not fire (a frozen tab, a sleeping laptop) — or when the client was idle, so the
   * tokens are past their refresh time or already expired. The margin is the scheduling lead,
   * capped at a few seconds: with short-lived tokens the full lead could exceed their whole
   * lifetime, and every request would refresh (a storm the browser test caught). When that refresh
   * fails for a passing reason (offline), still-valid tokens are better than an error.
   */
  async usable(): Promise<TokenSet | null> {
    const tokens = await this.current();
    const now = this.#options.clock.now();
    const margin = Math.min(this.#options.refreshSkew, USABLE_MARGIN_MS);
    if (tokens === null || !canRefresh(tokens)) return tokens;
    if (!this.#idle && now < tokens.expiresAt - margin) return tokens;
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

  /**
   * The user (or the app on their behalf) did something: the next refresh that comes due goes
   * ahead. Cheap enough for every input event: the other tabs are told at most once per 30 s (per
   * quarter of the idle timeout when that is shorter).
   * After an idle period it starts the refresh that was skipped. `remote`: another tab's activity,
   * which only counts here — that tab refreshes for itself.
   */
  activity(remote = false): void {
    const now = this.#options.clock.now();
    this.#lastActivity = Math.max(this.#lastActivity, now);
    if (remote || !this.#active) return;
    const window = this.#idleWindow();
    const every = Math.min(ANNOUNCE_MAX_MS, Math.max(ANNOUNCE_MIN_MS, window / 4));
    if (this.#options.tabs && Number.isFinite(window) && now - this.#announcedAt >= every) {
      this.#announcedAt = now;
      this.#options.tabs.publish({ type: 'activity' });
    }
    if (this.#idle && this.#inflight === null) void this.#due(now);
  }

  /**
   * A logout has begun: a refresh still in flight must not store its answer, even if the server
   * answers it before it has handled the logout — those tokens belong to a session being ended.
   */
  abandonRefreshes(): void {
    this.#cancelTimer();
    this.#generation += 1;
  }

  /** Ends the session: no timer, no tokens, one `end` event, and the other tabs told. */
  async end(reason: EndReason, announce = true): Promise<void> {
    this.#cancelTimer();
    this.#generation += 1;
    const hadSession = this.#active || (await this.current()) !== null;
    this.#active = false;
    this.#idle = false;
    this.#timing = null;
    await this.#options.storage.clear();
    if (announce) this.#options.tabs?.publish({ type: 'ended', reason });
    if (hadSession) this.#options.events.emit('end', { reason });
  }

  close(): void {
    this.#cancelTimer();
    this.#unsubscribe();
  }

  async #refreshAcrossTabs(stale: TokenSet | undefined): Promise<TokenSet | null> {
    // Taken before the first await: a logout that begins while this refresh waits for storage or
    // for the cross-tab lock must still make it drop its answer (`abandonRefreshes`).
    const generation = this.#generation;
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
      // Never present a refresh token past its own expiry: the session is over.
      if (!canRefresh(latest) || this.#options.clock.now() >= (latest.refreshExpiresAt ?? 0)) {
        await this.end('expired');
        return null;
      }
      if (generation !== this.#generation) return null;
      return this.#exchange(latest, generation);
    };
    return this.#options.tabs ? this.#options.tabs.exclusive(run) : run();
  }

  async #exchange(tokens: TokenSet, generation: number): Promise<TokenSet | null> {
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
    // A login or a page (re)load is activity.
    this.#lastActivity = this.#options.clock.now();
    this.#schedule(tokens);
    this.#options.events.emit('start', { user });
  }

  /**
   * Refresh at a random moment between one and two leads before expiry: tabs and devices that
   * logged in together spread out instead of arriving at once. The lead is at most a quarter of
   * the remaining lifetime, so short-lived tokens are not refreshed the moment they arrive.
   * Tokens that cannot be refreshed by then (no refresh token, or it expires first) end the
   * session when the access token expires.
   */
  #schedule(tokens: TokenSet): void {
    const now = this.#options.clock.now();
    this.#idle = false;
    this.#timing = {
      expiresAt: tokens.expiresAt,
      refreshExpiresAt: tokens.refreshExpiresAt,
      lifetime: Math.max(0, tokens.expiresAt - now),
    };
    if (!canRefresh(tokens)) {
      this.#setTimerAt(tokens.expiresAt, () => void this.end('expired'));
      return;
    }
    const lead = Math.min(this.#options.refreshSkew, Math.max(0, tokens.expiresAt - now) / 4);
    const at = Math.floor(tokens.expiresAt - lead - this.#options.random() * lead);
    if (at >= (tokens.refreshExpiresAt ?? 0)) this.#setTimerAt(tokens.expiresAt, () => this.#expire());
    else this.#setTimerAt(at, () => void this.#due(at));
  }

  /**
   * A refresh came due at `at` (or is retried, or activity ended an idle period): refresh if there
   * was activity within the idle timeout before `at`; otherwise let the access token expire.
   */
  async #due(at: number): Promise<void> {
    if (!this.#active) return;
    if (this.#lastActivity < at - this.#idleWindow()) return this.#goIdle();
    try {
      await this.refresh();
    } catch {
      // Offline or the server unavailable: retry with backoff; a request in between retries too.
      this.#failures += 1;
      const retryAt = this.#options.clock.now() + retryDelay(this.#failures);
      if (this.#active) this.#setTimerAt(retryAt, () => void this.#due(retryAt));
    }
  }

  /**
   * No refresh until the next activity. The refresh token stays valid at the server for its idle
   * lifetime; once it and the access token are both past, the session ends as `expired`.
   */
  #goIdle(): void {
    const timing = this.#timing;
    if (timing === null) return;
    this.#idle = true;
    this.#setTimerAt(Math.max(timing.expiresAt, timing.refreshExpiresAt ?? 0), () => this.#expire());
    this.#options.events.emit('idle', { expiresAt: timing.expiresAt });
  }

  /**
   * The tokens can no longer be refreshed: a refresh attempt ends the session without a request
   * (after checking, under the cross-tab lock, that no other tab has renewed them).
   */
  #expire(): void {
    this.refresh().catch(() => {});
  }

  #idleWindow(): number {
    return this.#options.idleTimeout ?? this.#timing?.lifetime ?? 0;
  }

  async #onTabMessage(message: TabMessage): Promise<void> {
    if (message.type === 'ended') return this.end(message.reason, false);
    if (message.type === 'activity') return this.activity(true);
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

  /** Calls `callback` at local time `at`, never earlier (long waits are chained). */
  #setTimerAt(at: number, callback: () => void): void {
    this.#cancelTimer();
    const delay = Math.max(0, at - this.#options.clock.now());
    this.#timer =
      delay > MAX_TIMER_MS
        ? this.#options.clock.setTimeout(() => this.#setTimerAt(at, callback), MAX_TIMER_MS)
        : this.#options.clock.setTimeout(callback, delay);
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
