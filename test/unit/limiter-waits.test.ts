/**
 * Waits end when asked to and stay sane (SPEC §5 additions): the limiter's queue and gate
 * give up at once on an aborted signal, but never abandon a request already being sent; a
 * reset header alone never closes the gate beyond --max-wait; the client's 429 loop keeps to
 * --max-wait. Time is the FakeClock's; nothing here waits for real time to pass.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MockAgent } from 'undici';
import { FakeClock } from '../../src/clock.js';
import { RateLimiter } from '../../src/limit/limiter.js';
import { AlsamiflexiClient } from '../../src/api/client.js';
import { ApiError } from '../../src/errors.js';

const flush = () => new Promise((r) => setImmediate(r));

describe('RateLimiter waits', () => {
  let limiter: RateLimiter;
  let clock: FakeClock;
  beforeEach(() => {
    clock = new FakeClock();
    limiter = new RateLimiter({
      rate: { limit: 6000, windowMs: 60_000 },
      concurrency: 1,
      clock,
      maxWaitMs: 300_000,
    });
  });
  afterEach(async () => {
    await limiter.stop();
  });

  it('a request waiting at a gate closed for an hour is released by its signal at once, and never sent', async () => {
    limiter.backOff(3_600_000);
    expect(limiter.waitingUntil()).toBe(clock.now() + 3_600_000);
    let sent = false;
    const ac = new AbortController();
    const p = limiter.schedule('submit', async () => (sent = true), ac.signal);
    const settled = p.catch((e: unknown) => e);
    await flush();
    ac.abort(new Error('stop'));
    expect(await settled).toEqual(new Error('stop'));
    await clock.advance(3_600_000);
    await flush();
    expect(sent).toBe(false);
  });

  it('a request waiting in the queue behind a running one is released by its signal; the running one is never abandoned', async () => {
    let finish!: (v: string) => void;
    const ac = new AbortController();
    const running = limiter.schedule('submit', () => new Promise<string>((r) => (finish = r)), ac.signal);
    while (!finish) await flush();
    let queuedRan = false;
    const queued = limiter
      .schedule('submit', async () => (queuedRan = true), ac.signal)
      .catch((e: unknown) => e);
    ac.abort(new Error('stop'));
    expect(await queued).toEqual(new Error('stop'));
    finish('answer');
    await expect(running).resolves.toBe('answer');
    await flush();
    expect(queuedRan).toBe(false);
  });

  it('Remaining: 0 with a reset far away (epoch ms of a skewed clock) closes the gate for --max-wait at most', () => {
    limiter.observe(200, {
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': String(clock.now() + 86_400_000),
    });
    expect(limiter.waitingUntil()).toBe(clock.now() + 300_000);
  });
});

describe('client 429 loop and --max-wait', () => {
  const ORIGIN = 'http://api.test';
  let agent: MockAgent;
  let clock: FakeClock;
  beforeEach(() => {
    agent = new MockAgent();
    agent.disableNetConnect();
    clock = new FakeClock();
  });
  afterEach(async () => {
    await agent.close();
  });
  const client = (signal?: AbortSignal) =>
    new AlsamiflexiClient({
      apiKey: 'k-waits-123',
      baseUrl: `${ORIGIN}/api/v1`,
      dispatcher: agent,
      clock,
      maxWaitMs: 10_000,
      signal,
    });
  const body = { operator_id: 1, mobile_number: '01712345678', amount: 10, reference: 'R' };

  async function drive<T>(p: Promise<T>): Promise<T | unknown> {
    let done = false;
    const wrapped = p.then(
      (v) => ((done = true), v),
      (e: unknown) => ((done = true), e),
    );
    while (!done) {
      await flush();
      await clock.advance(1_000);
    }
    return wrapped;
  }

  it('a wait longer than --max-wait stops at once with RATE_LIMITED naming when to come back; nothing is resent', async () => {
    let posts = 0;
    agent
      .get(ORIGIN)
      .intercept({ path: '/api/v1/recharge', method: 'POST' })
      .reply(
        () => (
          posts++,
          { statusCode: 429, data: {}, responseOptions: { headers: { 'retry-after': '3600' } } }
        ),
      )
      .persist();
    // no wait is taken at all: the clock does not move
    const e = (await client()
      .submit(body)
      .catch((x: unknown) => x)) as ApiError;
    expect(e.code).toBe('RATE_LIMITED');
    expect(e.retryAt).toBe(clock.now() + 3_600_000);
    expect(posts).toBe(1);
  });

  it('429 forever: a POST gives up after --max-wait in total (RATE_LIMITED), a balance check (start-up) with API_RATE_LIMITED', async () => {
    const pool = agent.get(ORIGIN);
    pool
      .intercept({ path: '/api/v1/recharge', method: 'POST' })
      .reply(429, {}, { headers: { 'retry-after': '2' } })
      .persist();
    pool
      .intercept({ path: '/api/v1/balance', method: 'GET' })
      .reply(429, {}, { headers: { 'retry-after': '2' } })
      .persist();
    expect(((await drive(client().submit(body))) as ApiError).code).toBe('RATE_LIMITED');
    expect(((await drive(client().getBalance())) as ApiError).code).toBe('API_RATE_LIMITED');
  });

  it("the client's stop signal ends a 429 wait at once (INTERRUPTED, not sent)", async () => {
    agent
      .get(ORIGIN)
      .intercept({ path: '/api/v1/balance', method: 'GET' })
      .reply(429, {}, { headers: { 'retry-after': '5' } })
      .persist();
    const ac = new AbortController();
    const p = client(ac.signal)
      .getBalance()
      .catch((e: unknown) => e);
    while (clock.pending === 0) await flush();
    ac.abort();
    const e = (await p) as ApiError;
    expect(e.code).toBe('INTERRUPTED');
    expect(e.sent).toBe(false);
  });
});
