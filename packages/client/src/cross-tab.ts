import { systemClock, type Clock } from './clock.ts';

/** Why a session ended; the `end` event and the cross-tab `ended` message carry it. */
export type EndReason = 'logout' | 'expired' | 'invalid_grant' | 'refresh_token_reused' | 'session_expired';

/**
 * What tabs tell each other. Never a token: receivers read shared storage or cookies. `activity`:
 * the user is active in the sender (throttled), so the session's refreshes should go ahead.
 */
export type TabMessage =
  | { type: 'refreshing' }
  | { type: 'activity' }
  | { type: 'updated'; expiresAt: number; refreshExpiresAt?: number }
  | { type: 'ended'; reason: EndReason };

/** Coordinates the tabs (or instances) that share one session's credentials. */
export interface TabCoordinator {
  /**
   * Runs `task` while no other tab runs one; waits at most the lock timeout, then runs it anyway
   * (the server's reuse grace window makes a duplicate refresh safe; a deadlock is not).
   */
  exclusive<T>(task: () => Promise<T>): Promise<T>;
  publish(message: TabMessage): void;
  /** Listens to the other tabs' messages; the returned function stops listening. */
  subscribe(listener: (message: TabMessage) => void): () => void;
  close(): void;
}

/** The part of the Web Locks API (`navigator.locks`) used here. */
export interface LockManagerLike {
  request<T>(name: string, options: { signal?: AbortSignal }, callback: () => Promise<T>): Promise<T>;
}

export interface CrossTabOptions {
  /** Lock and channel name; tabs with the same name coordinate. */
  name: string;
  clock?: Clock;
  /** How long to wait for another tab's refresh before going ahead, in ms. Default 5000. */
  lockTimeout?: number;
  /** Defaults to `navigator.locks` where it exists; `null` uses BroadcastChannel alone. */
  locks?: LockManagerLike | null;
}

/** How long a tab keeps the lock after announcing its refresh, so queued tabs hear it first. */
const ANNOUNCE_SETTLE_MS = 50;

/**
 * Web Locks where available, so exactly one tab refreshes at a time and the others re-read its
 * result; BroadcastChannel to announce results, and, without Web Locks, to let a tab that saw
 * another announce a refresh wait for its result. With neither, tabs refresh independently and
 * the server's grace window absorbs the duplicates.
 */
export function createCrossTab(options: CrossTabOptions): TabCoordinator {
  return new CrossTab(options);
}

const DEFAULT_LOCK_TIMEOUT = 5000;

class CrossTab implements TabCoordinator {
  readonly #name: string;
  readonly #clock: Clock;
  readonly #lockTimeout: number;
  readonly #locks: LockManagerLike | null;
  readonly #channel: InstanceType<typeof BroadcastChannel> | null;
  readonly #listeners = new Set<(message: TabMessage) => void>();
  /** Without locks: when another tab last said it was refreshing, and who waits for its result. */
  #otherRefreshingAt: number | null = null;
  readonly #waiters = new Set<() => void>();

  constructor(options: CrossTabOptions) {
    this.#name = `tessera:${options.name}`;
    this.#clock = options.clock ?? systemClock;
    this.#lockTimeout = options.lockTimeout ?? DEFAULT_LOCK_TIMEOUT;
    this.#locks = options.locks === undefined ? platformLocks() : options.locks;
    this.#channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(this.#name) : null;
    if (this.#channel) {
      this.#channel.onmessage = (event: MessageEvent) => this.#receive(event.data);
      // Node: an open channel must not keep a finished script alive.
      (this.#channel as { unref?: () => void }).unref?.();
    }
  }

  async exclusive<T>(task: () => Promise<T>): Promise<T> {
    if (this.#locks) return this.#withLock(this.#locks, task);
    await this.#awaitOtherRefresh();
    this.publish({ type: 'refreshing' });
    return task();
  }

  publish(message: TabMessage): void {
    this.#channel?.postMessage(message);
  }

  subscribe(listener: (message: TabMessage) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#channel?.close();
    this.#listeners.clear();
    for (const wake of this.#waiters) wake();
  }

  async #withLock<T>(locks: LockManagerLike, task: () => Promise<T>): Promise<T> {
    const controller = new AbortController();
    const timer = this.#clock.setTimeout(() => controller.abort(), this.#lockTimeout);
    try {
      return await locks.request(this.#name, { signal: controller.signal }, async () => {
        this.#clock.clearTimeout(timer);
        const result = await task();
        // Hold the lock a moment after announcing the result: a tab queued on the lock must see
        // the announcement before it gets the lock, or it refreshes again (the browser test saw
        // two refreshes 12 ms apart). Real time on purpose: it is about message delivery.
        await new Promise((resolve) => setTimeout(resolve, ANNOUNCE_SETTLE_MS));
        return result;
      });
    } catch (error) {
      // A tab that froze or hung while holding the lock must not block this one forever.
      if (controller.signal.aborted && error instanceof Error && error.name === 'AbortError') return task();
      throw error;
    } finally {
      this.#clock.clearTimeout(timer);
    }
  }

  async #awaitOtherRefresh(): Promise<void> {
    if (this.#otherRefreshingAt === null) return;
    const remaining = this.#otherRefreshingAt + this.#lockTimeout - this.#clock.now();
    if (remaining <= 0) return;
    await new Promise<void>((resolve) => {
      const wake = (): void => {
        this.#clock.clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve();
      };
      const timer = this.#clock.setTimeout(wake, remaining);
      this.#waiters.add(wake);
    });
  }

  #receive(data: unknown): void {
    const message = parseMessage(data);
    if (!message) return;
    if (message.type === 'refreshing') {
      this.#otherRefreshingAt = this.#clock.now();
      return;
    }
    // A result (new tokens, or the end) releases the tabs waiting for another tab's refresh.
    if (message.type !== 'activity') {
      this.#otherRefreshingAt = null;
      for (const wake of this.#waiters) wake();
    }
    for (const listener of this.#listeners) listener(message);
  }
}

function platformLocks(): LockManagerLike | null {
  const navigator = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator;
  return navigator?.locks ?? null;
}

const END_REASONS = new Set<unknown>([
  'logout',
  'expired',
  'invalid_grant',
  'refresh_token_reused',
  'session_expired',
]);

function parseMessage(data: unknown): TabMessage | null {
  if (typeof data !== 'object' || data === null) return null;
  const message = data as Record<string, unknown>;
  if (message['type'] === 'refreshing') return { type: 'refreshing' };
  if (message['type'] === 'activity') return { type: 'activity' };
  if (message['type'] === 'ended' && END_REASONS.has(message['reason']))
    return { type: 'ended', reason: message['reason'] as EndReason };
  const { expiresAt, refreshExpiresAt } = message;
  if (
    message['type'] === 'updated' &&
    typeof expiresAt === 'number' &&
    (refreshExpiresAt === undefined || typeof refreshExpiresAt === 'number')
  )
    return { type: 'updated', expiresAt, refreshExpiresAt };
  return null;
}
