import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { createRateLimiter, resolveRate } from '../../src/sandbox/ratelimit.js';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON answers, checked by the assertions
type Json = any;

const KEY = 'sk-rate';
const START = 1_700_000_000_000;
const START_S = START / 1000;

let sandboxes: Sandbox[] = [];
afterEach(async () => {
  await Promise.all(sandboxes.map((s) => s.close()));
  sandboxes = [];
});

async function start(opts: Partial<SandboxOptions>): Promise<{ sb: Sandbox; clock: FakeClock }> {
  const clock = new FakeClock(START);
  const sb = await startSandbox({ apiKey: KEY, clock, ...opts });
  sandboxes.push(sb);
  return { sb, clock };
}

async function get(sb: Sandbox, key = KEY) {
  const res = await fetch(`${sb.url}/balance`, { headers: { Authorization: `Bearer ${key}` } });
  const body = (await res.json()) as Json;
  const h = (name: string) => res.headers.get(name);
  return {
    status: res.status,
    code: body.success ? undefined : body.error.code,
    limit: h('x-ratelimit-limit'),
    remaining: h('x-ratelimit-remaining'),
    reset: h('x-ratelimit-reset'),
    retryAfter: h('retry-after'),
  };
}

describe('sandbox rate limit: fixed window', () => {
  it('answers limit+1 with 429 + Retry-After and correct headers, and resets with the next window', async () => {
    const { sb, clock } = await start({ rateLimit: '3/min' });
    const reset1 = String(START_S + 60);
    expect(await get(sb)).toEqual({
      status: 200,
      code: undefined,
      limit: '3',
      remaining: '2',
      reset: reset1,
      retryAfter: null,
    });
    await clock.advance(10_000);
    expect((await get(sb)).remaining).toBe('1');
    expect((await get(sb)).remaining).toBe('0');
    expect(await get(sb)).toEqual({
      status: 429,
      code: 'RATE_LIMIT_EXCEEDED',
      limit: '3',
      remaining: '0',
      reset: reset1,
      retryAfter: '50',
    });
    await clock.advance(49_500);
    expect((await get(sb)).retryAfter).toBe('1'); // 0.5 s left: rounded up
    await clock.advance(500); // the next window starts at START + 60 s
    expect(await get(sb)).toEqual({
      status: 200,
      code: undefined,
      limit: '3',
      remaining: '2',
      reset: String(START_S + 120),
      retryAfter: null,
    });
    expect(sb.stats()).toMatchObject({ rateLimited: 2, byStatus: { 200: 4, 429: 2 } });
  });

  it('allows a full burst on each side of a window boundary', async () => {
    const { sb, clock } = await start({ rateLimit: '2/min' });
    await clock.advance(59_999);
    expect([(await get(sb)).status, (await get(sb)).status, (await get(sb)).status]).toEqual([200, 200, 429]);
    await clock.advance(1);
    expect([(await get(sb)).status, (await get(sb)).status, (await get(sb)).status]).toEqual([200, 200, 429]);
  });

  it('does not count 401s, 429s or admin requests', async () => {
    const { sb } = await start({ rateLimit: '2/min' });
    for (let i = 0; i < 5; i++) {
      const r = await get(sb, 'wrong');
      expect(r.status).toBe(401);
      expect(r.limit).toBeNull(); // no rate-limit headers before auth
    }
    const origin = new URL(sb.url).origin;
    for (let i = 0; i < 5; i++) {
      await fetch(`${origin}/__sandbox/stats`, { headers: { Authorization: `Bearer ${KEY}` } }).then((r) =>
        r.text(),
      );
    }
    expect((await get(sb)).remaining).toBe('1');
    expect((await get(sb)).remaining).toBe('0');
    expect((await get(sb)).status).toBe(429);
    expect((await get(sb)).status).toBe(429);
  });

  it('rateLimitHeaders=false: no X-RateLimit-* headers, but still 429 + Retry-After', async () => {
    const { sb } = await start({ rateLimit: { limit: 1, windowMs: 1000 }, rateLimitHeaders: false });
    expect(await get(sb)).toEqual({
      status: 200,
      code: undefined,
      limit: null,
      remaining: null,
      reset: null,
      retryAfter: null,
    });
    expect(await get(sb)).toEqual({
      status: 429,
      code: 'RATE_LIMIT_EXCEEDED',
      limit: null,
      remaining: null,
      reset: null,
      retryAfter: '1',
    });
  });

  it('rateLimit=null: unlimited and no headers; configure() can set a limit at run time', async () => {
    const { sb } = await start({ rateLimit: null });
    for (let i = 0; i < 30; i++) expect((await get(sb)).status).toBe(200);
    expect((await get(sb)).limit).toBeNull();
    sb.configure({ rateLimit: '1/s' });
    expect((await get(sb)).limit).toBe('1');
    expect((await get(sb)).status).toBe(429);
    expect(() => sb.configure({ rateLimit: 'fast' })).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect((await get(sb)).status).toBe(429); // a bad patch changed nothing
  });

  it('defaults to 60/min, fixed', async () => {
    const { sb } = await start({});
    const first = await get(sb);
    expect([first.limit, first.remaining, first.reset]).toEqual(['60', '59', String(START_S + 60)]);
    for (let i = 0; i < 59; i++) await get(sb);
    expect((await get(sb)).status).toBe(429);
  });
});

describe('sandbox rate limit: sliding window', () => {
  it('allows at most limit requests in any trailing window; Reset/Retry-After follow the oldest counted request', async () => {
    const { sb, clock } = await start({ rateLimit: '3/min', rateLimitWindow: 'sliding' });
    expect(await get(sb)).toMatchObject({ status: 200, remaining: '2', reset: String(START_S + 60) }); // t=0
    await clock.advance(20_000);
    expect((await get(sb)).remaining).toBe('1'); // t=20
    await clock.advance(20_000);
    expect(await get(sb)).toMatchObject({ status: 200, remaining: '0', reset: String(START_S + 60) }); // t=40
    await clock.advance(10_000); // t=50
    expect(await get(sb)).toMatchObject({
      status: 429,
      remaining: '0',
      reset: String(START_S + 60),
      retryAfter: '10',
    });
    await clock.advance(10_000); // t=60: the t=0 request has left; only one slot is free
    expect(await get(sb)).toMatchObject({ status: 200, remaining: '0', reset: String(START_S + 80) });
    expect(await get(sb)).toMatchObject({ status: 429, retryAfter: '20' });
  });

  it('does not count 429s in the trailing window', async () => {
    const { sb, clock } = await start({ rateLimit: '1/min', rateLimitWindow: 'sliding' });
    expect((await get(sb)).status).toBe(200); // t=0
    await clock.advance(30_000);
    expect((await get(sb)).status).toBe(429); // t=30: refused, not counted
    await clock.advance(30_000);
    expect((await get(sb)).status).toBe(200); // t=60: the t=0 request has left
  });

  it('refuses the burst across a boundary that a fixed window would allow', async () => {
    const { sb, clock } = await start({ rateLimit: '2/min', rateLimitWindow: 'sliding' });
    await clock.advance(59_999);
    expect([(await get(sb)).status, (await get(sb)).status]).toEqual([200, 200]);
    await clock.advance(1);
    expect((await get(sb)).status).toBe(429); // t=60 s
    await clock.advance(59_998); // t=119.998 s: both still inside the trailing minute
    expect((await get(sb)).status).toBe(429);
    await clock.advance(1); // t=119.999 s: both have left
    expect((await get(sb)).status).toBe(200);
  });
});

describe('rate limiter units', () => {
  it('fixed windows are aligned to the origin', () => {
    const limiter = createRateLimiter({ limit: 1, windowMs: 1000 }, 'fixed', 500);
    expect(limiter.take(500)).toMatchObject({ allowed: true, resetAtMs: 1500 });
    expect(limiter.take(1499)).toMatchObject({ allowed: false, retryAfterSec: 1 });
    expect(limiter.take(1500)).toMatchObject({ allowed: true, resetAtMs: 2500 });
  });

  it('resolveRate parses strings, checks objects and keeps null', () => {
    expect(resolveRate(undefined)).toEqual({ limit: 60, windowMs: 60_000 });
    expect(resolveRate('20/s')).toEqual({ limit: 20, windowMs: 1000 });
    expect(resolveRate(null)).toBeNull();
    expect(() => resolveRate({ limit: 0, windowMs: 1000 })).toThrow(
      expect.objectContaining({ code: 'USAGE' }),
    );
  });
});
