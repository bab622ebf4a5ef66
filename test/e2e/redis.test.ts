/**
 * --redis: two CLI processes paying two files with one API key share one rate limit, so the
 * server enforcing that limit answers (almost) no 429s — without --redis they would send twice
 * the allowed rate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { apiEnv, fastArgs, readCsv, startCli, tempDir, writeBatch, KEY } from './helpers.js';

const NO_REDIS = process.env.RB_TEST_NO_REDIS === '1';
let redis: TestRedis;
let sb: Sandbox;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await sb?.close();
  await redis?.stop();
});

describe('--redis', () => {
  it('two processes on one API key stay within the one account limit together', async () => {
    sb = await startSandbox({ apiKey: KEY, rateLimit: '20/s', completeAfterMs: 100, balance: 1e9 });
    const dir = tempDir();
    const a = writeBatch(dir, 40, 'a.csv', 1);
    const b = writeBatch(dir, 40, 'b.csv', 2);
    const args = (csv: string, extra = NO_REDIS ? [] : ['--redis', redis.url]) => ['run', csv, ...fastArgs(join(dir, 'state'), '20/s'), ...extra];
    const runs = [startCli(args(a.path), apiEnv(sb.url)), startCli(args(b.path), apiEnv(sb.url))];
    const [ra, rb] = await Promise.all(runs.map((r) => r.done));
    expect(ra!.code, ra!.stderr).toBe(0);
    expect(rb!.code, rb!.stderr).toBe(0);
    expect(readCsv(join(dir, 'a.results.csv')).every((r) => r.status === 'completed')).toBe(true);
    expect(readCsv(join(dir, 'b.results.csv')).every((r) => r.status === 'completed')).toBe(true);
    const log = sb.requestLog();
    const limited = log.filter((r) => r.status === 429).length;
    // each process alone paces itself at the full 20/s: unshared (RB_TEST_NO_REDIS=1) about 5 % of
    // the requests are refused; shared, none should be
    expect(limited / log.length, `${limited} of ${log.length} requests answered 429`).toBeLessThanOrEqual(0.01);
    expect(sb.ledger()).toHaveLength(80);
  });
});
