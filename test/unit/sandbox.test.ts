import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from 'undici';
import { FakeClock } from '../../src/clock.js';
import {
  DEFAULT_OPERATORS,
  startSandbox,
  type Sandbox,
  type SandboxOptions,
} from '../../src/sandbox/index.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON answers, checked by the assertions
type Json = any;

const KEY = 'sk-test-key-123';
const START = 1_700_000_000_000; // FakeClock's default start: 2023-11-14 22:13:20 UTC

let sandboxes: Sandbox[] = [];
afterEach(async () => {
  await Promise.all(sandboxes.map((s) => closeWithin(s, 5000)));
  sandboxes = [];
});

async function start(opts: Partial<SandboxOptions> = {}): Promise<Sandbox> {
  const sb = await startSandbox({ apiKey: KEY, rateLimit: null, ...opts });
  sandboxes.push(sb);
  return sb;
}

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: Json;
}

async function call(
  sb: Sandbox,
  method: string,
  path: string,
  init: { key?: string | null; auth?: string; body?: unknown; raw?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (init.auth !== undefined) headers.Authorization = init.auth;
  else if (init.key !== null) headers.Authorization = `Bearer ${init.key ?? KEY}`;
  const body = init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
  const res = await fetch(`${sb.url}${path}`, { method, headers, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: text ? JSON.parse(text) : undefined };
}

function closeWithin(sb: Sandbox, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`close() still pending after ${ms} ms`)), ms);
  });
  return Promise.race([sb.close(), hung]).finally(() => clearTimeout(timer));
}

const recharge = (sb: Sandbox, body: Record<string, unknown>) => call(sb, 'POST', '/recharge', { body });
const GP100 = { operator_id: 1, mobile_number: '01712345678', amount: 100, reference: 'ref-1' };

describe('sandbox: auth', () => {
  it('answers 401 UNAUTHORIZED without a key, with a wrong key or another scheme, and never echoes the key', async () => {
    const sb = await start();
    for (const init of [
      { key: null },
      { key: 'sk-wrong-secret' },
      { auth: `Basic ${KEY}` },
      { auth: 'Bearer' },
    ]) {
      const r = await call(sb, 'GET', '/balance', init);
      expect(r.status).toBe(401);
      expect(r.json).toEqual({
        success: false,
        error: { code: 'UNAUTHORIZED', message: expect.any(String) },
      });
      expect(r.text).not.toContain('sk-wrong-secret');
      expect(r.text).not.toContain(KEY);
    }
    expect((await call(sb, 'GET', '/balance', { auth: `bearer ${KEY}` })).status).toBe(200);
    // a 401 POST commits nothing
    expect((await call(sb, 'POST', '/recharge', { key: 'nope', body: GP100 })).status).toBe(401);
    expect(sb.ledger()).toEqual([]);
  });
});

describe('sandbox: documented shapes', () => {
  it('GET /balance answers the balance with two decimals in BDT', async () => {
    const sb = await start({ balance: 1234.5 });
    const r = await call(sb, 'GET', '/balance');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.text).toBe('{"success":true,"data":{"balance":1234.50,"currency":"BDT"}}');
    expect(r.json).toEqual({ success: true, data: { balance: 1234.5, currency: 'BDT' } });
  });

  it('GET /operators answers the default list, which matches fixtures/operators.json', async () => {
    const sb = await start();
    const r = await call(sb, 'GET', '/operators');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ success: true, data: DEFAULT_OPERATORS });
    expect(r.json.data.map((o: { code: string }) => o.code)).toEqual(['GP', 'ROBI', 'BL', 'TT', 'AT']);
    const fixture = JSON.parse(
      await readFile(new URL('../../fixtures/operators.json', import.meta.url), 'utf8'),
    );
    expect(fixture).toEqual(DEFAULT_OPERATORS);
  });

  it('serves a custom operator list', async () => {
    const sb = await start({
      operators: [{ id: 'x9', name: 'Test', code: 'TS', min_amount: 20, max_amount: 30 }],
    });
    expect((await call(sb, 'GET', '/operators')).json.data).toEqual([
      { id: 'x9', name: 'Test', code: 'TS', min_amount: 20, max_amount: 30 },
    ]);
    expect((await recharge(sb, { ...GP100, operator_id: 'x9', amount: 25 })).status).toBe(200);
    expect((await recharge(sb, { ...GP100, operator_id: 1, reference: 'r2' })).json.error.code).toBe(
      'INVALID_OPERATOR',
    );
  });

  it('answers 404 NOT_FOUND for unknown routes, 405 for a wrong method, 404 TRANSACTION_NOT_FOUND for unknown ids', async () => {
    const sb = await start();
    const unknown = await call(sb, 'GET', '/nope');
    expect([unknown.status, unknown.json.error.code]).toEqual([404, 'NOT_FOUND']);
    const wrong = await call(sb, 'POST', '/balance', { body: {} });
    expect([wrong.status, wrong.json.error.code, wrong.headers.get('allow')]).toEqual([
      405,
      'METHOD_NOT_ALLOWED',
      'GET',
    ]);
    const txn = await call(sb, 'GET', '/transaction/TXN000000000');
    expect([txn.status, txn.json]).toEqual([
      404,
      { success: false, error: { code: 'TRANSACTION_NOT_FOUND', message: expect.any(String) } },
    ]);
  });

  it('answers 413 to a body over 64 KiB, committing nothing', async () => {
    const sb = await start();
    const r = await call(sb, 'POST', '/recharge', { body: { ...GP100, padding: 'x'.repeat(70 * 1024) } });
    expect([r.status, r.json.error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect(sb.ledger()).toEqual([]);
  });
});

describe('sandbox: recharge and money', () => {
  it('commits a recharge: documented answer, balance deducted, ledger entry', async () => {
    const clock = new FakeClock();
    const sb = await start({ clock, balance: 500 });
    const r = await recharge(sb, GP100);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      success: true,
      data: {
        transaction_id: expect.stringMatching(/^TXN\d{9,}$/),
        status: 'processing',
        mobile_number: '01712345678',
        amount: 100,
        operator: 'Grameenphone',
        reference: 'ref-1',
        created_at: '2023-11-14 22:13:20',
      },
    });
    expect(sb.balance()).toBe(400);
    expect((await call(sb, 'GET', '/balance')).json.data.balance).toBe(400);
    expect(sb.ledger()).toEqual([
      {
        transaction_id: r.json.data.transaction_id,
        reference: 'ref-1',
        mobile_number: '01712345678',
        amount: 100,
        operator_id: 1,
        operator: 'Grameenphone',
        status: 'processing',
        created_at: '2023-11-14 22:13:20',
        completed_at: null,
      },
    ]);
    const second = await recharge(sb, { operator_id: '4', mobile_number: '01812345678', amount: 50 });
    expect(second.json.data.operator).toBe('Teletalk');
    expect(second.json.data.reference).toBeNull();
    expect(second.json.data.transaction_id).not.toBe(r.json.data.transaction_id);
    expect(sb.ledger().map((e) => e.amount)).toEqual([100, 50]);
    expect(sb.balance()).toBe(350);
    expect(sb.stats().recharges).toBe(2);
  });

  it('answers 402 INSUFFICIENT_BALANCE with the documented message when short, committing nothing', async () => {
    const sb = await start({ balance: 99 });
    const r = await recharge(sb, GP100);
    expect(r.status).toBe(402);
    expect(r.json).toEqual({
      success: false,
      error: {
        code: 'INSUFFICIENT_BALANCE',
        message: 'Your account balance is insufficient for this transaction',
      },
    });
    expect(sb.ledger()).toEqual([]);
    expect(sb.balance()).toBe(99);
    sb.setBalance(100); // exactly enough
    expect((await recharge(sb, GP100)).status).toBe(200);
    expect(sb.balance()).toBe(0);
  });

  it.each([
    ['not json', 'INVALID_REQUEST'],
    ['[1,2]', 'INVALID_REQUEST'],
    ['null', 'INVALID_REQUEST'],
    ['', 'INVALID_REQUEST'],
    [{ ...GP100, operator_id: 99 }, 'INVALID_OPERATOR'],
    [{ ...GP100, operator_id: undefined }, 'INVALID_OPERATOR'],
    [{ ...GP100, mobile_number: '0171234567' }, 'INVALID_MOBILE_NUMBER'],
    [{ ...GP100, mobile_number: '01212345678' }, 'INVALID_MOBILE_NUMBER'],
    [{ ...GP100, mobile_number: '+8801712345678' }, 'INVALID_MOBILE_NUMBER'],
    [{ ...GP100, mobile_number: 1712345678 }, 'INVALID_MOBILE_NUMBER'],
    [{ ...GP100, amount: 0 }, 'INVALID_AMOUNT'],
    [{ ...GP100, amount: -10 }, 'INVALID_AMOUNT'],
    [{ ...GP100, amount: 10.5 }, 'INVALID_AMOUNT'],
    [{ ...GP100, amount: '100' }, 'INVALID_AMOUNT'],
    [{ ...GP100, amount: 9 }, 'AMOUNT_OUT_OF_RANGE'],
    [{ ...GP100, amount: 1001 }, 'AMOUNT_OUT_OF_RANGE'],
    [{ ...GP100, operator_id: 4, amount: 501 }, 'AMOUNT_OUT_OF_RANGE'],
    [{ ...GP100, reference: 'has space' }, 'INVALID_REFERENCE'],
    [{ ...GP100, reference: '' }, 'INVALID_REFERENCE'],
    [{ ...GP100, reference: 'r'.repeat(65) }, 'INVALID_REFERENCE'],
    [{ ...GP100, reference: 42 }, 'INVALID_REFERENCE'],
  ])('answers 400 to %j with %s, committing nothing', async (body, code) => {
    const sb = await start();
    const r =
      typeof body === 'string'
        ? await call(sb, 'POST', '/recharge', { raw: body })
        : await recharge(sb, body);
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ success: false, error: { code, message: expect.any(String) } });
    expect(sb.ledger()).toEqual([]);
    expect(sb.balance()).toBe(50_000);
  });

  it('gives the operator range in the AMOUNT_OUT_OF_RANGE message; accepts the range ends and a 64-char reference', async () => {
    const sb = await start();
    const r = await recharge(sb, { ...GP100, operator_id: 4, amount: 600 });
    expect(r.json.error.message).toMatch(/10\D+500/);
    expect(
      (await recharge(sb, { ...GP100, operator_id: 4, amount: 500, reference: 'a'.repeat(64) })).status,
    ).toBe(200);
    expect((await recharge(sb, { ...GP100, amount: 10, reference: 'A_b-9' })).status).toBe(200);
    expect(sb.balance()).toBe(50_000 - 510);
  });
});

describe('sandbox: transaction status', () => {
  it('moves processing → completed after completeAfterMs (FakeClock)', async () => {
    const clock = new FakeClock();
    const sb = await start({ clock, completeAfterMs: 3000 });
    const id = (await recharge(sb, GP100)).json.data.transaction_id as string;
    await clock.advance(2999);
    const before = await call(sb, 'GET', `/transaction/${id}`);
    expect(before.json.data).toMatchObject({ transaction_id: id, status: 'processing', completed_at: null });
    await clock.advance(1);
    const after = await call(sb, 'GET', `/transaction/${id}`);
    expect(after.json).toEqual({
      success: true,
      data: {
        transaction_id: id,
        status: 'completed',
        mobile_number: '01712345678',
        amount: 100,
        operator: 'Grameenphone',
        reference: 'ref-1',
        created_at: '2023-11-14 22:13:20',
        completed_at: '2023-11-14 22:13:23',
      },
    });
    expect(sb.ledger()[0]).toMatchObject({ status: 'completed', completed_at: '2023-11-14 22:13:23' });
    expect(sb.balance()).toBe(49_900);
  });

  it('failRate=1: the transaction ends failed and the amount is refunded', async () => {
    const clock = new FakeClock();
    const sb = await start({ clock, completeAfterMs: 1000, failRate: 1 });
    const id = (await recharge(sb, GP100)).json.data.transaction_id as string;
    expect(sb.balance()).toBe(49_900);
    await clock.advance(1000);
    const r = await call(sb, 'GET', `/transaction/${id}`);
    expect(r.json.data).toMatchObject({
      status: 'failed',
      completed_at: '2023-11-14 22:13:21',
      error_code: 'OPERATOR_FAILURE',
    });
    expect(sb.balance()).toBe(50_000);
    expect(sb.ledger()[0]!.status).toBe('failed');
  });

  it('completeAfterMs=0: final at once', async () => {
    const sb = await start({ clock: new FakeClock(), completeAfterMs: 0 });
    const r = await recharge(sb, GP100);
    expect(r.json.data).toMatchObject({ status: 'completed', completed_at: '2023-11-14 22:13:20' });
  });
});

describe('sandbox: connections', () => {
  it('keeps connections alive and close() does not hang on an idle keep-alive socket', async () => {
    const sb = await start();
    const origin = new URL(sb.url).origin;
    const client = new Client(origin, { keepAliveTimeout: 60_000 });
    let connects = 0;
    client.on('connect', () => connects++);
    try {
      for (let i = 0; i < 5; i++) {
        const res = await client.request({
          path: '/api/v1/balance',
          method: 'GET',
          headers: { authorization: `Bearer ${KEY}` },
        });
        expect(res.statusCode).toBe(200);
        await res.body.text();
      }
      expect(connects).toBe(1);
      await closeWithin(sb, 1000);
    } finally {
      await client.destroy();
    }
  });

  it('close() does not hang on a request still in flight; the client sees the connection close', async () => {
    const clock = new FakeClock();
    const sb = await start({ clock, latencyMs: 60_000 });
    const pending = call(sb, 'GET', '/balance');
    pending.catch(() => undefined);
    while (clock.pending === 0) await new Promise((r) => setTimeout(r, 2));
    await closeWithin(sb, 1000);
    await expect(pending).rejects.toThrow();
  });

  it('waits latencyMs on the clock before answering', async () => {
    const clock = new FakeClock();
    const sb = await start({ clock, latencyMs: 500 });
    let answered = false;
    const pending = call(sb, 'GET', '/balance').then((r) => ((answered = true), r));
    while (clock.pending === 0) await new Promise((r) => setTimeout(r, 2));
    await new Promise((r) => setTimeout(r, 10));
    expect(answered).toBe(false);
    await clock.advance(500);
    expect((await pending).status).toBe(200);
  });
});

describe('sandbox: stats, request log, admin routes', () => {
  it('counts requests by status and logs their arrival time', async () => {
    const clock = new FakeClock();
    const sb = await start({ clock, balance: 50 });
    await call(sb, 'GET', '/balance');
    await clock.advance(1500);
    await call(sb, 'GET', '/balance', { key: 'bad' });
    await recharge(sb, GP100); // 402
    await recharge(sb, { ...GP100, amount: 50 });
    expect(sb.stats()).toEqual({
      requests: 4,
      byStatus: { 200: 2, 401: 1, 402: 1 },
      rateLimited: 0,
      recharges: 1,
    });
    expect(sb.requestLog()).toEqual([
      { at: START, method: 'GET', path: '/api/v1/balance', status: 200 },
      { at: START + 1500, method: 'GET', path: '/api/v1/balance', status: 401 },
      { at: START + 1500, method: 'POST', path: '/api/v1/recharge', status: 402 },
      { at: START + 1500, method: 'POST', path: '/api/v1/recharge', status: 200 },
    ]);
  });

  it('serves /__sandbox ledger, balance and stats with Bearer auth, outside the rate limit and the stats', async () => {
    const sb = await start({ rateLimit: '1/min' });
    const origin = new URL(sb.url).origin;
    const admin = async (method: string, path: string, body?: unknown, key = KEY) => {
      const res = await fetch(`${origin}/__sandbox${path}`, {
        method,
        headers: { Authorization: `Bearer ${key}` },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json()) as Json };
    };
    expect((await admin('GET', '/ledger', undefined, 'wrong')).status).toBe(401);
    expect(await recharge(sb, GP100)).toMatchObject({ status: 200 });
    for (let i = 0; i < 3; i++) expect((await admin('GET', '/stats')).status).toBe(200);
    const ledger = await admin('GET', '/ledger');
    expect(ledger).toEqual({ status: 200, json: { ledger: sb.ledger() } });
    expect(ledger.json.ledger).toHaveLength(1);
    expect(await admin('POST', '/balance', { balance: 77.25 })).toEqual({
      status: 200,
      json: { balance: 77.25 },
    });
    expect(sb.balance()).toBe(77.25);
    expect((await admin('POST', '/balance', { balance: -1 })).status).toBe(400);
    expect((await admin('POST', '/balance', 'nope')).status).toBe(400);
    expect(sb.balance()).toBe(77.25);
    expect(await admin('GET', '/stats')).toEqual({
      status: 200,
      json: { requests: 1, byStatus: { '200': 1 }, rateLimited: 0, recharges: 1 },
    });
    expect((await admin('POST', '/configure', { errorRate: 1, rateLimit: null })).status).toBe(200);
    expect((await call(sb, 'GET', '/balance')).status).toBe(500);
    expect((await admin('GET', '/requests')).json.requests).toHaveLength(2);
    expect((await admin('GET', '/nope')).status).toBe(404);
  });
});
