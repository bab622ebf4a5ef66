/** The sandbox's webhook faults: duplicates, forged early "completed" events, late redeliveries. */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { FakeClock } from '../../src/clock.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';

const KEY = 'sandbox-webhook-key';
let sb: Sandbox | undefined;
let collector: Server | undefined;
afterEach(async () => {
  await sb?.close();
  await new Promise<void>((r) => (collector ? collector.close(() => r()) : r()));
  sb = undefined;
  collector = undefined;
});

type Event = { event: string; data: { transaction_id: string; status: string; completed_at: string } };

/** An HTTP endpoint that keeps every event; `next(n)` resolves once n have arrived in all. */
async function collect() {
  const events: Event[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  collector = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      events.push(JSON.parse(body) as Event);
      res.end();
      for (const w of waiters.filter((x) => events.length >= x.n)) w.resolve();
    });
  });
  await new Promise<void>((r) => collector!.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(collector.address() as { port: number }).port}/hook`;
  const next = (n: number) =>
    new Promise<void>((resolve) => (events.length >= n ? resolve() : waiters.push({ n, resolve })));
  return { url, events, next };
}

async function recharge(s: Sandbox): Promise<string> {
  const res = await fetch(`${s.url}/recharge`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ operator_id: 1, mobile_number: '01712345678', amount: 50, reference: 'ref-1' }),
  });
  return ((await res.json()) as { data: { transaction_id: string } }).data.transaction_id;
}

describe('sandbox webhook faults', () => {
  it('a forged "completed" while the transaction is processing and going to fail; the real event twice; once more late', async () => {
    const c = await collect();
    const clock = new FakeClock();
    sb = await startSandbox({
      apiKey: KEY,
      clock,
      rateLimit: null,
      completeAfterMs: 500,
      failRate: 1,
      webhookUrl: c.url,
      webhookFaults: { forgeAfterMs: 100, duplicates: 1, lateMs: 1000 },
    });
    const id = await recharge(sb);
    await clock.advance(100);
    await c.next(1);
    expect(c.events[0]).toMatchObject({
      event: 'transaction.completed',
      data: { transaction_id: id, status: 'completed' },
    });
    expect(sb.ledger()[0]!.status).toBe('processing'); // the forged event lies
    await clock.advance(400);
    expect(sb.ledger()[0]!.status).toBe('failed');
    await c.next(3);
    expect(c.events.slice(1).map((e) => e.data.status)).toEqual(['failed', 'failed']);
    expect(c.events.length).toBe(3);
    await clock.advance(1000);
    await c.next(4);
    expect(c.events[3]).toMatchObject({
      event: 'transaction.failed',
      data: { transaction_id: id, status: 'failed' },
    });
  });

  it("a batch whose forged events all wait at once does not trip Node's listener-leak warning", async () => {
    const c = await collect();
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      // the clock never moves: every forged event of the batch is still waiting
      sb = await startSandbox({
        apiKey: KEY,
        clock: new FakeClock(),
        rateLimit: null,
        completeAfterMs: 500,
        webhookUrl: c.url,
        webhookFaults: { forgeAfterMs: 100 },
      });
      for (let i = 0; i < 12; i++) await recharge(sb);
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('refuses nonsense fault settings', async () => {
    await expect(
      startSandbox({ apiKey: KEY, webhookUrl: 'http://127.0.0.1:1/x', webhookFaults: { duplicates: -1 } }),
    ).rejects.toMatchObject({ code: 'USAGE' });
    await expect(
      startSandbox({
        apiKey: KEY,
        webhookUrl: 'http://127.0.0.1:1/x',
        webhookFaults: { lateMs: Number.NaN },
      }),
    ).rejects.toMatchObject({ code: 'USAGE' });
  });
});
