/**
 * The failed and unknown CSVs a clerk opens and feeds back (SPEC §4, README "Results"), through
 * the built CLI against the sandbox: a file with no rows is never left behind, a file somebody
 * else saved there is never removed, another job's rows are never replaced without a word, and
 * a fed-back failed CSV with rows added by hand reads like any input — money judged by the
 * sandbox's ledger.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.js';
import { apiEnv, fastArgs, readCsv, runCli, sandboxPerTest, tempDir, writeBatch } from './helpers.js';

const sandbox = sandboxPerTest();

/** Completed charges per number, from the sandbox's ledger. */
function paidPerNumber(s: Sandbox): Map<string, number> {
  const paid = new Map<string, number>();
  for (const e of s.ledger())
    if (e.status === 'completed') paid.set(e.mobile_number, (paid.get(e.mobile_number) ?? 0) + 1);
  return paid;
}

/** A 30-row batch run once against a sandbox failing some rows (seeded): the job's --json summary. */
async function runWithFailures(): Promise<{
  s: Sandbox;
  dir: string;
  state: string;
  first: { job: string; counts: Record<string, number> };
}> {
  const s = await sandbox({ failRate: 0.3, seed: 9 });
  const dir = tempDir();
  const state = join(dir, 'state');
  const { path } = writeBatch(dir, 30);
  const first = JSON.parse((await runCli(['run', path, ...fastArgs(state), '--json'], apiEnv(s.url))).stdout);
  expect(first.counts.failed).toBeGreaterThan(0);
  return { s, dir, state, first };
}

describe('a failed CSV with nothing in it is never left behind', () => {
  it('a run with no failed rows writes none; a retry that leaves none removes the one the job wrote', async () => {
    const s = await sandbox({ failRate: 0.3, seed: 9 });
    const dir = tempDir();
    const state = join(dir, 'state');
    const clean = writeBatch(dir, 5, 'clean.csv', 3);
    s.configure({ failRate: 0 });
    const ok = await runCli(['run', clean.path, ...fastArgs(state), '--json'], apiEnv(s.url));
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).failed).toBeNull();
    expect(existsSync(join(dir, 'clean.failed.csv'))).toBe(false);

    s.configure({ failRate: 0.3 });
    const { path, rows } = writeBatch(dir, 30);
    const first = JSON.parse(
      (await runCli(['run', path, ...fastArgs(state), '--json'], apiEnv(s.url))).stdout,
    );
    expect(first.counts.failed).toBeGreaterThan(0);
    expect(readCsv(join(dir, 'batch.failed.csv'))).toHaveLength(first.counts.failed);

    s.configure({ failRate: 0 });
    const retry = await runCli(['retry', first.job, ...fastArgs(state)], apiEnv(s.url));
    expect(retry.code).toBe(0);
    expect(existsSync(join(dir, 'batch.failed.csv'))).toBe(false);
    expect(retry.stdout).not.toContain('failed rows');
    // and `report` of the job does not bring an empty one back
    expect((await runCli(['report', first.job, '--state-dir', state])).code).toBe(0);
    expect(existsSync(join(dir, 'batch.failed.csv'))).toBe(false);
    const paid = paidPerNumber(s);
    expect(rows.every((r) => paid.get(r.number) === 1)).toBe(true);
    expect(paid.size).toBe(35);
  });

  it('a failed CSV the clerk saved over is kept, with one line saying so', async () => {
    const { s, dir, state, first } = await runWithFailures();
    const failed = join(dir, 'batch.failed.csv');
    const edited = readFileSync(failed, 'utf8').replace(/\n$/, '\nE7777,Added By Hand,Ops,01712399999,50\n');
    writeFileSync(failed, edited);

    s.configure({ failRate: 0 });
    const retry = await runCli(['retry', first.job, ...fastArgs(state)], apiEnv(s.url));
    expect(retry.code).toBe(0);
    expect(readFileSync(failed, 'utf8')).toBe(edited);
    const warning = retry.stdout
      .split('\n')
      .concat(retry.stderr.split('\n'))
      .filter((l) => l.includes(failed));
    expect(warning, retry.stdout + retry.stderr).toHaveLength(1);
    expect(warning[0]).toMatch(/not written by this job .*left as it is/);
    expect(s.ledger().some((e) => e.mobile_number === '01712399999')).toBe(false);
  });
});

describe('a failed CSV the clerk edited, replaced by the same job', () => {
  it('keeps the edited copy in the job directory and says where, in one line', async () => {
    const { s, dir, state, first } = await runWithFailures();
    const failed = join(dir, 'batch.failed.csv');
    const edited = readFileSync(failed, 'utf8') + 'E7777,Added By Hand,Ops,01712399999,50\n';
    writeFileSync(failed, edited);

    s.configure({ failRate: 1 }); // the retry fails them all again: the job writes its failed CSV anew
    const retry = await runCli(['retry', first.job, ...fastArgs(state)], apiEnv(s.url));
    expect(retry.code).toBe(1);
    expect(readCsv(failed)).toHaveLength(first.counts.failed);
    const lines = retry.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    const copy = /^warning: .* had been changed since this job wrote it: that copy is kept as (.+)$/.exec(
      lines[0]!,
    )?.[1];
    expect(copy?.startsWith(join(state, first.job))).toBe(true);
    expect(readFileSync(copy!, 'utf8')).toBe(edited);
    expect(s.ledger().some((e) => e.mobile_number === '01712399999')).toBe(false);
  });
});

describe('a fed-back failed CSV with rows added by hand', () => {
  it('reads a row without the trailing error_code/error_message cells like any row, and the registry still refuses a second payment', async () => {
    const { s, dir, state, first } = await runWithFailures();
    const paid = readCsv(join(dir, 'batch.results.csv')).find((x) => x.status === 'completed')!;
    const failed = join(dir, 'batch.failed.csv');
    // the clerk types two rows at the end, without the cells the tool added: a new one, and one already paid
    writeFileSync(
      failed,
      readFileSync(failed, 'utf8') +
        'E8001,Hand Added,Ops,01712388888,70\n' +
        `${paid['Employee ID']},${paid.Name},Sales,${paid['Mobile Number']},${paid['Amount (BDT)']}\n`,
    );

    s.configure({ failRate: 0 });
    const before = paidPerNumber(s);
    const fed = await runCli(['run', failed, ...fastArgs(state), '--json'], apiEnv(s.url));
    const summary = JSON.parse(fed.stdout);
    const results = readCsv(join(dir, 'batch.failed.results.csv'));
    expect(results.map((x) => x.error_code)).not.toContain('MALFORMED_ROW');
    expect(results.find((x) => x['Employee ID'] === 'E8001')!.status).toBe('completed');
    expect(results.find((x) => x['Employee ID'] === paid['Employee ID'])!.status).toBe('skipped');
    expect(summary.counts).toMatchObject({ completed: first.counts.failed + 1, skipped: 1, invalid: 0 });

    // the ledger: the hand-added row paid once, the already-paid number not a second time
    const after = paidPerNumber(s);
    expect(after.get('01712388888')).toBe(1);
    expect(after.get(paid.normalized_number!)).toBe(1);
    expect(before.get(paid.normalized_number!)).toBe(1);
    expect([...after.values()].every((n) => n === 1)).toBe(true);
    expect(after.size).toBe(31);
  });

  it('any other file keeps its rule: a short row is MALFORMED_ROW', async () => {
    const dir = tempDir();
    const path = join(dir, 'short.csv');
    writeFileSync(path, 'Name,Mobile Number,Amount,Note\nA,01712345678,50,x\nB,01812345678,60\n');
    const v = await runCli(['validate', path, '--operators', 'fixtures/operators.json', '--json']);
    expect(v.code).toBe(1);
    expect(JSON.parse(v.stdout).counts).toMatchObject({ valid: 1, invalid: 1 });
  });
});

describe('a new job over the same input path', () => {
  it("says, in one line each, that it replaced or left an earlier job's failed and unknown CSVs, and how to get them back", async () => {
    const s = await sandbox({ failRate: 0.3, dropRate: 0.3, seed: 4 });
    const dir = tempDir();
    const state = join(dir, 'state');
    const { path } = writeBatch(dir, 30);
    const a = JSON.parse((await runCli(['run', path, ...fastArgs(state), '--json'], apiEnv(s.url))).stdout);
    expect(a.counts.failed).toBeGreaterThan(0);
    expect(a.counts.unknown).toBeGreaterThan(0);
    const failed = join(dir, 'batch.failed.csv');
    const unknown = join(dir, 'batch.unknown.csv');

    // the clerk edits the sheet and saves it under the same name: a new job; every row of it fails
    writeBatch(dir, 4, 'batch.csv', 77);
    s.configure({ failRate: 1, dropRate: 0 });
    const paidBefore = s.ledger().length;
    const b = await runCli(['run', path, ...fastArgs(state), '--json'], apiEnv(s.url));
    expect(b.code).toBe(1);
    const job = JSON.parse(b.stdout).job as string;
    expect(job).not.toBe(a.job);
    const lines = b.stderr.trim().split('\n');
    const back = `recharge-batch report ${a.job} --out ${join(dir, `${a.job}.results.csv`)}`;
    const results = join(dir, 'batch.results.csv');
    const paidByA = readCsv(join(dir, `${a.job}.results.csv`)).filter((r) => r.transaction_id).length;
    expect(lines).toEqual([
      `warning: ${results} held the results of job ${a.job} (${paidByA} transaction ids): moved to ${join(dir, `${a.job}.results.csv`)}`,
      `warning: ${failed} held the ${a.counts.failed} failed rows of job ${a.job}, and now holds this job's: to get job ${a.job}'s files back, run \`${back}\``,
      `warning: ${unknown} holds the ${a.counts.unknown} unknown rows of job ${a.job}, not of this job (which has none): left as it is`,
    ]);
    expect(JSON.parse(b.stdout).warnings).toHaveLength(3);
    expect(readCsv(failed)).toHaveLength(4);
    expect(readCsv(unknown)).toHaveLength(a.counts.unknown);

    // the way back the line gives: job A's files, under its own name, the new job's untouched
    const report = await runCli(back.split(' ').slice(1).concat(['--state-dir', state]));
    expect(report.code).toBe(0);
    expect(readCsv(join(dir, `${a.job}.failed.csv`))).toHaveLength(a.counts.failed);
    expect(readCsv(join(dir, `${a.job}.unknown.csv`))).toHaveLength(a.counts.unknown);
    expect(readCsv(failed)).toHaveLength(4);
    // nothing was paid by the new job, and nobody twice
    expect(s.ledger().filter((e, i) => i >= paidBefore && e.status === 'completed')).toHaveLength(0);
    expect([...paidPerNumber(s).values()].every((n) => n === 1)).toBe(true);
  });
});

describe("an earlier job's results CSV", () => {
  it('a new job over the input edited in place moves the earlier results aside, every transaction id kept', async () => {
    const s = await sandbox({ failRate: 0 });
    const dir = tempDir();
    const state = join(dir, 'state');
    const { path } = writeBatch(dir, 10, 'june.csv');
    const first = JSON.parse(
      (await runCli(['run', path, ...fastArgs(state), '--json'], apiEnv(s.url))).stdout,
    );
    expect(first.counts.completed).toBe(10);
    // the clerk fixes a name and deletes the first row, saving over the same file
    const lines = readFileSync(path, 'utf8').split('\n');
    writeFileSync(path, [lines[0], ...lines.slice(2)].join('\n').replace('Employee 5', 'Employee Five'));
    const again = await runCli(['run', path, ...fastArgs(state), '--json'], apiEnv(s.url));
    expect(again.code).toBe(0);
    const second = JSON.parse(again.stdout);
    expect(second.job).not.toBe(first.job);
    expect(second.counts.skipped).toBe(9);
    const aside = join(dir, `${first.job}.results.csv`);
    const ids = new Set(s.ledger().map((e) => e.transaction_id));
    expect(ids.size).toBe(10); // nobody paid twice
    expect(new Set(readCsv(aside).map((r) => r.transaction_id))).toEqual(ids);
    expect(readCsv(join(dir, 'june.results.csv'))).toHaveLength(9);
    const said = again.stderr.split('\n').filter((l) => l.includes(aside));
    expect(said, again.stderr).toHaveLength(1);
    expect(said[0]).toContain(`results of job ${first.job}`);
  });
});
