import { describe, expect, it } from 'vitest';
import { settle, useLimiterFakeTimers } from '../support/fake-timers.js';
import { prng } from '../support/prng.js';
import { JITTER_CAP, RateLimiter } from '../../src/limit/limiter.js';

/**
 * Jitter learnt from round trips, before any 429 (SPEC §6 "Real networks jitter", issue #13), on
 * fake timers like limiter.test.ts: a request's "round trip" is fake time spent inside the
 * scheduled function, so every figure below is exact whatever the machine's load.
 */
useLimiterFakeTimers();

/** 20 per second: spacing 50 ms, 51 with the 2 % base margin; 20 sends span 1020 ms. */
const rate = { limit: 20, windowMs: 1000 };

/** the request kinds used here (a subset of the client's) */
type RequestKind = 'submit' | 'poll';

interface Sent {
  kind: RequestKind;
  start: number;
  /** when the server would count it: start + the request's delay on the way there */
  arrival: number;
}

/**
 * Runs `n` requests through the limiter; request i spends `delay(i)` ms on its way to the server
 * and 1 ms more until its answer. Returns them in the order they started.
 */
async function run(
  limiter: RateLimiter,
  n: number,
  delay: (i: number) => number,
  kind: (i: number) => RequestKind = () => 'submit',
): Promise<Sent[]> {
  const sent: Sent[] = [];
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
  await settle(
    Promise.all(
      Array.from({ length: n }, (_, i) =>
        limiter.schedule(kind(i), async () => {
          const s: Sent = { kind: kind(i), start: Date.now(), arrival: Number.NaN };
          sent.push(s);
          await wait(delay(i));
          s.arrival = Date.now();
          await wait(1);
        }),
      ),
    ),
    120_000,
  );
  return sent;
}

/** The most arrivals a strict sliding window of `windowMs` would count at once. */
function mostInWindow(arrivals: number[], windowMs: number): number {
  const a = [...arrivals].sort((x, y) => x - y);
  let most = 0;
  for (let hi = 0, lo = 0; hi < a.length; hi++) {
    while (a[lo]! + windowMs <= a[hi]!) lo++;
    most = Math.max(most, hi - lo + 1);
  }
  return most;
}

/** Accepted requests per window as a share of the limit: (n − 1) / span of the starts. */
function share(sent: Sent[]): number {
  return ((sent.length - 1) / (sent.at(-1)!.start - sent[0]!.start)) * (rate.windowMs / rate.limit);
}

describe('RateLimiter pacing under arrival jitter', () => {
  it('with steady round trips keeps the base pace: 20 sends per 1020 ms, nothing held', async () => {
    const limiter = new RateLimiter({ rate, concurrency: 4 });
    const sent = await run(limiter, 61, () => 4);
    for (let i = 0; i + rate.limit < sent.length; i++)
      expect(sent[i + rate.limit]!.start - sent[i]!.start).toBe(1020);
    expect(limiter.stats()).toMatchObject({ margin: 0.02, heldForLateness: 0, rateLimited: 0 });
    expect(share(sent)).toBeGreaterThanOrEqual(0.98);
    await limiter.stop();
  });

  it('holds the send `limit` places after a request that came back late by its lateness, before any 429', async () => {
    const limiter = new RateLimiter({ rate, concurrency: 4 });
    // request 25 takes 37 ms more than the others on its way: it may have reached the server late
    const sent = await run(limiter, 61, (i) => (i === 25 ? 41 : 4));
    const late = sent.findIndex((s) => s.arrival - s.start === 41);
    // 1000 ms + its 37 ms excess + 2 ms for whole-ms clocks, instead of the base 1020
    expect(sent[late + rate.limit]!.start - sent[late]!.start).toBe(1039);
    expect(
      mostInWindow(
        sent.map((s) => s.arrival),
        rate.windowMs,
      ),
    ).toBeLessThanOrEqual(rate.limit);
    // learnt from the round trip, not from a 429: the margin did not move
    expect(limiter.stats()).toMatchObject({ margin: 0.02, heldForLateness: 1, rateLimited: 0 });
    await limiter.stop();
  });

  it('with 0–40 ms of random arrival delay, a strict sliding window never sees limit + 1 and ≥ 95 % of the rate is used', async () => {
    const rng = prng(13);
    const delays = Array.from({ length: 400 }, () => 2 + rng.next() * 40);
    const limiter = new RateLimiter({ rate, concurrency: 4 });
    const sent = await run(
      limiter,
      delays.length,
      (i) => delays[i]!,
      (i) => (i % 2 === 0 ? 'submit' : 'poll'),
    );
    expect(
      mostInWindow(
        sent.map((s) => s.arrival),
        rate.windowMs,
      ),
    ).toBeLessThanOrEqual(rate.limit);
    expect(share(sent)).toBeGreaterThanOrEqual(0.95);
    expect(limiter.stats().margin).toBe(0.02);
    expect(limiter.stats().heldForLateness).toBeGreaterThan(0);
    await limiter.stop();
  });

  it('measures each kind against its own fastest: a kind the server always answers later is not late', async () => {
    const limiter = new RateLimiter({ rate, concurrency: 4 });
    // polls take 30 ms longer every time (the server's own work), submits 4 ms
    const sent = await run(
      limiter,
      61,
      (i) => (i % 2 === 0 ? 4 : 34),
      (i) => (i % 2 === 0 ? 'submit' : 'poll'),
    );
    expect(limiter.stats().heldForLateness).toBe(0);
    for (let i = 0; i + rate.limit < sent.length; i++)
      expect(sent[i + rate.limit]!.start - sent[i]!.start).toBe(1020);
    await limiter.stop();
  });

  it('holds a later send by at most JITTER_CAP of the window, also for a request still unanswered', async () => {
    const limiter = new RateLimiter({ rate, concurrency: 4 });
    // request 25 is out for 5 s: still unanswered when the send 20 places later is booked
    const sent = await run(limiter, 61, (i) => (i === 25 ? 5000 : 4));
    const slow = sent.findIndex((s) => s.arrival - s.start === 5000);
    expect(JITTER_CAP).toBe(0.25);
    expect(sent[slow + rate.limit]!.start - sent[slow]!.start).toBe(1000 + JITTER_CAP * 1000);
    // one hold, then the base pace again
    const after = sent.slice(slow + rate.limit);
    for (let i = 0; i + rate.limit < after.length; i++)
      expect(after[i + rate.limit]!.start - after[i]!.start).toBeLessThanOrEqual(1020);
    expect(limiter.stats()).toMatchObject({ margin: 0.02, rateLimited: 0 });
    await limiter.stop();
  });
});
