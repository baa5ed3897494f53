/**
 * Runs tasks one after another per key, tasks of different keys freely in parallel. The Redis store
 * queues rotations of one refresh token here: twenty tabs refreshing the same token on one instance
 * then take turns instead of all failing the same compare-and-set and retrying, so the optimistic
 * retries are only ever needed between instances (at most one contender per instance).
 */
export class SerialByKey {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    // The last task of a key removes its entry, so the map holds only keys with work in progress.
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }
}
