import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MockAgent } from 'undici';
import { AlsamiflexiClient, retryAfterMs, type RequestScheduler } from '../../src/api/client.js';
import { ApiError } from '../../src/errors.js';
import { FakeClock } from '../../src/clock.js';

const ORIGIN = 'http://api.test';
const BASE = `${ORIGIN}/api/v1`;
const KEY = 'sk_live_very_secret_key';
const JSON_HEADERS = { headers: { 'content-type': 'application/json' } };

const txn = {
  transaction_id: 'TXN123456789',
  status: 'processing',
  mobile_number: '01712345678',
  amount: 100,
  operator: 'Grameenphone',
  reference: 'REF1',
  created_at: '2025-12-27 10:30:00',
};

let agent: MockAgent;
let clock: FakeClock;

function client(extra: Partial<ConstructorParameters<typeof AlsamiflexiClient>[0]> = {}) {
  return new AlsamiflexiClient({
    apiKey: KEY,
    baseUrl: BASE,
    dispatcher: agent,
    clock,
    backoffBaseMs: 10,
    random: () => 0.5,
    ...extra,
  });
}

/** Runs a promise while moving the fake clock, so backoff sleeps complete. */
async function settle<T>(p: Promise<T>): Promise<T> {
  let done = false;
  const wrapped = p.finally(() => (done = true));
  while (!done) {
    await new Promise((r) => setImmediate(r));
    await clock.advance(1_000);
  }
  return wrapped;
}

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  clock = new FakeClock();
});
afterEach(async () => {
  await agent.close();
});

describe('AlsamiflexiClient', () => {
  it('sends the Bearer key and parses /balance (numbers or numeric strings)', async () => {
    const pool = agent.get(ORIGIN);
    let auth: unknown;
    pool.intercept({ path: '/api/v1/balance', method: 'GET' }).reply((opts) => {
      auth = (opts.headers as Record<string, string>).authorization;
      return {
        statusCode: 200,
        data: { success: true, data: { balance: '50000.00', currency: 'BDT' } },
        responseOptions: JSON_HEADERS,
      };
    });
    await expect(client().getBalance()).resolves.toEqual({ balance: 50000, currency: 'BDT' });
    expect(auth).toBe(`Bearer ${KEY}`);
  });

  it('parses /operators', async () => {
    agent
      .get(ORIGIN)
      .intercept({ path: '/api/v1/operators', method: 'GET' })
      .reply(200, {
        success: true,
        data: [{ id: 1, name: 'Grameenphone', code: 'GP', min_amount: 10, max_amount: 1000 }],
      });
    const ops = await client().getOperators();
    expect(ops).toEqual([{ id: 1, name: 'Grameenphone', code: 'GP', min_amount: 10, max_amount: 1000 }]);
  });

  it('POSTs /recharge with the JSON body and returns the transaction', async () => {
    let body: unknown;
    agent
      .get(ORIGIN)
      .intercept({ path: '/api/v1/recharge', method: 'POST' })
      .reply((opts) => {
        body = JSON.parse(String(opts.body));
        return { statusCode: 200, data: { success: true, data: txn } };
      });
    const t = await client().recharge({
      operator_id: 1,
      mobile_number: '01712345678',
      amount: 100,
      reference: 'REF1',
    });
    expect(t.transaction_id).toBe('TXN123456789');
    expect(t.status).toBe('processing');
    expect(body).toEqual({ operator_id: 1, mobile_number: '01712345678', amount: 100, reference: 'REF1' });
  });

  it('GETs /transaction/{id}', async () => {
    agent
      .get(ORIGIN)
      .intercept({ path: '/api/v1/transaction/TXN123456789', method: 'GET' })
      .reply(200, {
        success: true,
        data: { ...txn, status: 'completed', completed_at: '2025-12-27 10:30:15' },
      });
    const t = await client().getTransaction('TXN123456789');
    expect(t.status).toBe('completed');
    expect(t.completed_at).toBe('2025-12-27 10:30:15');
  });

  it.each([
    [400, 'INVALID_AMOUNT', 'API_ERROR'],
    [401, 'UNAUTHORIZED', 'API_UNAUTHORIZED'],
    [402, 'INSUFFICIENT_BALANCE', 'INSUFFICIENT_BALANCE'],
  ])(
    'maps HTTP %i {error:%s} to ApiError %s with status, API code and headers',
    async (status, apiCode, code) => {
      agent
        .get(ORIGIN)
        .intercept({ path: '/api/v1/recharge', method: 'POST' })
        .reply(
          status,
          { success: false, error: { code: apiCode, message: 'nope' } },
          { headers: { 'x-request-id': 'abc' } },
        );
      const err = await client()
        .recharge({ operator_id: 1, mobile_number: '01712345678', amount: 100, reference: 'R' })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      const e = err as ApiError;
      expect(e.code).toBe(code);
      expect(e.status).toBe(status);
      expect(e.apiCode).toBe(apiCode);
      expect(e.headers['x-request-id']).toBe('abc');
      expect(e.message).not.toContain(KEY);
    },
  );

  it('does not retry a POST that got a 500 (the runner decides)', async () => {
    const pool = agent.get(ORIGIN);
    pool
      .intercept({ path: '/api/v1/recharge', method: 'POST' })
      .reply(500, { success: false, error: { code: 'INTERNAL_ERROR', message: 'x' } });
    pool.intercept({ path: '/api/v1/recharge', method: 'POST' }).reply(200, { success: true, data: txn });
    const err = (await client()
      .recharge({ operator_id: 1, mobile_number: '01712345678', amount: 100, reference: 'R' })
      .catch((e: unknown) => e)) as ApiError;
    expect(err.status).toBe(500);
    expect(err.sent).toBe(true);
  });

  it('retries a GET after 500s with backoff, then succeeds', async () => {
    const pool = agent.get(ORIGIN);
    pool.intercept({ path: '/api/v1/balance', method: 'GET' }).reply(500, 'oops').times(2);
    pool
      .intercept({ path: '/api/v1/balance', method: 'GET' })
      .reply(200, { success: true, data: { balance: 5, currency: 'BDT' } });
    await expect(settle(client().getBalance())).resolves.toEqual({ balance: 5, currency: 'BDT' });
  });

  it('gives up on a GET after the configured retries', async () => {
    agent.get(ORIGIN).intercept({ path: '/api/v1/balance', method: 'GET' }).reply(503, 'down').times(3);
    const err = (await settle(
      client({ getRetries: 2 })
        .getBalance()
        .catch((e: unknown) => e),
    )) as ApiError;
    expect(err.status).toBe(503);
  });

  it('waits out a 429 (Retry-After) and resends, for POST too', async () => {
    const pool = agent.get(ORIGIN);
    pool
      .intercept({ path: '/api/v1/recharge', method: 'POST' })
      .reply(
        429,
        { success: false, error: { code: 'RATE_LIMIT_EXCEEDED', message: 'slow down' } },
        { headers: { 'retry-after': '2' } },
      );
    pool.intercept({ path: '/api/v1/recharge', method: 'POST' }).reply(200, { success: true, data: txn });
    const waits: number[] = [];
    const scheduler: RequestScheduler = {
      schedule: (_k, fn) => fn(),
      backOff: (ms) => void waits.push(ms),
    };
    const t = await client({ scheduler }).recharge({
      operator_id: 1,
      mobile_number: '01712345678',
      amount: 100,
      reference: 'R',
    });
    expect(t.transaction_id).toBe('TXN123456789');
    expect(waits).toEqual([2000]);
  });

  it('turns an answer that does not fit the documented shape into API_BAD_RESPONSE', async () => {
    const pool = agent.get(ORIGIN);
    pool
      .intercept({ path: '/api/v1/balance', method: 'GET' })
      .reply(200, { success: true, data: { amount: 1 } });
    pool.intercept({ path: '/api/v1/operators', method: 'GET' }).reply(200, '<html>maintenance</html>');
    await expect(client().getBalance()).rejects.toMatchObject({ code: 'API_BAD_RESPONSE' });
    await expect(client().getOperators()).rejects.toMatchObject({ code: 'API_BAD_RESPONSE' });
  });

  it('times out a request that gets no answer (ambiguous: sent=true)', async () => {
    agent
      .get(ORIGIN)
      .intercept({ path: '/api/v1/recharge', method: 'POST' })
      .reply(200, { success: true, data: txn })
      .delay(500);
    const err = (await client({ requestTimeoutMs: 50 })
      .recharge({ operator_id: 1, mobile_number: '01712345678', amount: 100, reference: 'R' })
      .catch((e: unknown) => e)) as ApiError;
    expect(err.code).toBe('API_TIMEOUT');
    expect(err.sent).toBe(true);
  });

  it('marks a refused connection as not sent, and a reset as sent, and says which', async () => {
    const pool = agent.get(ORIGIN);
    pool
      .intercept({ path: '/api/v1/recharge', method: 'POST' })
      .replyWithError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    pool
      .intercept({ path: '/api/v1/recharge', method: 'POST' })
      .replyWithError(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }));
    const body = { operator_id: 1, mobile_number: '01712345678', amount: 100, reference: 'R' };
    const refused = (await client()
      .recharge(body)
      .catch((e: unknown) => e)) as ApiError;
    expect(refused.code).toBe('API_UNREACHABLE');
    expect(refused.sent).toBe(false);
    const reset = (await client()
      .recharge(body)
      .catch((e: unknown) => e)) as ApiError;
    expect(reset.code).toBe('API_UNREACHABLE');
    expect(reset.sent).toBe(true);
    // in words too: a clerk reads "cannot reach" as "never sent"
    expect(refused.message).toContain('cannot reach api.test');
    expect(reset.message).toContain('the connection to api.test was cut before the answer (UND_ERR_SOCKET)');
    expect(reset.message).not.toContain('cannot reach');
  });

  it('passes every request through the scheduler and reports headers to it', async () => {
    agent
      .get(ORIGIN)
      .intercept({ path: '/api/v1/balance', method: 'GET' })
      .reply(
        200,
        { success: true, data: { balance: 1, currency: 'BDT' } },
        { headers: { 'x-ratelimit-remaining': '7' } },
      );
    const kinds: string[] = [];
    const seen: Record<string, string>[] = [];
    const scheduler: RequestScheduler = {
      schedule: (k, fn) => (kinds.push(k), fn()),
      observe: (_s, h) => void seen.push(h),
    };
    await client({ scheduler }).getBalance();
    expect(kinds).toEqual(['meta']);
    expect(seen[0]!['x-ratelimit-remaining']).toBe('7');
  });

  it('refuses to start without a key or with a bad base URL', () => {
    expect(() => new AlsamiflexiClient({ apiKey: '' })).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(() => new AlsamiflexiClient({ apiKey: 'k', baseUrl: 'not a url' })).toThrow(
      expect.objectContaining({ code: 'USAGE' }),
    );
  });

  it('balance and operators stop retrying once the request timeout has passed; polls go on', async () => {
    const pool = agent.get(ORIGIN);
    let balanceCalls = 0;
    let pollCalls = 0;
    pool
      .intercept({ path: '/api/v1/balance', method: 'GET' })
      .reply(() => (balanceCalls++, { statusCode: 503, data: 'down' }))
      .times(10);
    pool
      .intercept({ path: '/api/v1/transaction/T1', method: 'GET' })
      .reply(() => (pollCalls++, { statusCode: 503, data: 'down' }))
      .times(3);
    pool
      .intercept({ path: '/api/v1/transaction/T1', method: 'GET' })
      .reply(200, { success: true, data: { ...txn, transaction_id: 'T1' } });
    const c = client({ requestTimeoutMs: 50, getRetries: 8 });
    // backoff waits 7.5, 15, 30 ms (jitter fixed): the third wait would end past the 50 ms timeout
    const err = (await settle(c.getBalance().catch((e: unknown) => e))) as ApiError;
    expect(err.status).toBe(503);
    expect(balanceCalls).toBe(3); // not the 9 that getRetries alone allows
    const t = await settle(c.getTransaction('T1'));
    expect(t.transaction_id).toBe('T1');
    expect(pollCalls).toBe(3);
  });
});

describe('retryAfterMs', () => {
  const now = 1_700_000_000_000;
  it('reads seconds, HTTP dates and reset headers', () => {
    expect(retryAfterMs({ 'retry-after': '3' }, now)).toBe(3000);
    expect(retryAfterMs({ 'retry-after': new Date(now + 5000).toUTCString() }, now)).toBe(5000);
    expect(retryAfterMs({ 'x-ratelimit-reset': String(now / 1000 + 7) }, now)).toBe(7000);
    expect(retryAfterMs({ 'ratelimit-reset': '4' }, now)).toBe(4000);
    expect(retryAfterMs({}, now)).toBeUndefined();
  });
});
