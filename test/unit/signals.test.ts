/**
 * Signals combined per request (util/signals.ts): they follow their sources, and once the
 * request is done nothing of them stays with a long-lived source — AbortSignal.any's signals
 * did (nodejs/node#55351), one per request a run sent.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getEventListeners } from 'node:events';
import { MockAgent } from 'undici';
import { linkSignals } from '../../src/util/signals.js';
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
