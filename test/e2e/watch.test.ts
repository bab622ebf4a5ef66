/**
 * `watch <dir> --once` with the built CLI against the sandbox: files move to done/ or
 * rejected/, results beside them, the worst exit code, and nobody paid twice — judged by the
 * sandbox's ledger.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { FakeClock } from '../../src/clock.js';
import { KEY, apiEnv, fastArgs, readCsv, runCli, startCli, tempDir } from './helpers.js';

let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.close();
  sb = undefined;
});

/** A payroll file of `n` rows whose numbers no other file `k` shares. */
function payroll(dir: string, name: string, k: number, n: number, eol = '\n', bom = ''): string[] {
  const numbers = Array.from({ length: n }, (_, i) => `017${k}${String(i).padStart(7, '0')}`);
  const lines = [
    'Name,Mobile Number,Amount (BDT)',
    ...numbers.map((num, i) => `Staff ${k}-${i},${num},${50 + i}`),
  ];
  writeFileSync(join(dir, name), bom + lines.join(eol) + eol);
  return numbers;
}

function chargesPerNumber(s: Sandbox): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of s.ledger()) m.set(e.mobile_number, (m.get(e.mobile_number) ?? 0) + 1);
  return m;
}

const watchArgs = (state: string) => ['--once', '--settle', '0', ...fastArgs(state)];

describe('watch --once', () => {
  it('two good files, a broken one and a re-dropped copy of a finished file: moves, results, worst exit code, nobody paid twice', async () => {
    sb = await startSandbox({ apiKey: KEY, rateLimit: '6000/min', completeAfterMs: 100, balance: 1_000_000 });
    const root = tempDir();
    const inbox = join(root, 'incoming');
    mkdirSync(inbox);
    const state = join(root, 'state');

    // a first night: a.csv is paid and filed
    const a = payroll(inbox, 'a.csv', 1, 6);
    const first = await runCli(['watch', inbox, ...watchArgs(state), '--json'], apiEnv(sb.url));
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({
      exit_code: 0,
      files: [{ exit_code: 0, moved_to: 'done' }],
    });
    expect(readdirSync(join(inbox, 'done')).sort()).toEqual(['a.csv', 'a.results.csv']); // nothing failed: no failed CSV
    const paidA = s().ledger().length;
    expect(paidA).toBe(6);

    // the next night: two new files, a broken one, and a.csv dropped again
    const b = payroll(inbox, 'b.csv', 2, 5);
    const c = payroll(inbox, 'c.csv', 3, 4);
    writeFileSync(join(inbox, 'broken.csv'), 'Name,Mobile Number,Amount\nStaff,"01799999999,100\n');
    copyFileSync(join(inbox, 'done', 'a.csv'), join(inbox, 'a.csv'));
    const r = await runCli(['watch', inbox, ...watchArgs(state)], apiEnv(sb.url));
    expect(r.stderr).not.toContain(KEY);
    expect(r.code).toBe(2); // the worst of 0, 0, 2, 2

    // the good files are filed with their results beside them; results name every row
    const done = readdirSync(join(inbox, 'done')).sort();
    expect(done).toEqual(['a.csv', 'a.results.csv', 'b.csv', 'b.results.csv', 'c.csv', 'c.results.csv']);
    expect(readCsv(join(inbox, 'done', 'b.results.csv')).map((x) => [x.normalized_number, x.status])).toEqual(
      b.map((n) => [n, 'completed']),
    );
    expect(readCsv(join(inbox, 'done', 'c.results.csv')).map((x) => [x.normalized_number, x.status])).toEqual(
      c.map((n) => [n, 'completed']),
    );

    // the broken file and the copy are rejected, each with its one line
    expect(readdirSync(join(inbox, 'rejected')).sort()).toEqual([
      'a.csv',
      'a.error.txt',
      'broken.csv',
      'broken.error.txt',
    ]);
    const brokenLine = readFileSync(join(inbox, 'rejected', 'broken.error.txt'), 'utf8');
    expect(brokenLine.trim().split('\n')).toHaveLength(1);
    expect(brokenLine).toMatch(/quote/i);
    const copyLine = readFileSync(join(inbox, 'rejected', 'a.error.txt'), 'utf8');
    expect(copyLine.trim().split('\n')).toHaveLength(1);
    expect(copyLine).toMatch(/already run as job a-[0-9a-f]{8}/);
    expect(readdirSync(inbox).filter((f) => f.endsWith('.csv'))).toEqual([]);

    // nobody paid twice: every number of every file charged exactly once, by the ledger
    const charges = chargesPerNumber(s());
    for (const n of [...a, ...b, ...c]) expect(charges.get(n), n).toBe(1);
    expect(s().ledger()).toHaveLength(a.length + b.length + c.length);
  });

  it('an Excel re-save of a finished file (CRLF, BOM: other bytes, same rows) dropped again pays nobody twice (the account registry, SPEC §5a)', async () => {
    sb = await startSandbox({ apiKey: KEY, rateLimit: '6000/min', completeAfterMs: 100, balance: 1_000_000 });
    const root = tempDir();
    const inbox = join(root, 'incoming');
    mkdirSync(inbox);
    const state = join(root, 'state');
    const a = payroll(inbox, 'a.csv', 1, 5);
    expect((await runCli(['watch', inbox, ...watchArgs(state)], apiEnv(sb.url))).code).toBe(0);
    payroll(inbox, 'a.csv', 1, 5, '\r\n', '\uFEFF');
    // without --quiet: the file's line counts the skipped rows (all paid: nothing to settle)
    const loud = watchArgs(state).filter((x) => x !== '--quiet');
    const again = await runCli(['watch', inbox, ...loud], apiEnv(sb.url));
    expect(again.code).toBe(0); // every row skipped as already paid by a completed transaction (SPEC §5a)
    expect(again.stderr).toMatch(/a\.csv: exit 0, moved to done\/a-2\.csv — completed 0, .*, skipped 5\n/);
    const charges = chargesPerNumber(s());
    for (const n of a) expect(charges.get(n), `${n} charged once`).toBe(1);
    expect(existsSync(join(inbox, 'a.csv'))).toBe(false); // filed, not left to be run again
    const results = readCsv(join(inbox, 'done', 'a-2.results.csv'));
    expect(results.map((x) => x.status)).toEqual(a.map(() => 'skipped'));
  });

  it("a filed job stays its file's: report and resume find the input in done/ and write there, nobody paid twice", async () => {
    sb = await startSandbox({ apiKey: KEY, rateLimit: '6000/min', completeAfterMs: 100, balance: 1_000_000 });
    const root = tempDir();
    const inbox = join(root, 'incoming');
    mkdirSync(inbox);
    const state = join(root, 'state');
    payroll(inbox, 'a.csv', 5, 4);
    writeFileSync(join(inbox, 'a.csv'), 'Staff 5-bad,12345,60\n', { flag: 'a' }); // invalid: a failed CSV
    const watched = await runCli(['watch', inbox, ...watchArgs(state), '--json'], apiEnv(sb.url));
    expect(watched.code).toBe(1);
    const file = (JSON.parse(watched.stdout) as { files: { job: { job: string; results: string } }[] })
      .files[0]!;
    // the JSON names where the results are now, not where they were before the move
    expect(file.job.results).toBe(join(inbox, 'done', 'a.results.csv'));
    expect(s().ledger()).toHaveLength(4);

    // before: "the input … is missing" (exit 2), and a results file without names in incoming/
    const report = await runCli(['report', file.job.job, '--state-dir', state], {});
    expect(report.code, report.stderr).toBe(0);
    expect(report.stderr).not.toContain('gone');
    expect(readdirSync(inbox).sort()).toEqual(['done']);
    const rows = readCsv(join(inbox, 'done', 'a.results.csv'));
    expect(rows.map((r) => r.Name)).toEqual([
      'Staff 5-0',
      'Staff 5-1',
      'Staff 5-2',
      'Staff 5-3',
      'Staff 5-bad',
    ]);
    expect(readCsv(join(inbox, 'done', 'a.failed.csv')).map((r) => r.Name)).toEqual(['Staff 5-bad']);

    const resumed = await runCli(['resume', file.job.job, ...fastArgs(state)], apiEnv(sb.url));
    expect(resumed.stderr).not.toContain('missing or has changed');
    expect(resumed.code).toBe(1); // the invalid row stays invalid
    expect(readdirSync(inbox).sort()).toEqual(['done']);
    expect(s().ledger()).toHaveLength(4);
  });

  it('a file stopped resumably (balance short) stays and is resumed by the next pass', async () => {
    sb = await startSandbox({ apiKey: KEY, rateLimit: '6000/min', completeAfterMs: 100, balance: 100 });
    const root = tempDir();
    const inbox = join(root, 'incoming');
    mkdirSync(inbox);
    const state = join(root, 'state');
    const a = payroll(inbox, 'a.csv', 1, 4); // 50+51+52+53 BDT
    const r1 = await runCli(['watch', inbox, ...watchArgs(state)], apiEnv(sb.url));
    expect(r1.code).toBe(4);
    expect(existsSync(join(inbox, 'a.csv'))).toBe(true);
    expect(s().ledger()).toHaveLength(0);
    s().setBalance(1000);
    const r2 = await runCli(['watch', inbox, ...watchArgs(state)], apiEnv(sb.url));
    expect(r2.code).toBe(0);
    expect(existsSync(join(inbox, 'done', 'a.csv'))).toBe(true);
    expect(readCsv(join(inbox, 'done', 'a.results.csv')).map((x) => x.status)).toEqual(
      a.map(() => 'completed'),
    );
    expect(s().ledger()).toHaveLength(4);
  });
});

describe('watch usage', () => {
  it('--job and --out are refused (one name or one results path for every file would mix jobs up): exit 2, nothing sent', async () => {
    sb = await startSandbox({ apiKey: KEY, rateLimit: '6000/min' });
    const root = tempDir();
    payroll(root, 'a.csv', 1, 2);
    for (const extra of [
      ['--job', 'night'],
      ['--out', join(root, 'r.csv')],
    ]) {
      const r = await runCli(['watch', root, ...watchArgs(join(root, 'state')), ...extra], apiEnv(sb.url));
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(`${extra[0]} cannot be used with watch`);
    }
    const missing = await runCli(
      ['watch', join(root, 'nope'), ...watchArgs(join(root, 'state'))],
      apiEnv(sb.url),
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no such folder/);
    expect(sb.stats().requests).toBe(0);
    expect(existsSync(join(root, 'a.csv'))).toBe(true);
  });
});

/** Resolves once the child's stderr has said `text`. */
function said(child: ReturnType<typeof startCli>['child'], text: string): Promise<void> {
  return new Promise<void>((res) => {
    let seen = '';
    const onData = (d: Buffer) => {
      seen += d.toString();
      if (seen.includes(text)) {
        child.stderr!.off('data', onData);
        res();
      }
    };
    child.stderr!.on('data', onData);
  });
}

describe('watch (continuous)', () => {
  it('SIGTERM while a job runs: the job stops resumably, its file stays with its results beside it, exit 4; the next pass finishes it', async () => {
    // the sandbox's time only moves when the test says: the transactions stay processing until then
    const clock = new FakeClock();
    sb = await startSandbox({
      apiKey: KEY,
      rateLimit: null,
      completeAfterMs: 60_000,
      balance: 1_000_000,
      clock,
    });
    const root = tempDir();
    const state = join(root, 'state');
    const a = payroll(root, 'a.csv', 1, 3);
    const args = ['watch', root, '--settle', '0', ...fastArgs(state).filter((x) => x !== '--quiet')];
    const { child, done } = startCli(args, apiEnv(sb.url));
    await said(child, 'starting job');
    for (let i = 0; i < 6000 && s().ledger().length < 3; i++) await new Promise((res) => setTimeout(res, 10)); // a cap, not a timing
    expect(s().ledger()).toHaveLength(3);
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code).toBe(4);
    expect(r.stderr).not.toMatch(/bug|at .*\.js:\d+/);
    expect(existsSync(join(root, 'a.csv'))).toBe(true);
    expect(existsSync(join(root, 'done'))).toBe(false);
    expect(readCsv(join(root, 'a.results.csv')).map((x) => x.status)).toEqual([
      'processing',
      'processing',
      'processing',
    ]);
    // the API finishes them; the next pass resumes the job (polls, sends nothing again) and files it
    await clock.advance(60_000);
    const again = await runCli(['watch', root, ...watchArgs(state)], apiEnv(sb.url));
    expect(again.code).toBe(0);
    expect(s().ledger()).toHaveLength(3);
    expect(readCsv(join(root, 'done', 'a.results.csv')).map((x) => x.status)).toEqual(
      a.map(() => 'completed'),
    );
  });

  it('SIGTERM while watching an empty folder: a clean stop, exit 0', async () => {
    sb = await startSandbox({ apiKey: KEY, rateLimit: '6000/min' });
    const root = tempDir();
    const { child, done } = startCli(
      ['watch', root, '--settle', '0', ...fastArgs(join(root, 'state')).filter((x) => x !== '--quiet')],
      apiEnv(sb.url),
    );
    // wait for the watcher to say it is watching, then stop it
    await new Promise<void>((res) => {
      const onData = (d: Buffer) => {
        if (d.toString().includes('watching')) {
          child.stderr!.off('data', onData);
          res();
        }
      };
      child.stderr!.on('data', onData);
    });
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/bug|at .*\.js:\d+/);
  });
});

function s(): Sandbox {
  return sb!;
}
