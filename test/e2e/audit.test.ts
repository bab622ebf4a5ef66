/**
 * `--log-file` against the sandbox: the audit records agree with the sandbox's ledger for
 * every row, several jobs can append to one file at once, and the key is never in it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { accountId } from '../../src/api/account.js';
import { KEY, apiEnv, fastArgs, readCsv, runCli, startCli, tempDir, writeBatch } from './helpers.js';

let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.close();
  sb = undefined;
});

type Rec = Record<string, unknown> & { event: string; job: string; row?: number };

function records(file: string): Rec[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Rec);
}

/** The last record of each row of `job`: its state as the audit log tells it. */
function lastByRow(recs: Rec[], job: string): Map<number, Rec> {
  const m = new Map<number, Rec>();
  for (const r of recs) if (r.job === job && typeof r.row === 'number') m.set(r.row, r);
  return m;
}

describe('audit log', () => {
  it('one record per row state change; the final records agree with the ledger for every row; job start and stop; never the key', async () => {
    sb = await startSandbox({
      apiKey: KEY,
      rateLimit: '6000/min',
      completeAfterMs: 150,
      balance: 1_000_000,
      failRate: 0.2,
      seed: 5,
    });
    const dir = tempDir();
    const { path, rows } = writeBatch(dir, 30);
    const log = join(dir, 'logs', 'audit.jsonl');
    const r = await runCli(
      ['run', path, ...fastArgs(join(dir, 'state')), '--log-file', log, '--json'],
      apiEnv(sb.url),
    );
    expect(r.code).toBe(1);
    const job = JSON.parse(r.stdout).job as string;
    const text = readFileSync(log, 'utf8');
    expect(text).not.toContain(KEY);
    const recs = records(log);
    expect(recs[0]).toMatchObject({
      event: 'job:started',
      job,
      account: accountId(sb.url, KEY),
      rows: 30,
      pending: 30,
    });
    expect(recs.at(-1)).toMatchObject({ event: 'job:finished', job, stopped: null });

    const ledger = sb.ledger();
    expect(ledger).toHaveLength(30);
    const byTxn = new Map(ledger.map((e) => [e.transaction_id, e]));
    const last = lastByRow(recs, job);
    expect(last.size).toBe(30);
    const results = readCsv(join(dir, 'batch.results.csv'));
    for (let i = 1; i <= 30; i++) {
      const rec = last.get(i)!;
      const entry = byTxn.get(String(rec.transaction_id));
      expect(entry, `row ${i}: its audited transaction is in the ledger`).toBeDefined();
      expect(rec.status).toBe(entry!.status);
      expect(rec.reference).toBe(entry!.reference);
      expect(rec.amount).toBe(entry!.amount);
      expect(entry!.mobile_number).toBe(rows[i - 1]!.number);
      expect(rec.error_code === null).toBe(entry!.status === 'completed');
      expect(rec.transaction_id).toBe(results[i - 1]!.transaction_id);
      // the row's path: intent, then the API's answer, then (if it was processing) the final state
      const path = recs.filter((x) => x.job === job && x.row === i).map((x) => x.event);
      expect(path[0]).toBe('row:submitted');
      expect(path.at(-1)).toBe('row:final');
    }
  });

  it('a balance that runs out mid-run: the refused rows are recorded as released (pending again), and the stop', async () => {
    sb = await startSandbox({ apiKey: KEY, rateLimit: '6000/min', completeAfterMs: 100, balance: 400 });
    const dir = tempDir();
    const { path } = writeBatch(dir, 12);
    const log = join(dir, 'audit.jsonl');
    const r = await runCli(
      [
        'run',
        path,
        ...fastArgs(join(dir, 'state')),
        '--allow-partial',
        '--concurrency',
        '1',
        '--log-file',
        log,
        '--json',
      ],
      apiEnv(sb.url),
    );
    expect(r.code).toBe(4);
    const job = JSON.parse(r.stdout).job as string;
    const recs = records(log);
    const paid = new Map(sb.ledger().map((e) => [e.reference, e]));
    expect(paid.size).toBeGreaterThan(0);
    expect(paid.size).toBeLessThan(12);
    const released = recs.filter((x) => x.event === 'row:released');
    expect(released.length).toBeGreaterThan(0);
    for (const [row, rec] of lastByRow(recs, job)) {
      const entry = paid.get(String(rec.reference));
      if (entry) expect(rec.status, `row ${row}`).toBe(entry.status);
      else expect([rec.event, rec.status], `row ${row}`).toEqual(['row:released', 'pending']);
    }
    expect(recs.find((x) => x.event === 'job:stopping')).toMatchObject({ code: 'INSUFFICIENT_BALANCE' });
    expect(recs.at(-1)).toMatchObject({ event: 'job:finished', stopped: 'INSUFFICIENT_BALANCE' });
  });

  it('two jobs appending to the same file at the same time: every line is one whole record of one of them', async () => {
    sb = await startSandbox({ apiKey: KEY, rateLimit: '6000/min', completeAfterMs: 100, balance: 1_000_000 });
    const dir = tempDir();
    const a = writeBatch(dir, 40, 'a.csv', 1);
    const b = writeBatch(dir, 40, 'b.csv', 2);
    const log = join(dir, 'audit.jsonl');
    const runs = [a, b].map(
      (f) =>
        startCli(
          ['run', f.path, ...fastArgs(join(dir, 'state')), '--log-file', log, '--json'],
          apiEnv(sb!.url),
        ).done,
    );
    const [ra, rb] = await Promise.all(runs);
    expect([ra!.code, rb!.code]).toEqual([0, 0]);
    const recs = records(log); // throws on a torn line
    for (const r of [ra!, rb!]) {
      const job = JSON.parse(r.stdout).job as string;
      const last = lastByRow(recs, job);
      expect(last.size).toBe(40);
      expect([...last.values()].every((x) => x.status === 'completed')).toBe(true);
      expect(recs.filter((x) => x.job === job && x.event === 'job:finished')).toHaveLength(1);
    }
  });

  it('a --log-file that cannot be opened: exit 2, one line, nothing sent', async () => {
    sb = await startSandbox({ apiKey: KEY, rateLimit: '6000/min', completeAfterMs: 100 });
    const dir = tempDir();
    const { path } = writeBatch(dir, 3);
    const r = await runCli(['run', path, ...fastArgs(join(dir, 'state')), '--log-file', dir], apiEnv(sb.url));
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/audit log/);
    expect(sb.stats().requests).toBe(0);
  });
});
