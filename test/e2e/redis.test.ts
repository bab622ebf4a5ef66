/**
 * --redis: two CLI processes paying two files with one API key share one rate limit: together
 * they send no faster than the limit — without --redis they would send twice as fast.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { redisMissing, startRedis, type TestRedis } from '../support/redis.js';
import { apiEnv, fastArgs, readCsv, startCli, tempDir, writeBatch, KEY } from './helpers.js';

const NO_REDIS = process.env.RB_TEST_NO_REDIS === '1';
let redis: TestRedis;
let sb: Sandbox;
beforeAll(async () => {
  if (redisMissing) return;
  redis = await startRedis();
});
afterAll(async () => {
  await sb?.close();
  await redis?.stop();
});

describe.skipIf(redisMissing)('--redis', () => {
  it('two processes on one API key send no faster together than the one account limit', async () => {
    // the server does not throttle here: what is measured is what the two processes send together
    sb = await startSandbox({ apiKey: KEY, rateLimit: null, completeAfterMs: 100, balance: 1e9 });
    const dir = tempDir();
    const a = writeBatch(dir, 40, 'a.csv', 1);
    const b = writeBatch(dir, 40, 'b.csv', 2);
    const args = (csv: string, extra = NO_REDIS ? [] : ['--redis', redis.url]) => [
      'run',
      csv,
      ...fastArgs(join(dir, 'state'), '20/s'),
      ...extra,
    ];
    const runs = [startCli(args(a.path), apiEnv(sb.url)), startCli(args(b.path), apiEnv(sb.url))];
    const [ra, rb] = await Promise.all(runs.map((r) => r.done));
    expect(ra!.code, ra!.stderr).toBe(0);
    expect(rb!.code, rb!.stderr).toBe(0);
    expect(readCsv(join(dir, 'a.results.csv')).every((r) => r.status === 'completed')).toBe(true);
    expect(readCsv(join(dir, 'b.results.csv')).every((r) => r.status === 'completed')).toBe(true);
    // the busiest second: each process alone paces itself at the full 20/s, so unshared
    // (RB_TEST_NO_REDIS=1) the two send about 40 in some second; shared, about 20
    const at = sb
      .requestLog()
      .map((r) => r.at)
      .sort((x, y) => x - y);
    let busiest = 0;
    for (let i = 0, j = 0; i < at.length; i++) {
      while (at[j]! <= at[i]! - 1000) j++;
      busiest = Math.max(busiest, i - j + 1);
    }
    expect(busiest, `busiest second: ${busiest} requests`).toBeLessThanOrEqual(24);
    expect(sb.ledger()).toHaveLength(80);
  });
});
