import { describe, expect, it } from 'vitest';
import { RateLimiter, PLANS } from '../../src/limit/limiter.js';
import { systemClock } from '../../src/clock.js';

/** Real time, scaled down: 50 requests per second = one every ~20 ms. */
const rate = { limit: 50, windowMs: 1000 };

describe('RateLimiter', () => {
  it('spaces request starts at window/limit plus the safety margin', async () => {
    const limiter = new RateLimiter({ rate, concurrency: 4 });
    const starts: number[] = [];
    await Promise.all(Array.from({ length: 15 }, () => limiter.schedule('submit', async () => void starts.push(Date.now()))));
    expect(limiter.interval).toBe(21);
    // 15 starts span at least 14 intervals (timers fire late, never early; one start may
    // follow a late one by a little less than an interval, the margin absorbs that)
    expect(starts.at(-1)! - starts[0]!).toBeGreaterThanOrEqual(14 * 20);
    await limiter.stop();
  });

  it('runs due polls before queued submissions', async () => {
    const limiter = new RateLimiter({ rate, concurrency: 1 });
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const jobs = [
      limiter.schedule('submit', async () => {
        order.push('s1');
        await held;
      }),
      limiter.schedule('submit', async () => void order.push('s2')),
      limiter.schedule('submit', async () => void order.push('s3')),
    ];
    await new Promise((r) => setTimeout(r, 30));
    jobs.push(limiter.schedule('poll', async () => void order.push('p1')));
    await new Promise((r) => setTimeout(r, 10));
    release();
    await Promise.all(jobs);
    // s1 starts at once; the poll jumps the queue ahead of s2 and s3
    expect(order).toEqual(['s1', 'p1', 's2', 's3']);
    await limiter.stop();
  });

  it('after backOff, holds every request until the wait is over, then releases them spaced', async () => {
    const limiter = new RateLimiter({ rate, concurrency: 4, clock: systemClock });
    const t0 = Date.now();
    limiter.backOff(150);
    const starts: number[] = [];
    await Promise.all(Array.from({ length: 4 }, () => limiter.schedule('submit', async () => void starts.push(Date.now() - t0))));
    expect(Math.min(...starts)).toBeGreaterThanOrEqual(149);
    const sorted = [...starts].sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]! - sorted[i - 1]!).toBeGreaterThanOrEqual(19);
    expect(limiter.stats().rateLimited).toBe(1);
    await limiter.stop();
  });

  it('closes the gate when the server says Remaining: 0 until its reset', async () => {
    const limiter = new RateLimiter({ rate, concurrency: 2 });
    const t0 = Date.now();
    limiter.observe(200, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.ceil((t0 + 1200) / 1000)) });
    let started = 0;
    await limiter.schedule('meta', async () => void (started = Date.now()));
    expect(started).toBeGreaterThanOrEqual(Math.ceil((t0 + 1200) / 1000) * 1000 - 5);
    await limiter.stop();
  });

  it('slows down to a lower limit the server announces', async () => {
    const limiter = new RateLimiter({ rate: PLANS.business, concurrency: 2 });
    expect(limiter.interval).toBe(510);
    limiter.observe(200, { 'x-ratelimit-limit': '60', 'x-ratelimit-remaining': '59' });
    expect(limiter.interval).toBe(1020);
    await limiter.stop();
  });

  it('does not stop at Remaining: 0 when its own even pace used the window (short or sliding windows)', async () => {
    const limiter = new RateLimiter({ rate: { limit: 10, windowMs: 1000 }, concurrency: 2 });
    await Promise.all(Array.from({ length: 10 }, () => limiter.schedule('submit', async () => undefined)));
    const far = String(Math.ceil(Date.now() / 1000) + 30);
    limiter.observe(200, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': far });
    const t0 = Date.now();
    await limiter.schedule('submit', async () => undefined);
    // paced, not held for 30 s
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(limiter.stats().backOffMs).toBe(0);
    await limiter.stop();
  });

  it('slows its pace by 10 % per 429 when the server announces no limit to re-sync from, up to 2×', async () => {
    const limiter = new RateLimiter({ rate: { limit: 100, windowMs: 1000 }, concurrency: 1 });
    expect(limiter.interval).toBe(11);
    limiter.backOff(1);
    expect(limiter.interval).toBe(13);
    for (let i = 0; i < 40; i++) limiter.backOff(1);
    expect(limiter.interval).toBe(22);
    const announced = new RateLimiter({ rate: { limit: 100, windowMs: 1000 }, concurrency: 1 });
    announced.observe(200, { 'x-ratelimit-limit': '100', 'x-ratelimit-remaining': '50' });
    announced.backOff(1);
    expect(announced.interval).toBe(11);
    await limiter.stop();
    await announced.stop();
  });
});

