/**
 * The runner's POST outcome rules (SPEC §5), one answer at a time, with undici's MockAgent as
 * the API: what ends up in the row's state, and how many POSTs went out.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MockAgent } from 'undici';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlsamiflexiClient } from '../../src/api/client.js';
import { runJob, type RunJobOptions } from '../../src/run.js';
import { snapshot } from '../../src/job/job.js';

const ORIGIN = 'http://api.test';
const OPERATORS = [
  { id: 1, name: 'Grameenphone', code: 'GP', min_amount: 10, max_amount: 1000 },
  { id: 2, name: 'Robi', code: 'ROBI', min_amount: 10, max_amount: 1000 },
  { id: 3, name: 'Banglalink', code: 'BL', min_amount: 10, max_amount: 1000 },
];

let agent: MockAgent;
let posts: { reference: string; mobile_number: string }[];
let dir: string;

type Reply = { status: number; body?: unknown } | { error: string };

function txn(ref: string, status = 'processing', id = `TXN-${ref}`) {
  return {
    success: true,
    data: {
      transaction_id: id,
      status,
      mobile_number: '01712345678',
      amount: 100,
      operator: 'Grameenphone',
      reference: ref,
      created_at: '2026-01-01 00:00:00',
    },
  };
}

/** POST /recharge answers, in order; the balance is always ample. */
function api(replies: Reply[], balance = 1_000_000) {
  const pool = agent.get(ORIGIN);
  pool
    .intercept({ path: '/api/v1/balance', method: 'GET' })
    .reply(200, { success: true, data: { balance, currency: 'BDT' } })
    .persist();
  for (const r of replies) {
    const i = pool.intercept({ path: '/api/v1/recharge', method: 'POST' });
    if ('error' in r) {
      i.replyWithError(Object.assign(new Error(r.error), { code: r.error }));
      continue;
    }
    i.reply((opts) => {
      const body = JSON.parse(String(opts.body));
      posts.push(body);
      return { statusCode: r.status, data: r.body ?? txn(body.reference) };
    });
  }
  return pool;
}

function err(code: string, message = 'x') {
  return { success: false, error: { code, message } };
}

async function run(extra: Partial<RunJobOptions> = {}, rows = ['A,01712345678,100']) {
  const csv = join(dir, 'pay.csv');
  writeFileSync(csv, ['name,mobile,amount', ...rows].join('\n') + '\n');
  const client = new AlsamiflexiClient({
    apiKey: 'k',
    baseUrl: `${ORIGIN}/api/v1`,
    dispatcher: agent,
    backoffBaseMs: 1,
  });
  const result = await runJob({
    csv,
    stateDir: join(dir, 'state'),
    client,
    operators: OPERATORS,
    pollAfterMs: 0,
    pollEveryMs: 1,
    pollTimeoutMs: 2000,
    backoffBaseMs: 1,
    ...extra,
  });
  const snap = await snapshot(join(dir, 'state'), result.job);
  return { result, row: snap.rows[1]!, snap };
}

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  posts = [];
  dir = mkdtempSync(join(tmpdir(), 'rb-runner-'));
});
afterEach(async () => {
  await agent.close();
});

describe('POST outcomes', () => {
  it('200 completed at once: completed with the transaction id, no poll needed', async () => {
    api([{ status: 200, body: txn('x', 'completed', 'TXN9') }]);
    const { row, result } = await run();
    expect(row.status).toBe('completed');
    expect(row.txn).toBe('TXN9');
    expect(result.stopped).toBeNull();
  });

  it('200 processing, then polled to completed', async () => {
    const pool = api([{ status: 200, body: txn('x', 'processing', 'TXN7') }]);
    pool
      .intercept({ path: '/api/v1/transaction/TXN7', method: 'GET' })
      .reply(200, txn('x', 'processing', 'TXN7'));
    pool.intercept({ path: '/api/v1/transaction/TXN7', method: 'GET' }).reply(200, {
      ...txn('x', 'completed', 'TXN7'),
      data: { ...txn('x', 'completed', 'TXN7').data, completed_at: '2026-01-01 00:00:09' },
    });
    const { row } = await run();
    expect(row.status).toBe('completed');
    expect(row.completedAt).toBe('2026-01-01 00:00:09');
  });

  it('400 → failed with the API code, sent once', async () => {
    api([{ status: 400, body: err('INVALID_MOBILE_NUMBER') }]);
    const { row, result } = await run();
    expect(row.status).toBe('failed');
    expect(row.code).toBe('INVALID_MOBILE_NUMBER');
    expect(posts).toHaveLength(1);
    expect(result.stopped).toBeNull();
  });

  it('400 DUPLICATE_REFERENCE → unknown (an earlier request may have gone through)', async () => {
    api([{ status: 400, body: err('DUPLICATE_REFERENCE') }]);
    const { row } = await run();
    expect(row.status).toBe('unknown');
    expect(row.code).toBe('DUPLICATE_REFERENCE');
  });

  it('500 without --reference-dedup → unknown, never resent', async () => {
    api([{ status: 500, body: err('INTERNAL_ERROR') }, { status: 200 }]);
    const { row } = await run();
    expect(row.status).toBe('unknown');
    expect(posts).toHaveLength(1);
  });

  it('500 with --reference-dedup → resent with the same reference; the replayed 200 is recorded', async () => {
    api([
      { status: 503, body: err('UNAVAILABLE') },
      { status: 500, body: err('INTERNAL_ERROR') },
      { status: 200, body: txn('x', 'completed', 'TXN5') },
    ]);
    const { row } = await run({ referenceDedup: true });
    expect(row.status).toBe('completed');
    expect(row.txn).toBe('TXN5');
    expect(posts).toHaveLength(3);
    expect(new Set(posts.map((p) => p.reference)).size).toBe(1);
  });

  it('a connection reset after sending is ambiguous → unknown', async () => {
    api([{ error: 'ECONNRESET' }, { status: 200 }]);
    const { row } = await run();
    expect(row.status).toBe('unknown');
  });

  it('connection refused before sending → resent, even without dedup', async () => {
    api([
      { error: 'ECONNREFUSED' },
      { error: 'ECONNREFUSED' },
      { status: 200, body: txn('x', 'completed', 'TXN3') },
    ]);
    const { row } = await run();
    expect(row.status).toBe('completed');
    expect(row.txn).toBe('TXN3');
  });

  it('401 → the run stops (API_UNAUTHORIZED), the row stays pending', async () => {
    api([{ status: 401, body: err('UNAUTHORIZED') }]);
    const { row, result } = await run();
    expect(result.stopped?.code).toBe('API_UNAUTHORIZED');
    expect(row.status).toBe('pending');
  });

  it('402 mid-run → submitting stops, the rest stay pending (INSUFFICIENT_BALANCE)', async () => {
    api([
      { status: 200, body: txn('a', 'completed', 'TXN1') },
      { status: 402, body: err('INSUFFICIENT_BALANCE') },
    ]);
    const { snap, result } = await run({ concurrency: 1 }, [
      'A,01712345678,100',
      'B,01812345678,100',
      'C,01912345678,100',
    ]);
    expect(result.stopped?.code).toBe('INSUFFICIENT_BALANCE');
    expect(snap.rows.slice(1).map((r) => r.status)).toEqual(['completed', 'pending', 'pending']);
    expect(posts).toHaveLength(2);
  });

  it('a balance short of the batch stops before any POST', async () => {
    api([], 150);
    const { snap, result } = await run({}, ['A,01712345678,100', 'B,01812345678,100']);
    expect(result.stopped?.code).toBe('INSUFFICIENT_BALANCE');
    expect(result.stopped?.message).toContain('by 50 BDT');
    expect(snap.rows.slice(1).map((r) => r.status)).toEqual(['pending', 'pending']);
    expect(posts).toHaveLength(0);
  });

  it('404 on /recharge (wrong base URL) stops the run instead of failing every row', async () => {
    api([{ status: 404, body: err('NOT_FOUND') }]);
    const { row, result } = await run();
    expect(result.stopped?.code).toBe('API_ERROR');
    expect(row.status).toBe('pending');
  });

  it('a transaction still processing at --poll-timeout stays processing (POLL_TIMEOUT)', async () => {
    const pool = api([{ status: 200, body: txn('x', 'processing', 'TXN8') }]);
    pool
      .intercept({ path: '/api/v1/transaction/TXN8', method: 'GET' })
      .reply(200, txn('x', 'processing', 'TXN8'))
      .persist();
    const { row, result } = await run({ pollTimeoutMs: 30, pollEveryMs: 5 });
    expect(row.status).toBe('processing');
    expect(result.stopped?.code).toBe('POLL_TIMEOUT');
  });

  it('an ambiguous attempt then a clear refusal under --reference-dedup stays unknown: the first may have worked', async () => {
    api([
      { status: 500, body: err('INTERNAL_ERROR') },
      { status: 402, body: err('INSUFFICIENT_BALANCE') },
    ]);
    const { row, result } = await run({ referenceDedup: true });
    expect(result.stopped?.code).toBe('INSUFFICIENT_BALANCE');
    expect(row.status).toBe('unknown');
    expect(posts).toHaveLength(2);
  });

  it('a POST answered 200 with status failed is failed at once, with the reason', async () => {
    api([
      {
        status: 200,
        body: {
          success: true,
          data: {
            ...txn('x', 'failed', 'TXN4').data,
            error_code: 'OPERATOR_FAILURE',
            message: 'operator down',
          },
        },
      },
    ]);
    const { row } = await run();
    expect(row.status).toBe('failed');
    expect(row.txn).toBe('TXN4');
    expect(row.code).toBe('OPERATOR_FAILURE');
    expect(row.msg).toBe('operator down');
  });
});

describe('results CSV', () => {
  it('keeps a malformed row whole, guards every input cell, and writes the numbers and amounts it parsed as they are', async () => {
    api([{ status: 200, body: txn('x', 'completed', 'TXN1') }]);
    const { result } = await run({}, [
      '"=HYPERLINK(1)",+8801712345678,100',
      'B,01812345678,100,surplus,more',
    ]);
    const text = readFileSync(result.results, 'utf8');
    expect(text.startsWith('\ufeff')).toBe(true); // a UTF-8 BOM by default, for Excel
    const lines = text.slice(1).trim().split('\n');
    // the input's own `amount` column collides with ours and is renamed (SPEC §4)
    expect(lines[0]).toBe(
      'name,mobile,input_amount,row,status,normalized_number,operator,amount,reference,transaction_id,error_code,error_message,submitted_at,completed_at',
    );
    // an input cell is guarded even when it parsed (`+880…` would be a formula); normalized_number is ours
    expect(lines[1]).toMatch(/^'=HYPERLINK\(1\),'\+8801712345678,100,1,completed,01712345678,/);
    expect(lines[2]).toMatch(/^B,01812345678,"100,surplus,more",2,invalid,/);
    expect(lines[2]).toContain('MALFORMED_ROW');
  });
});

describe('before anything is sent', () => {
  it('refuses an --out folder that does not exist (exit 2), with no POST', async () => {
    api([{ status: 200 }]);
    const err = await run({ out: join(dir, 'missing', 'results.csv') }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'USAGE' });
    expect(String((err as Error).message)).toContain('--out');
    expect(posts).toHaveLength(0);
  });
});
