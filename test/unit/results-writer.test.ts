/**
 * The results writer is injected (src/run.ts, job/outputs.ts): a library user's own writer
 * receives every row's final state and the job's output paths, and no CSV is written behind
 * its back; without one, the CSVs of SPEC §4 are written.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MockAgent } from 'undici';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlsamiflexiClient } from '../../src/api/client.js';
import { runJob } from '../../src/run.js';
import type { ResultsWriter } from '../../src/job/outputs.js';

const ORIGIN = 'http://api.test';
const OPERATORS = [{ id: 1, name: 'Grameenphone', code: 'GP', min_amount: 10, max_amount: 1000 }];

let agent: MockAgent;
let dir: string;

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  dir = mkdtempSync(join(tmpdir(), 'rb-writer-'));
  const pool = agent.get(ORIGIN);
  pool
    .intercept({ path: '/api/v1/balance', method: 'GET' })
    .reply(200, { success: true, data: { balance: 1_000_000, currency: 'BDT' } })
    .persist();
  pool
    .intercept({ path: '/api/v1/recharge', method: 'POST' })
    .reply((opts) => {
      const body = JSON.parse(String(opts.body)) as { reference: string; mobile_number: string };
      return {
        statusCode: 200,
        data: {
          success: true,
          data: {
            transaction_id: `TXN-${body.reference}`,
            status: 'completed',
            mobile_number: body.mobile_number,
            amount: 100,
            operator: 'Grameenphone',
            reference: body.reference,
            created_at: '2026-01-01 00:00:00',
          },
        },
      };
    })
    .persist();
});
afterEach(async () => {
  await agent.close();
});

function options(csv: string) {
  return {
    csv,
    stateDir: join(dir, 'state'),
    client: new AlsamiflexiClient({ apiKey: 'k', baseUrl: `${ORIGIN}/api/v1`, dispatcher: agent }),
    operators: OPERATORS,
    pollAfterMs: 0,
    pollEveryMs: 1,
  };
}

function input(): string {
  const csv = join(dir, 'pay.csv');
  writeFileSync(csv, 'name,mobile,amount\nA,01712345678,100\nB,01712345679,100\n');
  return csv;
}

describe('runJob results writer', () => {
  it("hands every row's final state and the job's output paths to a writer passed in, and writes no CSV itself", async () => {
    const calls: Parameters<ResultsWriter>[] = [];
    const writer: ResultsWriter = async (...args) => {
      calls.push(args);
      return { results: 'db://results', failed: 'db://failed', unknown: null, inputChanged: null };
    };
    const csv = input();
    const result = await runJob({ ...options(csv), writeResults: writer });
    expect(calls).toHaveLength(1);
    const [meta, rows, outputs] = calls[0]!;
    expect(meta.job).toBe(result.job);
    expect(outputs.results).toBe(join(dir, 'pay.results.csv'));
    expect(rows.filter(Boolean).map((r) => [r.row, r.status, r.txn?.startsWith('TXN-')])).toEqual([
      [1, 'completed', true],
      [2, 'completed', true],
    ]);
    expect(result.results).toBe('db://results');
    expect(existsSync(join(dir, 'pay.results.csv'))).toBe(false);
    expect(existsSync(join(dir, 'pay.failed.csv'))).toBe(false);
  });

  it('writes the results CSV beside the input when no writer is passed, and no failed CSV when no row failed', async () => {
    const csv = input();
    const result = await runJob(options(csv));
    expect(result.results).toBe(join(dir, 'pay.results.csv'));
    const lines = readFileSync(result.results, 'utf8').trim().split(/\r?\n/);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain('completed');
    expect(existsSync(join(dir, 'pay.failed.csv'))).toBe(false);
    expect(result.failed).toBeNull();
  });
});
