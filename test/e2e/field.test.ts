/**
 * Every file of fixtures/field/ (one per reported problem with real spreadsheet files, SPEC
 * §3a) through the built CLI: `validate`, then `run` against the sandbox on port 0. Money is
 * judged by the sandbox's ledger: each valid row paid exactly once, nothing else sent.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, symlinkSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import { openCsv } from '../../src/csv/read.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { fieldCases } from '../support/field.js';
import { KEY, apiEnv, fastArgs, readCsv, runCli, tempDir, type CsvRow } from './helpers.js';

const OPERATORS_FILE = resolve('fixtures/operators.json');
const cases = fieldCases();

let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.close();
  sb = undefined;
});

async function sandbox(): Promise<Sandbox> {
  sb = await startSandbox({ apiKey: KEY, rateLimit: '6000/min', completeAfterMs: 100, balance: 1_000_000 });
  return sb;
}

/** A cell a spreadsheet would run as a formula (SPEC §4). */
const FORMULA = /^(\s*[=+\-@]|[\t\r])/; // a spreadsheet trims leading blanks first

describe('fixtures/field through validate', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const r = await runCli(['validate', c.path, '--operators', OPERATORS_FILE, '--json', ...c.args]);
    expect(r.code, `${c.problem}\n${r.stderr}`).toBe(c.validate_exit);
    if (c.error !== undefined) {
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      if (c.message !== undefined) expect(r.stderr).toContain(c.message);
      return;
    }
    const rows = Object.values(c.rows);
    const summary = JSON.parse(r.stdout) as { counts: { rows: number; valid: number; invalid: number } };
    expect(summary.counts).toMatchObject({
      rows: rows.length,
      valid: rows.filter((x) => x.status === 'valid').length,
      invalid: rows.filter((x) => x.status === 'invalid').length,
    });
  });
});

describe('fixtures/field through run against the sandbox', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const s = await sandbox();
    const dir = tempDir('rb-field-');
    const input = join(dir, c.name);
    copyFileSync(c.path, input);
    const r = await runCli(['run', input, ...fastArgs(join(dir, 'state')), ...c.args], apiEnv(s.url));
    const expected = Object.entries(c.rows);
    const valid = expected.filter(([, x]) => x.status === 'valid');

    // the ledger: every valid row paid exactly once, with its number and amount; nothing else sent
    const paid = s
      .ledger()
      .map((e) => `${e.mobile_number} ${e.amount}`)
      .sort();
    expect(paid, c.problem).toEqual(valid.map(([, x]) => `${x.number} ${x.amount}`).sort());

    if (c.error !== undefined) {
      expect(r.code).toBe(2);
      if (c.message !== undefined) expect(r.stderr).toContain(c.message);
      expect(s.stats().recharges).toBe(0);
      return;
    }
    expect(r.code, r.stderr).toBe(valid.length === expected.length ? 0 : 1);
    const base = basename(c.name, '.csv');
    const results = readCsv(join(dir, `${base}.results.csv`));
    // one results line per input row, in order, with the verdict of the fixture
    expect(results.map((x) => [x.row, x.status, x.error_code || undefined])).toEqual(
      expected.map(([row, x]) => [row, x.status === 'valid' ? 'completed' : 'invalid', x.code]),
    );
    for (const [i, [, x]] of expected.entries())
      if (x.number !== undefined) expect(results[i]!.normalized_number).toBe(x.number);
    // the failed CSV is in the input's delimiter (README "Results"): `;` for the sep=; sheet
    const failedPath = join(dir, `${base}.failed.csv`);
    const { delimiter } = await openCsv(input);
    const failed = existsSync(failedPath)
      ? (parse(readFileSync(failedPath), { columns: true, bom: true, delimiter }) as CsvRow[])
      : [];
    expect(failed).toHaveLength(expected.length - valid.length);
    // free-text input cells come back guarded (the number and amount cells are the output side's rules)
    for (const out of [results, failed]) {
      for (const line of out)
        for (const col of ['name', 'Name', 'Employee'])
          if (line[col] !== undefined) expect(line[col]).not.toMatch(FORMULA);
    }
  });
});

describe('run and validate on something that is not a regular file', () => {
  it.each([
    ['a FIFO', 'named pipe', (p: string) => execFileSync('mkfifo', [p])],
    ['a symlink to /dev/zero', 'a device', (p: string) => symlinkSync('/dev/zero', p)],
  ])('%s: run and validate exit 2 at once, one line, nothing sent', async (_what, says, make) => {
    const s = await sandbox();
    const dir = tempDir('rb-nonfile-');
    const input = join(dir, 'batch.csv');
    make(input);
    for (const args of [
      ['run', input, ...fastArgs(join(dir, 'state'))],
      ['validate', input, '--operators', OPERATORS_FILE],
    ]) {
      const r = await runCli(args, apiEnv(s.url));
      expect(r.code, args[0]).toBe(2);
      expect(r.stderr).toContain(says);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(s.stats().recharges).toBe(0);
  });
});
