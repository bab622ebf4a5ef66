import { describe, expect, it, vi } from 'vitest';
import { settle, useLimiterFakeTimers } from '../support/fake-timers.js';
import { RateLimiter, PLANS } from '../../src/limit/limiter.js';
import { systemClock } from '../../src/clock.js';

/** Fake timers (test/support/fake-timers.ts): every spacing exact, whatever the machine's load. */
useLimiterFakeTimers();

/** 50 requests per second = one every 20 ms, 21 with the 2 % margin. */
const rate = { limit: 50, windowMs: 1000 };

function gaps(times: number[]): number[] {
  const sorted = [...times].sort((a, b) => a - b);
  return sorted.slice(1).map((t, i) => t - sorted[i]!);
}

describe('RateLimiter', () => {
  it('never lets more than `limit` requests start within one window, and wastes no more than the margin', async () => {
    const small = { limit: 10, windowMs: 1000 };
    const limiter = new RateLimiter({ rate: small, concurrency: 4 });
    expect(limiter.interval).toBe(102); // 1000/10 plus the 2 % margin
    const starts: number[] = [];
    await settle(
      Promise.all(
        Array.from({ length: 25 }, () =>
          limiter.schedule('submit', async () => void starts.push(Date.now())),
        ),
      ),
    );
    starts.sort((a, b) => a - b);
    expect(starts).toHaveLength(25);
    // what a strict sliding window checks: the 11th start is a whole window after the 1st
    for (let i = 0; i + small.limit < starts.length; i++)
      expect(starts[i + small.limit]! - starts[i]!).toBeGreaterThanOrEqual(small.windowMs);
    // and the pace is the interval, not slower (a few ms of Bottleneck's own hops at most)
    expect(starts.at(-1)! - starts[0]!).toBeLessThanOrEqual(24 * 102 + 5);
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
    await vi.advanceTimersByTimeAsync(30);
    expect(order).toEqual(['s1']);
    jobs.push(limiter.schedule('poll', async () => void order.push('p1')));
    await vi.advanceTimersByTimeAsync(10);
    release();
    await settle(Promise.all(jobs));
    // s1 starts at once; the poll jumps the queue ahead of s2 and s3
    expect(order).toEqual(['s1', 'p1', 's2', 's3']);
    await limiter.stop();
  });

  it('after backOff, holds every request until the wait is over, then releases them spaced', async () => {
    const limiter = new RateLimiter({ rate, concurrency: 4, clock: systemClock });
    const t0 = Date.now();
    limiter.backOff(150);
    const starts: number[] = [];
    await settle(
      Promise.all(
        Array.from({ length: 4 }, () =>
          limiter.schedule('submit', async () => void starts.push(Date.now() - t0)),
        ),
      ),
    );
    expect(Math.min(...starts)).toBeGreaterThanOrEqual(150);
    for (const gap of gaps(starts)) expect(gap).toBeGreaterThanOrEqual(21);
    expect(limiter.stats().rateLimited).toBe(1);
    await limiter.stop();
  });

  it('closes the gate when the server says Remaining: 0 until its reset', async () => {
    const limiter = new RateLimiter({ rate, concurrency: 2 });
    const t0 = Date.now();
    const resetSec = Math.ceil((t0 + 1200) / 1000);
    limiter.observe(200, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(resetSec) });
    let started = 0;
    await settle(limiter.schedule('meta', async () => void (started = Date.now())));
    expect(started).toBeGreaterThanOrEqual(resetSec * 1000);
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
    await settle(
      Promise.all(Array.from({ length: 10 }, () => limiter.schedule('submit', async () => undefined))),
    );
    const far = String(Math.ceil(Date.now() / 1000) + 30);
    limiter.observe(200, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': far });
    const t0 = Date.now();
    let started = 0;
    await settle(limiter.schedule('submit', async () => void (started = Date.now())));
    // paced (one interval), not held until the reset 30 s away
    expect(started - t0).toBeLessThanOrEqual(limiter.interval);
    expect(limiter.stats().backOffMs).toBe(0);
    await limiter.stop();
  });

  it('slows its pace by 10 % per 429 when the server announces no limit to re-sync from, up to 2×', async () => {
    const limiter = new RateLimiter({ rate: { limit: 100, windowMs: 1000 }, concurrency: 1 });
    expect(limiter.interval).toBe(10.2);
    limiter.backOff(1);
    expect(limiter.interval).toBe(11.22); // 10 ms × 1.02 × 1.1
    for (let i = 0; i < 40; i++) {
      vi.advanceTimersByTime(50); // each 429 after the previous hold: a new one
      limiter.backOff(1);
    }
    expect(limiter.interval).toBe(20.4); // at most half the configured rate: 10 ms × 2 × 1.02
    await limiter.stop();
  });
});
