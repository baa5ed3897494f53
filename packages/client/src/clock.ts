/**
 * Time and timers the client schedules with. Tests inject a manual clock and move it by hand
 * instead of sleeping through token lifetimes (STYLE §7).
 */
export interface Clock {
  /** Milliseconds since the epoch, on this machine's clock (which may disagree with the server's). */
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The platform's clock and timers: `Date.now` and the global `setTimeout`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Lets a Node process exit while only a background refresh is pending: a script that logged in
 * and finished its work must not hang until the next refresh. Browsers' timers have no `unref`.
 */
export function unrefTimer(handle: unknown): void {
  const unref =
    typeof handle === 'object' && handle !== null ? (handle as { unref?: unknown }).unref : undefined;
  if (typeof unref === 'function') (unref as (this: unknown) => void).call(handle);
}
