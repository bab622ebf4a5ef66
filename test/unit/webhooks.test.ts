/**
 * The webhook receiver: events are hints that make a status check due now; the API's answer,
 * never the payload, decides. Time is a FakeClock: nothing here waits for a poll interval.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { JobEvents } from '../../src/job/events.js';
import { Poller } from '../../src/job/poller.js';
import { WebhookReceiver, parseListen } from '../../src/job/webhooks.js';
import type { AlsamiflexiClient } from '../../src/api/client.js';
import type { Transaction } from '../../src/api/types.js';
import type { RowState } from '../../src/job/rows.js';

function row(n: number): RowState {
  return {
    row: n,
    line: n + 1,
    valid: true,
    status: 'processing',
    att: 1,
    ref: `r${n}`,
    txn: `TXN${n}`,
    submittedAt: 0,
    amount: 100,
  };
}

async function until(cond: () => boolean) {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setImmediate(r));
}

/** The API's word per transaction, changed by the test; every GET is counted. */
function api() {
  const state = new Map<string, string>();
  const gets: string[] = [];
  let gate: Promise<void> | null = null;
  const client = {
    async getTransaction(id: string): Promise<Transaction> {
      gets.push(id);
      const s = state.get(id) ?? 'processing'; // the server's state when the GET arrives
      if (gate) await gate;
      return {
        transaction_id: id,
        status: s,
        completed_at: s === 'processing' ? null : '2026-01-01 00:00:01',
      };
    },
  } as unknown as AlsamiflexiClient;
  return { client, state, gets, hold: (p: Promise<void> | null) => (gate = p) };
}

function setup(rows: RowState[]) {
  const clock = new FakeClock(0);
  const a = api();
  const events = new JobEvents();
  const finals: string[] = [];
  const poller = new Poller({
    client: a.client,
    clock,
    pollEveryMs: 60_000,
    pollTimeoutMs: 3_600_000,
    onFinal: async (r, _t, st) => {
      r.status = st.outcome;
      finals.push(`${r.row}:${st.outcome}`);
      events.emit('row:final', { row: r });
    },
    onFatal: () => undefined,
  });
  // the first poll would only come two minutes later: every check below is a webhook's doing
  for (const r of rows) poller.add(r, 120_000);
  const receiver = new WebhookReceiver();
  const detach = receiver.attach({ rows: [undefined, ...rows], events, checkNow: (t) => poller.checkNow(t) });
  const running = poller.run();
  return { clock, ...a, finals, poller, receiver, detach, running };
}

describe('webhook hints', () => {
  it('an event makes the check due now; a forged "completed" while the API says processing completes nothing', async () => {
    const rows = [row(1), row(2)];
    const t = setup(rows);
    expect(t.receiver.hint('TXN1')).toBe('due'); // the payload says completed; the API does not
    await until(() => t.gets.length === 1 && t.clock.pending > 0);
    expect(t.gets).toEqual(['TXN1']);
    expect(rows[0]!.status).toBe('processing');
    expect(t.finals).toEqual([]);
    // the API completes it; the real event comes
    t.state.set('TXN1', 'completed');
    expect(t.receiver.hint('TXN1')).toBe('due');
    await until(() => t.finals.length === 1);
    expect(t.finals).toEqual(['1:completed']);
    expect(t.clock.now()).toBe(0); // no poll interval was waited for
    t.poller.stop();
    await t.running;
  });

  it('duplicates cost one GET while the check is queued, and none once the row is final', async () => {
    const rows = [row(1)];
    const t = setup(rows);
    t.state.set('TXN1', 'failed');
    expect([t.receiver.hint('TXN1'), t.receiver.hint('TXN1'), t.receiver.hint('TXN1')]).toEqual([
      'due',
      'due',
      'due',
    ]);
    await until(() => t.finals.length === 1);
    expect(t.gets).toEqual(['TXN1']);
    expect(t.finals).toEqual(['1:failed']); // the API's word, whatever the events said
    for (let i = 0; i < 5; i++) expect(t.receiver.hint('TXN1')).toBe('final');
    await until(() => false); // give a stray check every chance to run
    expect(t.gets).toEqual(['TXN1']);
    expect(t.receiver.stats).toEqual({ due: 3, final: 5, refused: 0 });
    t.poller.stop();
    await t.running;
  });

  it('an event that overtakes a check in flight gets one more check if that one found it still processing', async () => {
    const rows = [row(1)];
    const t = setup(rows);
    let release!: () => void;
    t.hold(new Promise<void>((r) => (release = r)));
    t.receiver.hint('TXN1'); // e.g. a forged early event: the GET leaves and waits
    await until(() => t.gets.length === 1);
    t.state.set('TXN1', 'completed'); // the transaction completes; its event arrives during the GET
    t.hold(null);
    expect(t.receiver.hint('TXN1')).toBe('due');
    release();
    await until(() => t.finals.length === 1);
    expect(t.gets).toEqual(['TXN1', 'TXN1']);
    expect(t.clock.now()).toBe(0);
    t.poller.stop();
    await t.running;
  });

  it('unknown transactions and transactions of an earlier attempt make no request', async () => {
    const r = row(1);
    const t = setup([r]);
    expect(t.receiver.hint('TXN999')).toBe('unknown');
    t.detach();
    expect(t.receiver.hint('TXN1')).toBe('unknown'); // the job is over: not ours any more
    const events = new JobEvents();
    const old = { ...row(2), txn: 'TXN2-old' };
    t.receiver.attach({ rows: [undefined, undefined, old], events, checkNow: () => true });
    old.txn = 'TXN2-new'; // retried: a new attempt, a new transaction
    events.emit('row:accepted', { row: old });
    expect(t.receiver.hint('TXN2-old')).toBe('final');
    expect(t.receiver.hint('TXN2-new')).toBe('due');
    await until(() => false);
    expect(t.gets).toEqual([]);
    t.poller.stop();
    await t.running;
  });
});

describe('webhook receiver over HTTP', () => {
  let receiver: WebhookReceiver | undefined;
  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
  });

  it('answers 4xx to wrong paths, methods, bad bodies and unknown transactions; 202 to an event of a processing row', async () => {
    receiver = new WebhookReceiver({ path: '/hooks/rb' });
    const events = new JobEvents();
    const hinted: string[] = [];
    receiver.attach({ rows: [undefined, row(1)], events, checkNow: (txn) => (hinted.push(txn), true) });
    const url = await receiver.listen('127.0.0.1', 0);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/hooks\/rb$/);
    const post = (body: string, path = '/hooks/rb', method = 'POST') =>
      fetch(new URL(path, url), {
        method,
        body: method === 'GET' ? undefined : body,
        headers: { 'Content-Type': 'application/json' },
      });
    const event = (id: unknown) =>
      JSON.stringify({
        event: 'transaction.completed',
        data: { transaction_id: id, status: 'completed' },
        timestamp: '2025-12-27T10:30:15Z',
      });

    expect((await post(event('TXN1'), '/webhooks/alsamiflexi')).status).toBe(404);
    expect((await post('', '/hooks/rb', 'GET')).status).toBe(405);
    expect((await post('{not json')).status).toBe(400);
    expect((await post(JSON.stringify({ event: 'transaction.completed', data: {} }))).status).toBe(400);
    expect((await post(JSON.stringify([1, 2]))).status).toBe(400);
    expect((await post('x'.repeat(70_000))).status).toBe(413);
    const unknown = await post(event('TXN404'));
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('UNKNOWN_TRANSACTION');
    expect(hinted).toEqual([]);
    const ok = await post('\uFEFF' + event('TXN1'));
    expect(ok.status).toBe(202);
    expect(hinted).toEqual(['TXN1']);
  });

  it('an address in use is one usage error', async () => {
    receiver = new WebhookReceiver();
    const url = new URL(await receiver.listen('127.0.0.1', 0));
    const second = new WebhookReceiver();
    await expect(second.listen('127.0.0.1', Number(url.port))).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringMatching(/EADDRINUSE/),
    });
  });

  it('parses HOST:PORT, [IPv6]:PORT and refuses anything else', () => {
    expect(parseListen('0.0.0.0:8081')).toEqual({ host: '0.0.0.0', port: 8081 });
    expect(parseListen('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    for (const bad of ['8081', 'host:', 'host:99999', ':80'])
      expect(() => parseListen(bad)).toThrow(/HOST:PORT/);
  });
});
