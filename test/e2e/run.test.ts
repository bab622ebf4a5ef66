/**
 * The built CLI against the sandbox on port 0: whole batches, outcomes, stops and resumes,
 * with the sandbox's own ledger as the judge of what was charged.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Sandbox } from '../../src/sandbox/index.js';
import {
  apiEnv,
  fastArgs,
  KEY,
  maybeReadCsv,
  readCsv,
  runCli,
  sandboxPerTest,
  startCli,
  tempDir,
  writeBatch,
} from './helpers.js';

const sandbox = sandboxPerTest({ completeAfterMs: 200 });

/** How many committed transactions the ledger holds per mobile number. */
function chargesPerNumber(s: Sandbox): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of s.ledger()) m.set(e.mobile_number, (m.get(e.mobile_number) ?? 0) + 1);
  return m;
}

describe('run', () => {
  it('a 120-row batch under an enforced rate limit with operator failures: every row completed or failed, ids match the ledger, exit 1', async () => {
    const s = await sandbox({ failRate: 0.1, rateLimit: '3000/min', seed: 3 });
    const dir = tempDir();
    const { path, rows } = writeBatch(dir, 120);
    const state = join(dir, 'state');
    const r = await runCli(['run', path, ...fastArgs(state, '3000/min'), '--json'], apiEnv(s.url));
    expect(r.stderr).not.toContain(KEY);
    expect(r.stdout).not.toContain(KEY);
    expect(r.code).toBe(1);
    const summary = JSON.parse(r.stdout);
    expect(summary.exit_code).toBe(1);
    expect(summary.counts.completed + summary.counts.failed).toBe(120);
    expect(summary.counts.failed).toBeGreaterThan(0);

    const results = readCsv(join(dir, 'batch.results.csv'));
    expect(results).toHaveLength(120);
    const ledger = new Map(s.ledger().map((e) => [e.transaction_id, e]));
    expect(ledger.size).toBe(120);
    results.forEach((res, i) => {
      expect(res['Employee ID']).toBe(rows[i]!.id); // input order and extra columns carried through
      expect(res.Name).toBe(`Employee ${i}`);
      expect(res.row).toBe(String(i + 1));
      expect(res.normalized_number).toBe(rows[i]!.number);
      expect(res.amount).toBe(String(rows[i]!.amount));
      const entry = ledger.get(res.transaction_id!);
      expect(entry, `row ${i + 1} transaction in the ledger`).toBeDefined();
      expect(entry!.mobile_number).toBe(rows[i]!.number);
      expect(entry!.reference).toBe(res.reference);
      expect(res.status).toBe(entry!.status);
    });
    // CSV-injection guard on free text
    expect(results[0]!.Department).toBe("'=Ops");
    const failed = readCsv(join(dir, 'batch.failed.csv'));
    expect(failed.map((f) => f['Employee ID'])).toEqual(
      results.filter((x) => x.status === 'failed').map((x) => x['Employee ID']),
    );
    expect(Object.keys(failed[0]!)).toEqual([
      'Employee ID',
      'Name',
      'Department',
      'Mobile Number',
      'Amount (BDT)',
      'error_code',
      'error_message',
    ]);
    // the limiter kept the server's 429s rare
    expect(s.stats().rateLimited).toBeLessThanOrEqual(2);
  });

  it('refuses to run a finished file again (exit 2, names the job) and sends nothing', async () => {
    const s = await sandbox();
    const dir = tempDir();
    const { path } = writeBatch(dir, 5);
    const state = join(dir, 'state');
    expect((await runCli(['run', path, ...fastArgs(state)], apiEnv(s.url))).code).toBe(0);
    const before = s.stats().recharges;
    const again = await runCli(['run', path, ...fastArgs(state)], apiEnv(s.url));
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/batch-[0-9a-f]{8}/);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
    expect(s.stats().recharges).toBe(before);
    // a distinct --job alone makes a new job whose rows are skipped as already paid (SPEC §5a)
    const renamed = await runCli(
      ['run', path, ...fastArgs(state), '--job', 'bonus-again', '--json'],
      apiEnv(s.url),
    );
    expect(renamed.code).toBe(0);
    expect(JSON.parse(renamed.stdout).counts.skipped).toBe(5);
    expect(s.stats().recharges).toBe(before);
    // --allow-repeat is the explicit way to pay it again
    const paid = await runCli(
      ['run', path, ...fastArgs(state), '--job', 'bonus-again-2', '--allow-repeat'],
      apiEnv(s.url),
    );
    expect(paid.code).toBe(0);
    expect(s.stats().recharges).toBe(before + 5);
  });

  it('balance short before the start: exit 4 with the shortfall, nothing sent; --allow-partial goes ahead', async () => {
    const dir = tempDir();
    const { path, rows } = writeBatch(dir, 6);
    const need = rows.reduce((a, r) => a + r.amount, 0);
    const enough = rows[0]!.amount; // pays the first row only
    const s = await sandbox({ balance: enough });
    const state = join(dir, 'state');
    const r = await runCli(['run', path, ...fastArgs(state)], apiEnv(s.url));
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`by ${(need - enough).toLocaleString('en-US')} BDT`);
    expect(s.ledger()).toHaveLength(0);
    const results = readCsv(join(dir, 'batch.results.csv'));
    expect(results.every((x) => x.status === 'pending')).toBe(true);

    const partial = await runCli(
      ['run', path, ...fastArgs(state), '--allow-partial', '--concurrency', '1'],
      apiEnv(s.url),
    );
    expect(partial.code).toBe(4); // the 402 on the second row stops it
    expect(s.ledger().map((e) => e.mobile_number)).toEqual([rows[0]!.number]);
    expect(readCsv(join(dir, 'batch.results.csv')).map((x) => x.status)).toEqual([
      'completed',
      'pending',
      'pending',
      'pending',
      'pending',
      'pending',
    ]);
  });

  it('402 mid-run: stops with the rest pending (exit 4); after a top-up, run again finishes with nothing doubled', async () => {
    const s = await sandbox();
    const dir = tempDir();
    const { path, rows } = writeBatch(dir, 40);
    const half = rows.slice(0, 20).reduce((a, r) => a + r.amount, 0);
    const state = join(dir, 'state');
    s.setBalance(half);
    const r = await runCli(['run', path, ...fastArgs(state), '--allow-partial', '--json'], apiEnv(s.url));
    expect(r.code).toBe(4);
    const summary = JSON.parse(r.stdout);
    expect(summary.stopped.code).toBe('INSUFFICIENT_BALANCE');
    expect(summary.counts.pending).toBeGreaterThan(0);
    const mid = readCsv(join(dir, 'batch.results.csv'));
    expect(mid.filter((x) => x.status === 'pending').length).toBe(summary.counts.pending);

    s.setBalance(1_000_000);
    const again = await runCli(['run', path, ...fastArgs(state)], apiEnv(s.url));
    expect(again.code).toBe(0);
    const results = readCsv(join(dir, 'batch.results.csv'));
    expect(results.every((x) => x.status === 'completed')).toBe(true);
    expect(s.ledger()).toHaveLength(40);
    expect([...chargesPerNumber(s).values()].every((n) => n === 1)).toBe(true);
  });

  it('500s and dropped connections without --reference-dedup: ambiguous rows are unknown, never resent; retry --include-unknown is refused without --reference-dedup and, with it, against a replaying API resolves them', async () => {
    const s = await sandbox({ errorRate: 0.1, dropRate: 0.1, seed: 11, dedup: 'replay' });
    const dir = tempDir();
    const { path } = writeBatch(dir, 60);
    const state = join(dir, 'state');
    const r = await runCli(['run', path, ...fastArgs(state), '--json'], apiEnv(s.url));
    expect(r.code).toBe(1);
    const summary = JSON.parse(r.stdout);
    expect(summary.counts.unknown).toBeGreaterThan(0);
    expect([...chargesPerNumber(s).values()].every((n) => n === 1)).toBe(true);
    const unknownRows = readCsv(join(dir, 'batch.results.csv')).filter((x) => x.status === 'unknown');
    // unknown rows may have been paid: they go to their own file to check, never to the one to feed back
    expect(maybeReadCsv(join(dir, 'batch.failed.csv')) ?? []).toHaveLength(summary.counts.failed);
    expect(readCsv(join(dir, 'batch.unknown.csv')).map((x) => x.reference)).toEqual(
      unknownRows.map((x) => x.reference),
    );

    s.configure({ errorRate: 0, dropRate: 0 });
    // without the declaration that the API dedups references, resending could pay twice: refused
    const charged = s.ledger().length;
    const refused = await runCli(
      ['retry', summary.job, '--include-unknown', ...fastArgs(state)],
      apiEnv(s.url),
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--reference-dedup');
    expect(refused.stderr).toContain('Nothing was sent');
    expect(refused.stderr).not.toMatch(/\n\s+at /); // one line, no stack trace
    expect(s.ledger()).toHaveLength(charged);
    const retry = await runCli(
      ['retry', summary.job, '--include-unknown', '--reference-dedup', ...fastArgs(state), '--json'],
      apiEnv(s.url),
    );
    expect(retry.code).toBe(0);
    const after = readCsv(join(dir, 'batch.results.csv'));
    expect(after.every((x) => x.status === 'completed')).toBe(true);
    expect(existsSync(join(dir, 'batch.unknown.csv'))).toBe(false); // none left: the stale one is gone
    // the replaying API returned the original transaction: one charge per number
    expect([...chargesPerNumber(s).values()].every((n) => n === 1)).toBe(true);
    expect(s.ledger()).toHaveLength(60);
    const ids = new Set(s.ledger().map((e) => e.transaction_id));
    expect(after.every((x) => ids.has(x.transaction_id!))).toBe(true);
  });

  it('under 10% 500s and 5% dropped connections with --reference-dedup: every row completes, none twice', async () => {
    const s = await sandbox({ errorRate: 0.1, dropRate: 0.05, seed: 5, dedup: 'replay' });
    const dir = tempDir();
    const { path } = writeBatch(dir, 100);
    const state = join(dir, 'state');
    const r = await runCli(['run', path, ...fastArgs(state), '--reference-dedup', '--json'], apiEnv(s.url));
    expect(r.code).toBe(0);
    const results = readCsv(join(dir, 'batch.results.csv'));
    expect(results.every((x) => x.status === 'completed')).toBe(true);
    expect(s.ledger()).toHaveLength(100);
    expect([...chargesPerNumber(s).values()].every((n) => n === 1)).toBe(true);
    expect(s.stats().byStatus[500] ?? 0).toBeGreaterThan(0);
  });

  it('retry: failed rows go again as a new attempt with new references', async () => {
    const s = await sandbox({ failRate: 0.3, seed: 9 });
    const dir = tempDir();
    const { path } = writeBatch(dir, 30);
    const state = join(dir, 'state');
    const first = JSON.parse(
      (await runCli(['run', path, ...fastArgs(state), '--json'], apiEnv(s.url))).stdout,
    );
    expect(first.counts.failed).toBeGreaterThan(0);
    const before = readCsv(join(dir, 'batch.results.csv'));
    s.configure({ failRate: 0 });
    const retry = await runCli(['retry', first.job, ...fastArgs(state), '--json'], apiEnv(s.url));
    expect(retry.code).toBe(0);
    const after = readCsv(join(dir, 'batch.results.csv'));
    after.forEach((row, i) => {
      if (before[i]!.status === 'failed') {
        expect(row.reference).not.toBe(before[i]!.reference);
        expect(row.transaction_id).not.toBe(before[i]!.transaction_id);
      } else {
        expect(row.transaction_id).toBe(before[i]!.transaction_id);
      }
      expect(row.status).toBe('completed');
    });
    // failed attempts were refunded; each number has exactly one completed charge
    const completed = s.ledger().filter((e) => e.status === 'completed');
    expect(new Set(completed.map((e) => e.mobile_number)).size).toBe(30);
    expect(completed).toHaveLength(30);
  });

  it('a second process on a running job exits 2 naming the holder pid', async () => {
    const s = await sandbox({ rateLimit: '600/min' });
    const dir = tempDir();
    const { path } = writeBatch(dir, 40);
    const state = join(dir, 'state');
    const first = startCli(['run', path, ...fastArgs(state, '300/min')], apiEnv(s.url));
    // wait until the first process holds the lock and is sending
    for (let i = 0; i < 100 && s.ledger().length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    const second = await runCli(['run', path, ...fastArgs(state)], apiEnv(s.url));
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`pid ${first.child.pid}`);
    first.child.kill('SIGINT');
    const r1 = await first.done;
    expect(r1.code).toBe(4);
    // resumable: run again and it finishes
    const done = await runCli(['run', path, ...fastArgs(state)], apiEnv(s.url));
    expect(done.code).toBe(0);
    expect([...chargesPerNumber(s).values()].every((n) => n === 1)).toBe(true);
    expect(s.ledger()).toHaveLength(40);
  });

  it('SIGINT: stops submitting, writes results, exit 4; status and jobs report it; resume finishes it', async () => {
    const s = await sandbox({ rateLimit: '600/min' });
    const dir = tempDir();
    const { path } = writeBatch(dir, 30);
    const state = join(dir, 'state');
    const run = startCli(['run', path, ...fastArgs(state, '300/min')], apiEnv(s.url));
    for (let i = 0; i < 100 && s.ledger().length < 3; i++) await new Promise((r) => setTimeout(r, 50));
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(4);
    const mid = readCsv(join(dir, 'batch.results.csv'));
    expect(mid.some((x) => x.status === 'pending')).toBe(true);

    const jobs = JSON.parse((await runCli(['jobs', '--state-dir', state, '--json'])).stdout);
    expect(jobs.jobs).toHaveLength(1);
    expect(jobs.jobs[0].state).toBe('stopped');
    const job = jobs.jobs[0].job as string;
    const status = JSON.parse((await runCli(['status', job, '--state-dir', state, '--json'])).stdout);
    expect(status.counts.pending).toBeGreaterThan(0);
    expect(status.eta_seconds).toBeGreaterThan(0);

    const resumed = await runCli(['resume', job, ...fastArgs(state)], apiEnv(s.url));
    expect(resumed.code).toBe(0);
    expect(s.ledger()).toHaveLength(30);
    expect([...chargesPerNumber(s).values()].every((n) => n === 1)).toBe(true);
    // report rewrites the same results from the checkpoint
    const out = join(dir, 'again.results.csv');
    expect((await runCli(['report', job, '--state-dir', state, '--out', out])).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(join(dir, 'batch.results.csv'), 'utf8'));
  });

  it('invalid rows are never sent, reported as invalid, exit 1; --max-total refuses before sending', async () => {
    const s = await sandbox();
    const dir = tempDir();
    const path = join(dir, 'mixed.csv');
    writeFileSync(
      path,
      'name,phone,taka\nA,01712345678,100\nB,12345,100\nC,01812345678,5000\nD,+8801912345678,৫০\n',
    );
    const state = join(dir, 'state');
    const capped = await runCli(['run', path, ...fastArgs(state), '--max-total', '100'], apiEnv(s.url));
    expect(capped.code).toBe(2);
    expect(s.ledger()).toHaveLength(0);
    const r = await runCli(['run', path, ...fastArgs(state), '--json'], apiEnv(s.url));
    expect(r.code).toBe(1);
    const results = readCsv(join(dir, 'mixed.results.csv'));
    expect(results.map((x) => x.status)).toEqual(['completed', 'invalid', 'invalid', 'completed']);
    expect(results[1]!.error_code).toBe('INVALID_NUMBER');
    expect(results[2]!.error_code).toBe('AMOUNT_OUT_OF_RANGE');
    expect(results[3]!.normalized_number).toBe('01912345678');
    expect(results[3]!.amount).toBe('50');
    expect(
      s
        .ledger()
        .map((e) => e.mobile_number)
        .sort(),
    ).toEqual(['01712345678', '01912345678']);
  });
});
