import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.js';

/**
 * `arrivalJitterMs` (SPEC §6: "each request's arrival at the server is delayed by a random
 * 0–40 ms"): requests reach the API — its log and its rate limit — a seeded random time late, so
 * two requests can arrive in the other order than they were sent. Time is a FakeClock: the
 * tests assert which request arrived when and what the rate limit decided, never a duration.
 */
const KEY = 'sk-jitter';
const START = 1_700_000_000_000;

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

/** Resolves once the sandbox holds `n` sleeps: the requests sent so far are "in the network". */
async function parked(clock: FakeClock, n: number): Promise<void> {
  for (let i = 0; i < 1000 && clock.pending < n; i++) await new Promise((r) => setTimeout(r, 2));
  expect(clock.pending).toBe(n);
}

/**
 * Sends GET /transaction/<tag> for each tag, one after the other (each is parked in the
 * jitter before the next is sent), then lets 40 ms of fake time pass; returns the status per tag.
 */
async function sendAll(sb: Sandbox, clock: FakeClock, tags: string[]): Promise<Record<string, number>> {
  const answers: Promise<[string, number]>[] = [];
  for (const [i, tag] of tags.entries()) {
    answers.push(
      fetch(`${sb.url}/transaction/${tag}`, { headers: { Authorization: `Bearer ${KEY}` } }).then(
        async (r) => {
          await r.arrayBuffer();
          return [tag, r.status];
        },
      ),
    );
    await parked(clock, i + 1);
  }
  expect(sb.requestLog()).toEqual([]); // nothing has arrived yet: nothing counted
  await clock.advance(40);
  return Object.fromEntries(await Promise.all(answers));
}

const TAGS = ['t0', 't1', 't2', 't3', 't4', 't5', 't6', 't7'];

describe('sandbox arrivalJitterMs', () => {
  it('delays each request a seeded random 0..jitter before the log and the rate limit see it, reordering some', async () => {
    const { sb, clock } = await start({
      rateLimit: '4/min',
      rateLimitWindow: 'sliding',
      arrivalJitterMs: 40,
      seed: 3,
    });
    const status = await sendAll(sb, clock, TAGS);
    const log = sb.requestLog();
    expect(log).toHaveLength(TAGS.length);
    const arrived = log.map((e) => e.path.split('/').at(-1));
    // the log is in arrival order, every request arrived within the 40 ms, not all at once
    expect(log.map((e) => e.at)).toEqual([...log.map((e) => e.at)].sort((a, b) => a - b));
    for (const e of log) expect(e.at - START).toBeGreaterThanOrEqual(0);
    for (const e of log) expect(e.at - START).toBeLessThanOrEqual(40);
    expect(new Set(log.map((e) => e.at)).size).toBeGreaterThan(1);
    // the network reordered them: the rate limit took the first 4 to ARRIVE, not the first 4 sent
    expect(arrived).not.toEqual(TAGS);
    expect(arrived.slice(0, 4).map((t) => status[t!])).toEqual([404, 404, 404, 404]);
    expect(arrived.slice(4).map((t) => status[t!])).toEqual([429, 429, 429, 429]);
    expect(sb.stats()).toMatchObject({ requests: 8, rateLimited: 4 });
  });

  it('the same seed gives the same arrival order; jitter draws do not shift the fault draws', async () => {
    const a = await start({ arrivalJitterMs: 40, seed: 3, errorRate: 0.5 });
    const b = await start({ arrivalJitterMs: 40, seed: 3, errorRate: 0.5 });
    await sendAll(a.sb, a.clock, TAGS);
    await sendAll(b.sb, b.clock, TAGS);
    const order = (sb: Sandbox) => sb.requestLog().map((e) => e.path);
    expect(order(a.sb)).toEqual(order(b.sb));
    // without jitter the same seed draws the same 500s, request by request in arrival order
    const c = await start({ seed: 3, errorRate: 0.5 });
    for (const tag of TAGS)
      await fetch(`${c.sb.url}/transaction/${tag}`, { headers: { Authorization: `Bearer ${KEY}` } }).then(
        (r) => r.arrayBuffer(),
      );
    const errors = (sb: Sandbox) => sb.requestLog().map((e) => e.status === 500);
    expect(errors(a.sb)).toEqual(errors(c.sb));
  });

  it('rejects a negative jitter at start', async () => {
    await expect(startSandbox({ apiKey: KEY, arrivalJitterMs: -1 })).rejects.toMatchObject({ code: 'USAGE' });
  });
});
