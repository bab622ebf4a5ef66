/** Poll timing with a fake clock: no sleeping, time is moved by the test. */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { Poller } from '../../src/job/poller.js';
import type { AlsamiflexiClient } from '../../src/api/client.js';
import type { Transaction } from '../../src/api/types.js';
import type { RowState } from '../../src/job/rows.js';
import { ApiError } from '../../src/errors.js';

function row(n: number, submittedAt: number): RowState {
  return {
    row: n,
    line: n + 1,
    valid: true,
    status: 'processing',
    att: 1,
    ref: `r${n}`,
    txn: `TXN${n}`,
    submittedAt,
  };
}

/** A client whose transactions turn final after `finalAfterPolls` polls. */
function fakeClient(clock: FakeClock, statuses: (id: string, poll: number) => string | Error) {
  const polls: { id: string; at: number }[] = [];
  const count = new Map<string, number>();
  const client = {
    async getTransaction(id: string): Promise<Transaction> {
      polls.push({ id, at: clock.now() });
      const n = (count.get(id) ?? 0) + 1;
      count.set(id, n);
      const s = statuses(id, n);
      if (s instanceof Error) throw s;
      return {
        transaction_id: id,
        status: s,
        completed_at: s === 'processing' ? null : '2026-01-01 00:00:01',
      };
    },
  } as unknown as AlsamiflexiClient;
  return { client, polls };
}

async function until(cond: () => boolean) {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setImmediate(r));
}

describe('Poller', () => {
  it('polls at the due time, then every --poll-every backing off 1.5× up to 4×, until final', async () => {
    const clock = new FakeClock(0);
    const { client, polls } = fakeClient(clock, (_id, n) => (n < 6 ? 'processing' : 'completed'));
    const finals: string[] = [];
    const p = new Poller({
      client,
      clock,
      pollEveryMs: 1000,
      pollTimeoutMs: 60_000,
      onFinal: async (r, _t, st) => void finals.push(`${r.row}:${st.outcome}`),
      onFatal: () => undefined,
    });
    p.add(row(1, 0), 500);
    p.close();
    const done = p.run();
    for (let t = 0; t < 20_000 && finals.length === 0; t += 100) {
      await until(() => clock.pending > 0 || finals.length > 0);
      await clock.advance(100);
    }
    await done;
    expect(finals).toEqual(['1:completed']);
    const gaps = polls.slice(1).map((x, i) => x.at - polls[i]!.at);
    expect(polls[0]!.at).toBe(500);
    expect(gaps).toEqual([1000, 1500, 2250, 3375, 4000]); // 1000·1.5^k, capped at 4×
  });

  it('gives up at --poll-timeout: the row stays processing and counts as timed out', async () => {
    const clock = new FakeClock(0);
    const { client, polls } = fakeClient(clock, () => 'processing');
    const p = new Poller({
      client,
      clock,
      pollEveryMs: 1000,
      pollTimeoutMs: 5000,
      onFinal: async () => undefined,
      onFatal: () => undefined,
    });
    const r = row(1, 0);
    p.add(r, 0);
    p.close();
    const done = p.run();
    for (let t = 0; t < 10_000; t += 100) {
      await until(() => clock.pending > 0);
      await clock.advance(100);
    }
    await done;
    expect(p.timedOut).toBe(1);
    expect(r.status).toBe('processing');
    expect(polls.at(-1)!.at).toBeLessThanOrEqual(5000);
  });

  it('a failed status is final; an unknown status word keeps polling', async () => {
    const clock = new FakeClock(0);
    const { client } = fakeClient(clock, (id, n) =>
      id === 'TXN1' ? 'failed' : n < 2 ? 'queued' : 'completed',
    );
    const finals: string[] = [];
    const p = new Poller({
      client,
      clock,
      pollEveryMs: 100,
      pollTimeoutMs: 60_000,
      onFinal: async (r, _t, st) => void finals.push(`${r.row}:${st.outcome}`),
      onFatal: () => undefined,
    });
    p.add(row(1, 0), 0);
    p.add(row(2, 0), 0);
    p.close();
    const done = p.run();
    for (let t = 0; t < 2000 && finals.length < 2; t += 50) {
      await until(() => clock.pending > 0 || finals.length === 2);
      await clock.advance(50);
    }
    await done;
    expect(finals.sort()).toEqual(['1:failed', '2:completed']);
  });

  it('401 while polling is fatal for the run', async () => {
    const clock = new FakeClock(0);
    const { client } = fakeClient(
      clock,
      () => new ApiError('API_UNAUTHORIZED', 'API key rejected', { status: 401 }),
    );
    const fatal: string[] = [];
    const p = new Poller({
      client,
      clock,
      pollEveryMs: 100,
      pollTimeoutMs: 60_000,
      onFinal: async () => undefined,
      onFatal: (e) => (fatal.push(e.code), p.stop()),
    });
    p.add(row(1, 0), 0);
    p.close();
    await p.run();
    expect(fatal).toEqual(['API_UNAUTHORIZED']);
  });
});

describe('Poller sharing the rate with submissions', () => {
  it('while rows wait to be sent, polls are spaced by the gap even when many are due at once', async () => {
    const clock = new FakeClock(0);
    const { client, polls } = fakeClient(clock, () => 'completed');
    let submitting = true;
    const p = new Poller({
      client,
      clock,
      pollEveryMs: 1000,
      pollTimeoutMs: 60_000,
      pollGapMs: () => (submitting ? 200 : 0),
      onFinal: async () => undefined,
      onFatal: () => undefined,
    });
    for (let i = 1; i <= 10; i++) p.add(row(i, 0), 0);
    p.close();
    const done = p.run();
    for (let t = 0; t < 1000; t += 50) {
      await until(() => clock.pending > 0);
      await clock.advance(50);
    }
    // one poll every 200 ms, due or not: the slots between stay free for POSTs
    expect(polls.map((x) => x.at)).toEqual([0, 200, 400, 600, 800, 1000]);
    submitting = false; // all sent: the rest go as fast as the limiter allows
    await clock.advance(200);
    await done;
    expect(polls).toHaveLength(10);
  });
});
