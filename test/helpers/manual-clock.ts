import type { Clock } from '../../src/core/clock.js';

/** A clock the test moves by hand (`t`); a sleep moves it too, at once. */
export class ManualClock implements Clock {
  t: number;
  constructor(start = Date.UTC(2026, 0, 5, 9, 0, 0)) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.t += ms;
    await new Promise((resolve) => setImmediate(resolve));
  }
  random(): number {
    return Math.random();
  }
}
