/**
 * Money safety under kill -9 (SPEC §5): the CLI is killed at random moments, then run again
 * until the job finishes. The sandbox's ledger — what the API really charged — must show no
 * number charged twice, and every transaction it made must be in the results, or its row
 * must be `unknown` (sent, answer lost with the process). Unknown rows are at most what was
 * in flight at each kill.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { mulberry32, startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import {
  KEY,
  apiEnv,
  fastArgs,
  maybeReadCsv,
  readCsv,
  runCli,
  startCli,
  tempDir,
  writeBatch,
} from './helpers.js';

let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.close();
  sb = undefined;
});

const ROWS = 200;

async function waitForLedgerGrowth(s: Sandbox, from: number, maxMs: number): Promise<void> {
  for (let waited = 0; waited < maxMs && s.ledger().length <= from; waited += 20)
    await new Promise((r) => setTimeout(r, 20));
}

describe('kill -9 at random moments, then run again', () => {
  it.each([
    ['plain', 101, [] as string[]],
    ['with dropped connections and --reference-dedup', 202, ['--reference-dedup']],
  ])('%s: nothing charged twice, no transaction id lost', async (_name, seed, extra) => {
    const rnd = mulberry32(seed);
    sb = await startSandbox({
      apiKey: KEY,
      rateLimit: '3000/min',
      completeAfterMs: 150,
      balance: 10_000_000,
      seed,
      ...(extra.length ? { dedup: 'replay' as const, dropRate: 0.05, errorRate: 0.05 } : {}),
    });
    const dir = tempDir('rb-crash-');
    const { path } = writeBatch(dir, ROWS, 'crash.csv', seed);
    const state = join(dir, 'state');
    const args = ['run', path, ...fastArgs(state, '3000/min'), '--concurrency', '4', ...extra];
    const kills = 6;
    let killedWhileSending = 0;
    for (let k = 0; k < kills; k++) {
      const run = startCli(args, apiEnv(sb.url));
      const before = sb.ledger().length;
      // a random moment once the process is sending: one kill in three lands in start-up
      // (lock, planning, balance), the others mid-batch, between any two instructions
      const sending = rnd() < 0.33 ? Promise.resolve() : waitForLedgerGrowth(sb, before, 10_000);
      await sending;
      await new Promise((r) => setTimeout(r, rnd() * 600));
      run.child.kill('SIGKILL');
      const r = await run.done;
      if (r.signal === 'SIGKILL' && sb.ledger().length > before) killedWhileSending++;
      if (r.code === 0 || r.code === 1) break; // finished before the kill
    }
    // finish the job
    let final = await runCli(args, apiEnv(sb.url));
    for (let i = 0; i < 3 && final.code === 4; i++) final = await runCli(args, apiEnv(sb.url));
    expect([0, 1]).toContain(final.code);

    const results = readCsv(join(dir, 'crash.results.csv'));
    expect(results).toHaveLength(ROWS);
    const byNumber = new Map<string, number>();
    for (const e of sb.ledger()) byNumber.set(e.mobile_number, (byNumber.get(e.mobile_number) ?? 0) + 1);
    const doubled = [...byNumber.entries()].filter(([, n]) => n > 1);
    expect(doubled, 'numbers charged more than once').toEqual([]);

    const byRef = new Map(results.map((r) => [r.reference, r]));
    for (const e of sb.ledger()) {
      const row = byRef.get(e.reference ?? '');
      expect(row, `ledger reference ${e.reference} belongs to a row`).toBeDefined();
      if (row!.status !== 'unknown') expect(row!.transaction_id).toBe(e.transaction_id);
    }
    const unknown = results.filter((r) => r.status === 'unknown');
    // only what was in flight when a process died (concurrency 4 per kill)
    expect(unknown.length).toBeLessThanOrEqual(4 * kills);
    for (const r of results) expect(['completed', 'unknown', 'failed']).toContain(r.status);
    // everything not unknown is completed: the sandbox fails nothing here
    expect(results.filter((r) => r.status === 'completed').length + unknown.length).toBe(ROWS);
    // a failed CSV only when a row failed: none is left with nothing in it
    expect((maybeReadCsv(join(dir, 'crash.failed.csv')) ?? []).length).toBe(
      results.filter((r) => r.status === 'failed').length,
    );
    // unknown rows may have been paid: listed to check, apart from the rows to feed back
    expect((maybeReadCsv(join(dir, 'crash.unknown.csv')) ?? []).map((r) => r.reference)).toEqual(
      unknown.map((r) => r.reference),
    );
    // the test means something only if processes really died mid-batch
    expect(killedWhileSending).toBeGreaterThanOrEqual(2);
  });
});
