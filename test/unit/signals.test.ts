/**
 * Signals combined per request (util/signals.ts): they follow their sources, and once the
 * request is done nothing of them stays with a long-lived source — AbortSignal.any's signals
 * did (nodejs/node#55351), one per request a run sent.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { getEventListeners } from 'node:events';
import { MockAgent } from 'undici';
import { linkSignals, timedSignal } from '../../src/util/signals.js';
import { AlsamiflexiClient } from '../../src/api/client.js';
import { FakeClock } from '../../src/clock.js';

/** What a source signal holds of the signals made from it: its listeners and AbortSignal.any's entries. */
function heldBy(signal: AbortSignal): number {
  const dependants = Object.getOwnPropertySymbols(signal).find((s) => s.description === 'kDependantSignals');
  const set = dependants
    ? (signal as unknown as Record<symbol, Set<unknown> | undefined>)[dependants]
    : undefined;
  return getEventListeners(signal, 'abort').length + (set?.size ?? 0);
}

describe('linkSignals', () => {
  it('aborts with the reason of whichever source aborts first, and then holds nothing', () => {
    const a = new AbortController();
    const b = new AbortController();
    const link = linkSignals(a.signal, undefined, b.signal);
    expect(link.signal!.aborted).toBe(false);
    b.abort(new Error('stop'));
    expect(link.signal!.aborted).toBe(true);
    expect((link.signal!.reason as Error).message).toBe('stop');
    expect(heldBy(a.signal) + heldBy(b.signal)).toBe(0);
  });

  it('is aborted at once when a source already is; one source is handed back as it is', () => {
    const a = new AbortController();
    a.abort('gone');
    expect(linkSignals(new AbortController().signal, a.signal).signal!.reason).toBe('gone');
    const only = new AbortController().signal;
    expect(linkSignals(undefined, only).signal).toBe(only);
    expect(linkSignals().signal).toBeUndefined();
  });

  it('dispose lets go of the sources: a later abort no longer reaches it', () => {
    const a = new AbortController();
    const b = new AbortController();
    const link = linkSignals(a.signal, b.signal);
    expect(heldBy(a.signal)).toBe(1);
    link.dispose();
    link.dispose();
    expect(heldBy(a.signal) + heldBy(b.signal)).toBe(0);
    a.abort();
    expect(link.signal!.aborted).toBe(false);
  });
});

describe('timedSignal (a request with its own deadline)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('aborts with a TimeoutError at the deadline, says so, and lets go of its source', () => {
    const source = new AbortController();
    const t = timedSignal(source.signal, 1000);
    vi.advanceTimersByTime(999);
    expect(t.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(t.signal.aborted).toBe(true);
    expect(t.timedOut).toBe(true);
    expect((t.signal.reason as DOMException).name).toBe('TimeoutError');
    expect(heldBy(source.signal)).toBe(0);
  });

  it("aborts with the source's reason, not as a timeout, and its deadline no longer fires", () => {
    const source = new AbortController();
    const t = timedSignal(source.signal, 1000);
    source.abort(new Error('stop'));
    expect((t.signal.reason as Error).message).toBe('stop');
    vi.advanceTimersByTime(5000);
    expect(t.timedOut).toBe(false);
    const already = timedSignal(source.signal, 1000);
    expect(already.signal.aborted).toBe(true);
    expect(already.timedOut).toBe(false);
  });

  it('dispose clears the deadline and the listener: a done request is never aborted later', () => {
    const source = new AbortController();
    const t = timedSignal(source.signal, 1000);
    expect(heldBy(source.signal)).toBe(1);
    t.dispose();
    expect(heldBy(source.signal)).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(5000);
    source.abort();
    expect(t.signal.aborted).toBe(false);
    expect(t.timedOut).toBe(false);
  });

  it('works without a source', () => {
    const t = timedSignal(undefined, 10);
    vi.advanceTimersByTime(10);
    expect(t.timedOut).toBe(true);
  });
});

describe('the client and a long-lived stop signal', () => {
  const ORIGIN = 'http://api.test';
  let agent: MockAgent;
  beforeEach(() => {
    agent = new MockAgent();
    agent.disableNetConnect();
  });
  afterEach(async () => {
    await agent.close();
  });

  it('keeps nothing per request on the signals it is given once the requests are answered', async () => {
    const stop = new AbortController(); // the client's, for the whole run
    const queue = new AbortController(); // a job's stop-submitting signal, given to every call
    const client = new AlsamiflexiClient({
      apiKey: 'k',
      baseUrl: `${ORIGIN}/api/v1`,
      dispatcher: agent,
      clock: new FakeClock(),
      signal: stop.signal,
    });
    const pool = agent.get(ORIGIN);
    pool
      .intercept({ path: '/api/v1/balance', method: 'GET' })
      .reply(200, { success: true, data: { balance: 5, currency: 'BDT' } })
      .times(50);
    for (let i = 0; i < 50; i++) await client.getBalance(queue.signal);
    expect(heldBy(stop.signal)).toBe(0);
    expect(heldBy(queue.signal)).toBe(0);
    await client.close();
  });
});
