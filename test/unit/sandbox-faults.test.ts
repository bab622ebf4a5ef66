import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { mulberry32, startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON answers, checked by the assertions
type Json = any;

const KEY = 'sk-faults';

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.map((c) => c()));
  cleanups = [];
});

async function start(opts: Partial<SandboxOptions> = {}): Promise<Sandbox> {
  const sb = await startSandbox({ apiKey: KEY, rateLimit: null, ...opts });
  cleanups.push(() => sb.close());
  return sb;
}

async function call(sb: Sandbox, method: string, path: string, body?: unknown) {
  const res = await fetch(`${sb.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Json };
}

const post = (sb: Sandbox, over: Record<string, unknown> = {}) =>
  call(sb, 'POST', '/recharge', {
    operator_id: 2,
    mobile_number: '01812345678',
    amount: 200,
    reference: 'R1',
    ...over,
  });

describe('sandbox faults', () => {
  it('errorRate=1: every authed request is a 500 INTERNAL_ERROR and a POST commits nothing', async () => {
    const sb = await start({ errorRate: 1 });
    const r = await post(sb);
    expect(r).toEqual({
      status: 500,
      json: { success: false, error: { code: 'INTERNAL_ERROR', message: expect.any(String) } },
    });
    expect((await call(sb, 'GET', '/balance')).status).toBe(500);
    expect(sb.ledger()).toEqual([]);
    expect(sb.balance()).toBe(50_000);
    expect(sb.stats()).toMatchObject({ recharges: 0, byStatus: { 500: 2 } });
  });

  it('dropRate=1: the client gets a socket error, yet the recharge is committed and charged', async () => {
    const sb = await start({ dropRate: 1 });
    await expect(post(sb)).rejects.toThrow();
    expect(sb.ledger()).toEqual([
      expect.objectContaining({ reference: 'R1', amount: 200, status: 'processing' }),
    ]);
    expect(sb.balance()).toBe(49_800);
    expect(sb.stats()).toMatchObject({ recharges: 1, byStatus: { 0: 1 } });
    expect(sb.requestLog()[0]!.status).toBe(0);
    // GETs are not dropped
    expect((await call(sb, 'GET', '/balance')).status).toBe(200);
  });

  it('configure() changes faults at run time and rejects bad values without changing anything', async () => {
    const sb = await start();
    sb.configure({ errorRate: 1 });
    expect((await post(sb)).status).toBe(500);
    expect(() => sb.configure({ errorRate: 0, failRate: 2 })).toThrow(
      expect.objectContaining({ code: 'USAGE' }),
    );
    expect((await post(sb)).status).toBe(500);
    sb.configure({ errorRate: 0 });
    expect((await post(sb)).status).toBe(200);
  });

  it('rejects bad options at start', async () => {
    await expect(startSandbox({ apiKey: '' })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(startSandbox({ apiKey: KEY, dropRate: -0.1 })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(startSandbox({ apiKey: KEY, rateLimit: '60 per minute' })).rejects.toMatchObject({
      code: 'USAGE',
    });
  });
});

describe('sandbox dedup', () => {
  it("'replay': a reused reference returns the original transaction, with no new charge", async () => {
    const sb = await start({ dedup: 'replay' });
    const first = await post(sb);
    const again = await post(sb);
    expect(again.status).toBe(200);
    expect(again.json.data).toEqual(first.json.data);
    expect(sb.ledger()).toHaveLength(1);
    expect(sb.balance()).toBe(49_800);
    // a dropped answer followed by a resend: the replay tells the client what it was charged for
    sb.configure({ dropRate: 1 });
    await expect(post(sb, { reference: 'R2' })).rejects.toThrow();
    sb.configure({ dropRate: 0 });
    const resend = await post(sb, { reference: 'R2' });
    expect(resend.json.data.transaction_id).toBe(sb.ledger()[1]!.transaction_id);
    expect(sb.ledger()).toHaveLength(2);
    // no reference: nothing to dedup on
    await post(sb, { reference: undefined });
    await post(sb, { reference: undefined });
    expect(sb.ledger()).toHaveLength(4);
  });

  it("'reject': a reused reference is 400 DUPLICATE_REFERENCE", async () => {
    const sb = await start({ dedup: 'reject' });
    expect((await post(sb)).status).toBe(200);
    const again = await post(sb);
    expect([again.status, again.json.error.code]).toEqual([400, 'DUPLICATE_REFERENCE']);
    expect(sb.ledger()).toHaveLength(1);
    expect(sb.balance()).toBe(49_800);
  });

  it("'off' (default): a reused reference is a second, separately charged transaction", async () => {
    const sb = await start();
    const first = await post(sb);
    const again = await post(sb);
    expect(again.status).toBe(200);
    expect(again.json.data.transaction_id).not.toBe(first.json.data.transaction_id);
    expect(sb.ledger().map((e) => e.reference)).toEqual(['R1', 'R1']);
    expect(sb.balance()).toBe(49_600);
  });

  it('a reference whose POST failed with 500 was never used', async () => {
    const sb = await start({ dedup: 'reject', errorRate: 1 });
    expect((await post(sb)).status).toBe(500);
    sb.configure({ errorRate: 0 });
    expect((await post(sb)).status).toBe(200);
  });
});

describe('sandbox seeded randomness', () => {
  async function outcomes(seed: number): Promise<string[]> {
    const sb = await start({
      seed,
      clock: new FakeClock(),
      completeAfterMs: 0,
      failRate: 0.4,
      errorRate: 0.3,
      dropRate: 0.2,
    });
    const seen: string[] = [];
    for (let i = 0; i < 40; i++) {
      try {
        const r = await post(sb, { reference: `S${i}` });
        seen.push(r.status === 200 ? r.json.data.status : String(r.status));
      } catch {
        seen.push('dropped');
      }
    }
    return seen;
  }

  it('the same seed gives the same sequence of outcomes; another seed another one', async () => {
    const a = await outcomes(7);
    expect(await outcomes(7)).toEqual(a);
    expect(new Set(a)).toEqual(new Set(['completed', 'failed', '500', 'dropped']));
    expect(await outcomes(8)).not.toEqual(a);
  });

  it('mulberry32 is the reference algorithm (the same seed repeats across versions)', () => {
    const r = mulberry32(1);
    expect([r(), r(), r()]).toEqual([0.6270739405881613, 0.002735721180215478, 0.5274470399599522]);
  });

  it('mulberry32 is deterministic and uniform-ish in [0, 1)', () => {
    const r1 = mulberry32(42);
    const r2 = mulberry32(42);
    const xs = Array.from({ length: 1000 }, () => r1());
    expect(Array.from({ length: 1000 }, () => r2())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });
});

describe('sandbox webhooks', () => {
  async function receiver(): Promise<{ url: string; next: () => Promise<Json> }> {
    const bodies: unknown[] = [];
    const waiters: ((b: unknown) => void)[] = [];
    const server: Server = createServer((req, res) => {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        res.end('ok');
        const body = {
          method: req.method,
          contentType: req.headers['content-type'],
          payload: JSON.parse(text),
        };
        const w = waiters.shift();
        if (w) w(body);
        else bodies.push(body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))));
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}/hook`,
      next: () => (bodies.length ? Promise.resolve(bodies.shift()) : new Promise((r) => waiters.push(r))),
    };
  }

  it('POSTs the documented payload when a transaction completes or fails', async () => {
    const hook = await receiver();
    const clock = new FakeClock();
    const sb = await start({ clock, completeAfterMs: 15_000, webhookUrl: hook.url });
    const id = (await post(sb)).json.data.transaction_id;
    await clock.advance(15_000); // the sandbox's sweep notices without any request
    expect(await hook.next()).toEqual({
      method: 'POST',
      contentType: 'application/json',
      payload: {
        event: 'transaction.completed',
        data: {
          transaction_id: id,
          status: 'completed',
          mobile_number: '01812345678',
          amount: 200,
          operator: 'Robi',
          reference: 'R1',
          completed_at: '2023-11-14 22:13:35',
        },
        timestamp: '2023-11-14T22:13:35Z',
      },
    });
    sb.configure({ failRate: 1 });
    await post(sb, { reference: 'R2' });
    await clock.advance(15_000);
    expect(await hook.next()).toMatchObject({
      payload: { event: 'transaction.failed', data: { status: 'failed', reference: 'R2' } },
    });
  });

  it('works on the system clock too: the webhook follows completeAfterMs in real time', async () => {
    const hook = await receiver();
    const sb = await start({ completeAfterMs: 20, webhookUrl: hook.url });
    const t0 = Date.now();
    const id = (await post(sb)).json.data.transaction_id;
    expect(await hook.next()).toMatchObject({
      payload: { event: 'transaction.completed', data: { transaction_id: id } },
    });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(15);
    expect((await call(sb, 'GET', `/transaction/${id}`)).json.data.status).toBe('completed');
  });

  it('ignores webhook delivery failures', async () => {
    const clock = new FakeClock();
    const sb = await start({ clock, completeAfterMs: 10, webhookUrl: 'http://127.0.0.1:1/unreachable' });
    await post(sb);
    await clock.advance(10);
    await new Promise((r) => setTimeout(r, 100));
    expect(sb.ledger()[0]!.status).toBe('completed');
    expect((await call(sb, 'GET', '/balance')).status).toBe(200);
  });
});
