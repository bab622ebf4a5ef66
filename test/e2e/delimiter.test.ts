/**
 * A clerk whose Excel saves `;` (most of Europe) or tab gets the failed CSV back in that
 * delimiter (SPEC §3, §4; README "Results"), so it opens like the file they gave, and feeds it
 * back as it is: through the built CLI against the sandbox, money judged by the sandbox's
 * ledger. The results CSV stays comma-separated for the scripts that parse it.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OPERATORS, type Sandbox } from '../../src/sandbox/index.js';
import { apiEnv, fastArgs, readCsv, runCli, sandboxPerTest, tempDir } from './helpers.js';

const sandbox = sandboxPerTest();

const COLUMNS = ['Employee ID', 'Name', 'Mobile Number', 'Amount'];
const FAILED_COLUMNS = [...COLUMNS, 'error_code', 'error_message'];

/**
 * Our operator list allows up to 5,000 BDT where the sandbox's allows 1,000: row 3 passes our
 * validation and is refused by the API (400 AMOUNT_OUT_OF_RANGE), like a limit the provider
 * lowered after the list was saved.
 */
function looseOperators(dir: string): string {
  const path = join(dir, 'operators.json');
  writeFileSync(path, JSON.stringify(DEFAULT_OPERATORS.map((op) => ({ ...op, max_amount: 5000 }))));
  return path;
}

/**
 * The sheet, with `d` between cells (and Excel's `sep=` line above it when asked): row 1 pays;
 * row 2's number is short (its name holds `;` and `,`, quoted); row 3 the API refuses; row 4
 * has a zero amount and a formula for a name.
 */
function sheet(d: string, sep: boolean): string {
  const lines = [
    COLUMNS.join(d),
    ['E1', 'Karim', '01712345601', '100'].join(d),
    ['E2', '"Rahman; Md., Jr."', '0171234', '150'].join(d),
    ['E3', 'Akter', '01812345603', '2000'].join(d),
    ['E4', '=1+2', '01912345604', '0'].join(d),
  ];
  return (sep ? `sep=${d}\r\n` : '') + lines.join('\r\n') + '\r\n';
}

/** Completed charges per number, from the sandbox's ledger. */
function paid(s: Sandbox): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of s.ledger())
    if (e.status === 'completed') out[e.mobile_number] = (out[e.mobile_number] ?? 0) + 1;
  return out;
}

function readWith(path: string, delimiter: string): Record<string, string>[] {
  return parse(readFileSync(path), { bom: true, columns: true, delimiter }) as Record<string, string>[];
}

/** Runs the sheet once: exit 1 (rows 2–4 need fixing), row 1 paid. */
async function firstRun(d: string, opts: { sep?: boolean; bom?: boolean } = {}) {
  const s = await sandbox();
  const dir = tempDir();
  const state = join(dir, 'state');
  const ops = looseOperators(dir);
  const input = join(dir, 'pay.csv');
  writeFileSync(input, sheet(d, opts.sep ?? false));
  const args = [...fastArgs(state), '--operators', ops, ...(opts.bom === false ? ['--no-bom'] : [])];
  const r = await runCli(['run', input, ...args, '--json'], apiEnv(s.url));
  expect(r.code, r.stderr).toBe(1);
  const summary = JSON.parse(r.stdout) as { job: string; counts: Record<string, number> };
  expect(summary.counts).toMatchObject({ completed: 1, failed: 1, invalid: 2 });
  expect(paid(s)).toEqual({ '01712345601': 1 });
  return { s, dir, state, args, job: summary.job, failed: join(dir, 'pay.failed.csv') };
}

/** The failed CSV read with `d`: the input's columns plus the two added, the three rows to fix. */
function expectFailed(path: string, d: string): void {
  const rows = readWith(path, d);
  expect(Object.keys(rows[0]!)).toEqual(FAILED_COLUMNS);
  expect(rows.map((r) => [r['Employee ID'], r.Name, r['Mobile Number'], r.Amount, r.error_code])).toEqual([
    ['E2', 'Rahman; Md., Jr.', '0171234', '150', 'INVALID_NUMBER'],
    ['E3', 'Akter', '01812345603', '2000', 'AMOUNT_OUT_OF_RANGE'],
    // the formula name is guarded in this file too (SPEC §4: every input cell)
    ['E4', "'=1+2", '01912345604', '0', 'INVALID_AMOUNT'],
  ]);
}

/**
 * The clerk fixes row 2's number in the failed CSV and runs it: accepted (no MALFORMED_ROW,
 * the same delimiter read back), only the fixed row is paid; row 3 is refused again, row 4
 * is still invalid.
 */
async function feedBack(run: Awaited<ReturnType<typeof firstRun>>): Promise<void> {
  const { s, dir, args, failed } = run;
  writeFileSync(failed, readFileSync(failed, 'utf8').replace('0171234', '01712345602'));
  const r = await runCli(['run', failed, ...args, '--json'], apiEnv(s.url));
  expect(r.code, r.stderr).toBe(1);
  expect(JSON.parse(r.stdout).counts).toMatchObject({ completed: 1, failed: 1, invalid: 1 });
  const results = readCsv(join(dir, 'pay.failed.results.csv'));
  expect(results.map((x) => [x['Employee ID'], x.status, x.error_code])).toEqual([
    ['E2', 'completed', ''],
    ['E3', 'failed', 'AMOUNT_OUT_OF_RANGE'],
    ['E4', 'invalid', 'INVALID_AMOUNT'],
  ]);
  expect(paid(s)).toEqual({ '01712345601': 1, '01712345602': 1 });
}

describe('a `;` input', () => {
  it('gets a `;` failed CSV that feeds back as is; results stay `,`; `report` and `retry` later write the same file', async () => {
    const run = await firstRun(';');
    const text = readFileSync(run.failed, 'utf8');
    expect(text.split('\n')[0]).toBe(`\ufeff${FAILED_COLUMNS.join(';')}`);
    expectFailed(run.failed, ';');

    // the results CSV: comma-separated, the contract's columns after the input's
    const results = readCsv(join(run.dir, 'pay.results.csv'));
    expect(Object.keys(results[0]!).slice(0, 6)).toEqual([...COLUMNS, 'row', 'status']);
    expect(results.map((x) => [x.Name, x.status])).toEqual([
      ['Karim', 'completed'],
      ['Rahman; Md., Jr.', 'invalid'],
      ['Akter', 'failed'],
      ["'=1+2", 'invalid'],
    ]);

    // another process, from the checkpoint alone: the same bytes
    rmSync(run.failed);
    const report = await runCli(['report', run.job, '--state-dir', run.state]);
    expect(report.code, report.stderr).toBe(0);
    expect(readFileSync(run.failed, 'utf8')).toBe(text);

    // `retry` in another process resends row 3 (refused again) and writes the file the same way
    const retry = await runCli(['retry', run.job, ...run.args], apiEnv(run.s.url));
    expect(retry.code, retry.stderr).toBe(1);
    expect(readFileSync(run.failed, 'utf8')).toBe(text);
    expect(paid(run.s)).toEqual({ '01712345601': 1 });

    await feedBack(run);
  });
});

describe('a `;` input with an Excel `sep=;` line', () => {
  it('with the BOM: the failed CSV is `;` without a sep= line (Excel would drop the BOM)', async () => {
    const run = await firstRun(';', { sep: true });
    const text = readFileSync(run.failed, 'utf8');
    expect(text.startsWith(`\ufeff${FAILED_COLUMNS.join(';')}\n`)).toBe(true);
    expectFailed(run.failed, ';');
    await feedBack(run);
  });

  it('with --no-bom: the failed CSV starts with the sep= line, and is read back through it', async () => {
    const run = await firstRun(';', { sep: true, bom: false });
    const text = readFileSync(run.failed, 'utf8');
    expect(text.startsWith(`sep=;\n${FAILED_COLUMNS.join(';')}\n`)).toBe(true);
    writeFileSync(join(run.dir, 'body.csv'), text.slice(text.indexOf('\n') + 1));
    expectFailed(join(run.dir, 'body.csv'), ';');

    // `report` in another process, with the BOM this time: no sep= line, the same rows
    const report = await runCli(['report', run.job, '--state-dir', run.state]);
    expect(report.code, report.stderr).toBe(0);
    expect(readFileSync(run.failed, 'utf8')).toBe(`\ufeff${text.slice('sep=;\n'.length)}`);
    writeFileSync(run.failed, text); // the clerk's copy, as the run wrote it
    await feedBack(run);
  });
});

describe('a tab-separated input', () => {
  it('gets a tab failed CSV that feeds back as is; `report` later writes the same file', async () => {
    const run = await firstRun('\t');
    const text = readFileSync(run.failed, 'utf8');
    expect(text.split('\n')[0]).toBe(`\ufeff${FAILED_COLUMNS.join('\t')}`);
    expectFailed(run.failed, '\t');
    expect(readCsv(join(run.dir, 'pay.results.csv')).map((x) => x.status)).toEqual([
      'completed',
      'invalid',
      'failed',
      'invalid',
    ]);

    rmSync(run.failed);
    const report = await runCli(['report', run.job, '--state-dir', run.state]);
    expect(report.code, report.stderr).toBe(0);
    expect(readFileSync(run.failed, 'utf8')).toBe(text);

    await feedBack(run);

    // the input gone: `report` writes from the job's record, and still knows the delimiter
    rmSync(join(run.dir, 'pay.csv'));
    const out = join(run.dir, 'again.results.csv');
    const again = await runCli(['report', run.job, '--state-dir', run.state, '--out', out]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/is gone since job/);
    const fromRecord = readWith(join(run.dir, 'again.failed.csv'), '\t');
    expect(fromRecord.map((r) => [r['Mobile Number'], r.Amount, r.error_code])).toEqual([
      ['', '150', 'INVALID_NUMBER'],
      ['01812345603', '2000', 'AMOUNT_OUT_OF_RANGE'],
      ['01912345604', '', 'INVALID_AMOUNT'],
    ]);
  });
});
