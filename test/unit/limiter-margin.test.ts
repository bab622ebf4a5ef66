import { describe, expect, it, vi } from 'vitest';
import { settle, useLimiterFakeTimers } from '../support/fake-timers.js';
import { MARGIN_NARROW, MARGIN_STEP, RateLimiter } from '../../src/limit/limiter.js';

/**
 * The adaptive pacing margin (SPEC §6 jitter rule, issue #13), on fake timers like
 * limiter.test.ts: Bottleneck's setTimeout/Date.now and the limiter's clock all move only when
 * the test moves them, so nothing here depends on how busy the machine is.
 */
useLimiterFakeTimers();

/** 20 per second, as the server announces it: spacing 50 ms + the margin. */
const rate = { limit: 20, windowMs: 1000 };
const announced = { 'x-ratelimit-limit': '20', 'x-ratelimit-remaining': '5' };

/** A 429 as the client reports it: the answer's headers, then the wait (Retry-After: 1). */
function refuse(limiter: RateLimiter): void {
  limiter.observe(429, { ...announced, 'x-ratelimit-remaining': '0', 'retry-after': '1' });
  limiter.backOff(1000);
}

describe('RateLimiter margin', () => {
  it('a 429 widens the margin by one step although the server announces its limit, and paces slower', async () => {
    const limiter = new RateLimiter({ rate, concurrency: 2 });
    limiter.observe(200, announced);
    expect(limiter.stats().margin).toBe(0.02);
    expect(limiter.interval).toBe(51);
    refuse(limiter);
    expect(limiter.stats()).toMatchObject({ margin: 0.02 + MARGIN_STEP, widened: 1, rateLimited: 1 });
    expect(limiter.interval).toBe(51.5); // 20 sends span 1030 ms
    await vi.advanceTimersByTimeAsync(1000); // past the hold: the next 429 is a new event
    refuse(limiter);
    expect(limiter.stats().margin).toBeCloseTo(0.04, 10);
    expect(limiter.interval).toBe(52);
    await limiter.stop();
  });

  it('widens once for the 429s of requests that were already in flight when the first one came', async () => {
    const limiter = new RateLimiter({ rate, concurrency: 4 });
    for (let i = 0; i < 4; i++) refuse(limiter);
    expect(limiter.stats()).toMatchObject({ margin: 0.02 + MARGIN_STEP, widened: 1, rateLimited: 4 });
    await limiter.stop();
  });

  it('narrows a little per window without a 429, back to the configured base and never below it', async () => {
    const limiter = new RateLimiter({ rate, concurrency: 1, safety: 0.05 });
    refuse(limiter);
    await vi.advanceTimersByTimeAsync(1000);
    refuse(limiter);
    const wide = limiter.stats().margin;
    expect(wide).toBeGreaterThanOrEqual(0.05 + 2 * MARGIN_STEP);
    expect(limiter.interval).toBe(53.5); // 52.5 ms at 5 %, half a ms more per 429
    const send = () => settle(limiter.schedule('submit', async () => undefined));
    await send(); // ends the hold
    await vi.advanceTimersByTimeAsync(10_000);
    await send();
    // ten whole windows since the last 429 (the send after the hold may add one)
    expect(limiter.stats().margin).toBeLessThan(wide - 9 * MARGIN_NARROW + 1e-9);
    expect(limiter.stats().margin).toBeGreaterThan(wide - 12 * MARGIN_NARROW - 1e-9);
    await vi.advanceTimersByTimeAsync(1000 * 1000);
    await send();
    expect(limiter.stats().margin).toBe(0.05);
    expect(limiter.interval).toBe(52.5); // 50 ms × 1.05: the base spacing again
    await limiter.stop();
  });

  it('after a hold, the held requests and new ones leave one interval apart, never more than `limit` within window × (1 + margin)', async () => {
    const small = { limit: 10, windowMs: 1000 };
    const limiter = new RateLimiter({ rate: small, concurrency: 4 });
    limiter.observe(200, { 'x-ratelimit-limit': '10' });
    const t0 = Date.now();
    const starts: number[] = [];
    const jobs = Array.from({ length: 30 }, () =>
      limiter.schedule('submit', async () => void starts.push(Date.now() - t0)),
    );
    await vi.advanceTimersByTimeAsync(450); // five requests out, at 0, 102, …, 408 ms
    expect(starts).toHaveLength(5);
    limiter.backOff(1000); // a 429 at 450 ms: Retry-After 1 s
    expect(limiter.stats().margin).toBeCloseTo(0.03, 10);
    const interval = limiter.interval;
    expect(interval).toBe(103);
    await settle(Promise.all(jobs));
    expect(starts).toHaveLength(30);
    starts.sort((a, b) => a - b);
    expect(starts.filter((t) => t > 450 && t < 1450)).toEqual([]); // nothing during the hold
    const after = starts.filter((t) => t >= 1450);
    // the four held at the gate and the ones Bottleneck started as soon as a slot freed do not
    // leave together: one interval apart
    for (let i = 1; i < after.length; i++) expect(after[i]! - after[i - 1]!).toBeGreaterThanOrEqual(interval);
    // so a strict sliding window of 1 s sees at most 10 even with arrivals up to 30 ms late
    for (let i = 0; i + small.limit < after.length; i++)
      expect(after[i + small.limit]! - after[i]!).toBeGreaterThanOrEqual(1030);
    await limiter.stop();
  });
});
