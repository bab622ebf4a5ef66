/**
 * Fake timers for the limiter's tests: Bottleneck paces with setTimeout, setImmediate hops and
 * Date.now, and the limiter's gate sleeps through the system clock, so faking all of them makes
 * every spacing exact and the tests immune to a busy machine.
 */
import { afterEach, beforeEach, expect, vi } from 'vitest';

/** Call at the top of a test file: fake timers around every test. */
export function useLimiterFakeTimers(): void {
  beforeEach(() => {
    vi.useFakeTimers({
      toFake: [
        'setTimeout',
        'clearTimeout',
        'setInterval',
        'clearInterval',
        'setImmediate',
        'clearImmediate',
        'Date',
      ],
    });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
}

/** Runs fake time forward until `work` settles (bounded, so a hang fails instead of looping). */
export async function settle<T>(work: Promise<T>, maxMs = 60_000): Promise<T> {
  let done = false;
  work.then(
    () => (done = true),
    () => (done = true),
  );
  for (let t = 0; !done && t < maxMs; t += 1) await vi.advanceTimersByTimeAsync(1);
  expect(done).toBe(true);
  return work;
}
