import { purgedRows } from '../stores/purge.ts';
import type { Cleanup } from './cleanup.ts';

/** Where sweeps are reported: the server's logger (pino's `(fields, message)` form). */
export interface CleanupLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface CleanupSchedule {
  /**
   * Stops the timer and waits for a sweep in progress to end its current batch (shutdown): the
   * store is closed after this, never under a batch.
   */
  stop(): Promise<void>;
}

/**
 * Runs `cleanup` every `intervalMs` in the background. A sweep never overlaps the one before it
 * (a slow one makes the next tick a no-op); a failed one is logged and tried again at the next
 * interval, never thrown: a database that is down for a minute must not take the server with it.
 */
export function scheduleCleanup(
  cleanup: Cleanup,
  intervalMs: number,
  now: () => number,
  log: CleanupLog,
): CleanupSchedule {
  const stopping = new AbortController();
  let running: Promise<void> | null = null;
  const tick = (): void => {
    if (running) return;
    running = cleanup
      .sweep(now(), stopping.signal)
      .then((swept) => {
        if (purgedRows(swept) > 0) log.info({ cleanup: swept }, 'expired rows deleted');
      })
      .catch((error: unknown) => log.warn({ err: error }, 'cleanup failed; retried at the next interval'))
      .finally(() => (running = null));
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref(); // never what keeps the process alive
  return {
    async stop() {
      clearInterval(timer);
      stopping.abort();
      await running;
    },
  };
}
