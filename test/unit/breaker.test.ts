/**
 * The circuit breaker (SPEC §5 additions): 5 ambiguous POST outcomes in a row stop submitting
 * (API_UNREADABLE, exit 3), the rows not sent stay pending; a clear answer in between resets
 * the count. undici's MockAgent is the API; counts are POSTs, not time.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MockAgent } from 'undici';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlsamiflexiClient } from '../../src/api/client.js';
import { runJob } from '../../src/run.js';
import { exitCodeFor } from '../../src/exit.js';

const ORIGIN = 'http://api.test';
const OPERATORS = [{ id: 1, name: 'Grameenphone', code: 'GP', min_amount: 10, max_amount: 1000 }];
let agent: MockAgent;
let dir: string;
beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  dir = mkdtempSync(join(tmpdir(), 'rb-breaker-'));
});
afterEach(async () => {
  await agent.close();
});

/** POST answers by call index; GETs say completed. */
function api(answer: (n: number) => { status: number; data: unknown }) {
  const pool = agent.get(ORIGIN);
  let n = 0;
  pool
    .intercept({ path: '/api/v1/balance', method: 'GET' })
    .reply(200, { success: true, data: { balance: 1e6, currency: 'BDT' } })
    .persist();
  pool
    .intercept({ path: /\/api\/v1\/transaction\//, method: 'GET' })
    .reply(200, { success: true, data: { transaction_id: 'T', status: 'completed' } })
    .persist();
  pool
    .intercept({ path: '/api/v1/recharge', method: 'POST' })
    .reply(() => {
      const a = answer(n++);
      return { statusCode: a.status, data: a.data as object };
    })
    .persist();
  return () => n;
}

async function run(rows: number, concurrency = 1) {
  const lines = Array.from({ length: rows }, (_, i) => `P${i},0171${String(1000000 + i).slice(-7)},100`);
  const csv = join(dir, 'pay.csv');
  writeFileSync(csv, ['name,mobile,amount', ...lines].join('\n') + '\n');
  const client = new AlsamiflexiClient({
    apiKey: 'k-breaker',
    baseUrl: `${ORIGIN}/api/v1`,
    dispatcher: agent,
  });
  return runJob({
    csv,
    stateDir: join(dir, 'state'),
    client,
    operators: OPERATORS,
    concurrency,
    pollAfterMs: 0,
    pollEveryMs: 1,
    pollTimeoutMs: 1000,
    backoffBaseMs: 1,
  });
}

describe('circuit breaker', () => {
  it('every POST answered 503: stops after exactly 5 (concurrency 1), exit 3, the other rows pending', async () => {
    const posts = api(() => ({ status: 503, data: 'Service Unavailable' }));
    const r = await run(12);
    expect(posts()).toBe(5);
    expect(r.stopped?.code).toBe('API_UNREADABLE');
    expect(exitCodeFor(r.stopped!.code)).toBe(3);
    expect(r.counts.unknown).toBe(5);
    expect(r.counts.pending).toBe(7);
  });

  it('with concurrency 3 it stops within 5 + 3 POSTs', async () => {
    const posts = api(() => ({ status: 200, data: 'garbled' }));
    const r = await run(30, 3);
    expect(posts()).toBeGreaterThanOrEqual(5);
    expect(posts()).toBeLessThanOrEqual(8);
    expect(r.stopped?.code).toBe('API_UNREADABLE');
    expect(r.counts.unknown + r.counts.pending).toBe(30);
  });

  it('a clear answer between ambiguous ones resets the count: 4 bad, 1 good, 4 bad never trips', async () => {
    api((n) =>
      n === 4
        ? { status: 200, data: { success: true, data: { transaction_id: 'T', status: 'completed' } } }
        : { status: 502, data: '' },
    );
    const r = await run(9);
    expect(r.stopped).toBeNull();
    expect(r.counts.unknown).toBe(8);
    expect(r.counts.completed).toBe(1);
  });
});
