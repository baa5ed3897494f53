/** A clock the test moves by hand: lifetimes are tested by jumping, never by sleeping. */
export class FakeClock {
  #now: number;

  constructor(start = Date.UTC(2026, 0, 1, 12, 0, 0)) {
    this.#now = start;
  }

  readonly now = (): number => this.#now;

  advance(ms: number): void {
    this.#now += ms;
  }

  advanceSeconds(seconds: number): void {
    this.#now += seconds * 1000;
  }
}
