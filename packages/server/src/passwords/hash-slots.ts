/**
 * At most `size` password hashes at once; the rest wait their turn in arrival order.
 *
 * argon2 runs on the libuv thread pool (4 threads by default). On a machine with fewer cores than
 * that, a login flood keeps all four busy and the event loop, which serves every token-authenticated
 * request, gets a fifth or less of the CPU. Capping hashes near the number of cores (the server uses
 * cores + 1, see `PasswordHasher`) keeps the login rate (the cores are saturated either way) and
 * leaves the scheduler a fair share for the event loop and for the rest of the pool (threadpool
 * signature checks, file I/O). Measured in `npm run bench -- login` (docs/benchmarks.md, "Login
 * and the event loop").
 */
export class HashSlots {
  readonly #size: number;
  #busy = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(size: number) {
    this.#size = Math.max(1, Math.floor(size));
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#busy >= this.#size) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#busy += 1;
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next in line, so `#busy` never dips and a newcomer cannot
      // overtake the queue.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#busy -= 1;
    }
  }

  /** Hashes running now and waiting, for tests and metrics. */
  get load(): { running: number; waiting: number } {
    return { running: this.#busy, waiting: this.#waiting.length };
  }
}
