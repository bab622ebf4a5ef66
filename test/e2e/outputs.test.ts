/**
 * The files the tool writes (SPEC §4, §5a "report", §5 additions), through the built CLI against
 * the sandbox, judged by the sandbox's ledger: feed-back files that cannot pay anyone twice,
 * outputs that never replace the input, formula cells guarded everywhere, a report that never
 * pairs a verdict with another row's cells, and an input changed mid-run (exit 4).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { FakeClock } from '../../src/clock.js';
import {
  apiEnv,
  fastArgs,
  readCsv,
  runCli,
  sandboxPerTest,
  startCli,
  tempDir,
  writeBatch,
} from './helpers.js';

const sandbox = sandboxPerTest();

/** Waits for a condition, however long the machine takes (bounded only by the test timeout). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 20));
}

/** Every cell of a CSV the tool wrote, header included (BOM stripped). */
function cells(path: string): string[][] {
  return parse(readFileSync(path), { bom: true, relax_column_count: true }) as string[][];
}

/** What a spreadsheet runs: `= + - @` after any leading blanks (it trims them first), or a leading tab/CR. */
const FORMULA = /^(\s*[=+\-@]|[\t\r])/;

describe('outputs that would replace the input', () => {
  it('--out naming the input (as given, through a symlink, or as the derived failed CSV) exits 2 and sends nothing', async () => {
    const s = await sandbox();
    const dir = tempDir();
    const { path } = writeBatch(dir, 5, 'payroll.csv');
    const state = join(dir, 'state');
    const before = readFileSync(path);
    symlinkSync(path, join(dir, 'link.csv'));
    for (const out of [path, join(dir, 'link.csv')]) {
      const r = await runCli(['run', path, ...fastArgs(state), '--out', out], apiEnv(s.url));
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/input file itself/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    // a failed CSV fed back: --out x.results.csv would write its failed rows to x.failed.csv, the input
    const { path: fedBack } = writeBatch(dir, 3, 'payroll.failed.csv');
    const r = await runCli(
      ['run', fedBack, ...fastArgs(state), '--out', join(dir, 'payroll.results.csv')],
      apiEnv(s.url),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/failed-rows CSV would be .*payroll\.failed\.csv/);
    expect(s.ledger()).toHaveLength(0);
    expect(readFileSync(path)).toEqual(before);
    const v = await runCli(
      ['validate', path, '--operators', 'fixtures/operators.json', '--out', join(dir, 'link.csv')],
      {},
    );
    expect(v.code).toBe(2);
  });
});

describe('a report file that cannot be written', () => {
  it('validate --out into a missing folder, a folder, or where nothing can be created: one line naming the file, exit 2', async () => {
    const dir = tempDir();
    const { path } = writeBatch(dir, 3);
    for (const out of [join(dir, 'no-such-folder', 'report.csv'), dir, '/proc/report.csv']) {
      const v = await runCli(['validate', path, '--operators', 'fixtures/operators.json', '--out', out], {});
      expect(v.code).toBe(2);
      const lines = v.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`cannot write ${out}:`);
      expect(v.stderr).not.toMatch(/internal error|\.tmp-|resume/);
    }
  });
});

describe('feed-back files', () => {
  it('failed.csv holds only failed and invalid rows (no DUPLICATE_ROW, no unknown); unknown.csv the unknown ones, some of them charged', async () => {
    const s = await sandbox({ failRate: 0.2, dropRate: 0.15, seed: 4 });
    const dir = tempDir();
    const { path, rows } = writeBatch(dir, 40);
    // an invalid row and a duplicate of row 1
    writeFileSync(
      path,
      readFileSync(path, 'utf8') +
        `E9998,Bad Number,Sales,0123,100\nE9999,Twice,Sales,${rows[0]!.number},${rows[0]!.amount}\n`,
    );
    const r = await runCli(['run', path, ...fastArgs(state(dir)), '--json'], apiEnv(s.url));
    expect(r.code).toBe(1);
    const summary = JSON.parse(r.stdout);
    const results = readCsv(join(dir, 'batch.results.csv'));
    const byStatus = (st: string) => results.filter((x) => x.status === st);
    expect(byStatus('unknown').length).toBeGreaterThan(0);
    expect(byStatus('failed').length).toBeGreaterThan(0);

    const failed = readCsv(join(dir, 'batch.failed.csv'));
    const fixable = results.filter(
      (x) => x.status === 'failed' || (x.status === 'invalid' && x.error_code !== 'DUPLICATE_ROW'),
    );
    expect(failed.map((x) => x['Employee ID'])).toEqual(fixable.map((x) => x['Employee ID']));
    expect(failed.map((x) => x['Employee ID'])).toContain('E9998');
    expect(failed.map((x) => x.error_code)).not.toContain('DUPLICATE_ROW');

    expect(summary.unknown).toBe(join(dir, 'batch.unknown.csv'));
    const unknown = readCsv(join(dir, 'batch.unknown.csv'));
    expect(Object.keys(unknown[0]!)).toEqual([
      'Employee ID',
      'Name',
      'Department',
      'Mobile Number',
      'Amount (BDT)',
      'row',
      'normalized_number',
      'amount',
      'reference',
      'transaction_id',
      'error_code',
      'error_message',
      'submitted_at',
    ]);
    expect(unknown.map((x) => [x['Employee ID'], x.reference])).toEqual(
      byStatus('unknown').map((x) => [x['Employee ID'], x.reference]),
    );
    // why they must be checked, not fed back: the API charged some of them (dropped after commit)
    const charged = new Set(s.ledger().map((e) => e.reference));
    expect(unknown.some((x) => charged.has(x.reference!))).toBe(true);

    // the unknown CSV is refused as input: its rows may have been paid
    const before = s.ledger().length;
    const refused = await runCli(
      ['run', join(dir, 'batch.unknown.csv'), ...fastArgs(state(dir))],
      apiEnv(s.url),
    );
    expect(refused.code).toBe(2);
    expect(s.ledger()).toHaveLength(before);

    // the clerk feeds the failed CSV back as it is: the failed rows are paid, nobody a second time
    s.configure({ failRate: 0, dropRate: 0 });
    const fed = await runCli(['run', join(dir, 'batch.failed.csv'), ...fastArgs(state(dir))], apiEnv(s.url));
    expect(fed.code).toBe(1); // the invalid number is still invalid
    const paid = new Map<string, number>();
    for (const e of s.ledger())
      if (e.status !== 'failed') paid.set(e.mobile_number, (paid.get(e.mobile_number) ?? 0) + 1);
    expect([...paid.values()].every((n) => n === 1)).toBe(true);
    // (an unknown row whose transaction failed stays unpaid: checking the unknown CSV shows it)
    for (const f of failed.filter((x) => x.error_code !== 'INVALID_NUMBER'))
      expect(paid.get(f['Mobile Number']!)).toBe(1);
  });
});

function state(dir: string): string {
  return join(dir, 'state');
}

/** fixtures/field/formula-cells.csv, plus header cells a spreadsheet would run. */
const FORMULA_CELLS = [
  'name,mobile_number,amount,=SUM(A1),@note, =SUM(B1)',
  'A One,"=HYPERLINK(""http://example.invalid"",""x"")",100,+1,-2, =1+1',
  'B Two,01812345662,@SUM(1),\tx,"\ry","\t =2+2"', // quoted: a bare CR ends a record (SPEC §3a)
  '=cmd,01912345663,100,-3,@x,"\r\n  @SUM(1)"',
  ' +Lead,01712345664,100,\u00a0-4,"\n=x",   -5',
].join('\n');

describe('CSV injection', () => {
  for (const bom of [true, false]) {
    it(`formula cells come back guarded in every CSV the tool writes, header cells too (${bom ? 'with a BOM' : '--no-bom'})`, async () => {
      const s = await sandbox({ dropRate: 1 }); // the one valid row ends unknown: all four files are written
      const dir = tempDir();
      const path = join(dir, 'formula.csv');
      writeFileSync(path, FORMULA_CELLS + '\n');
      const flag = bom ? [] : ['--no-bom'];
      const r = await runCli(['run', path, ...fastArgs(state(dir)), ...flag], apiEnv(s.url));
      expect(r.code).toBe(1);
      const v = await runCli(
        [
          'validate',
          path,
          '--operators',
          'fixtures/operators.json',
          '--out',
          join(dir, 'report.csv'),
          ...flag,
        ],
        {},
      );
      expect(v.code).toBe(1);
      const files = ['formula.results.csv', 'formula.failed.csv', 'formula.unknown.csv', 'report.csv'].map(
        (f) => join(dir, f),
      );
      for (const file of files) {
        const bytes = readFileSync(file);
        expect(bytes.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf])), `${file} BOM`).toBe(bom);
        const rows = cells(file);
        for (const row of rows)
          for (const cell of row) expect(cell, `${file}: ${JSON.stringify(row)}`).not.toMatch(FORMULA);
        expect(rows[0]!.slice(0, 6)).toEqual(
          ['name', 'mobile_number', 'input_amount', `'=SUM(A1)`, `'@note`, `'=SUM(B1)`].map((c, i) =>
            file.endsWith('failed.csv') && i === 2 ? 'amount' : c,
          ),
        );
      }
      const results = cells(files[0]!);
      expect(results[1]!.slice(0, 5)).toEqual([
        `A One`,
        `'=HYPERLINK("http://example.invalid","x")`,
        '100',
        `'+1`,
        `'-2`,
      ]);
      expect(results[2]!.slice(0, 5)).toEqual(['B Two', '01812345662', `'@SUM(1)`, `'\tx`, `'\ry`]);
      expect(results[3]!.slice(0, 3)).toEqual([`'=cmd`, '01912345663', '100']);
      // a spreadsheet trims leading blanks (space, tab, CR/LF, no-break space) before it looks
      expect(results.slice(1).map((row) => row[5])).toEqual([
        `' =1+1`,
        `'\t =2+2`,
        `'\r\n  @SUM(1)`,
        `'   -5`,
      ]);
      expect(results[4]!.slice(0, 5)).toEqual([`' +Lead`, '01712345664', '100', `'\u00a0-4`, `'\n=x`]);
      expect(cells(files[2]!).map((row) => row[0])).toEqual(['name', `'=cmd`, `' +Lead`]);
    });
  }
});

describe('report', () => {
  it('writes where the job remembers, and never pairs a verdict with another row after the input was edited', async () => {
    const s = await sandbox();
    const dir = tempDir();
    const { path, rows } = writeBatch(dir, 6);
    const out = join(dir, 'elsewhere', 'june.results.csv');
    mkdirSync(join(dir, 'elsewhere'));
    const first = await runCli(['run', path, ...fastArgs(state(dir)), '--out', out, '--json'], apiEnv(s.url));
    expect(first.code).toBe(0);
    const job = JSON.parse(first.stdout).job as string;
    rmSync(out);

    // the remembered place, without --out
    const again = await runCli(['report', job, '--state-dir', state(dir)], {});
    expect(again.code).toBe(0);
    expect(readCsv(out).map((x) => x.Name)).toEqual(rows.map((_, i) => `Employee ${i}`));
    expect(existsSync(join(dir, 'elsewhere', 'june.failed.csv'))).toBe(false); // nothing failed: none written

    // the clerk sorts the file: the first two rows change places
    const original = readFileSync(path, 'utf8');
    const lines = original.split('\n');
    [lines[1], lines[2]] = [lines[2]!, lines[1]!];
    writeFileSync(path, lines.join('\n'));
    const edited = await runCli(['report', job, '--state-dir', state(dir)], {});
    expect(edited.code).toBe(0);
    expect(edited.stderr).toMatch(/has changed since job .* own record/);
    const ledger = new Map(s.ledger().map((e) => [e.transaction_id, e]));
    const results = readCsv(out);
    expect(results).toHaveLength(6);
    for (const r of results) {
      const paid = ledger.get(r.transaction_id!)!;
      expect(r['Mobile Number']).toBe(paid.mobile_number); // from the job's record: the row's own number
      expect(r['Amount (BDT)']).toBe(String(paid.amount));
      expect(r.Name).toBe(''); // not another row's name
    }

    // put back: the full results again
    writeFileSync(path, original);
    const back = await runCli(['report', job, '--state-dir', state(dir)], {});
    expect(back.stderr).toBe('');
    expect(readCsv(out).map((x) => x.Name)).toEqual(rows.map((_, i) => `Employee ${i}`));
  });
});

describe('the input changes or disappears mid-run', () => {
  for (const change of ['edited', 'moved away'] as const) {
    it(`${change}: exit 4 (not 2), results written from the job's record, full results once it is back`, async () => {
      const clock = new FakeClock(Date.now());
      // transactions stay processing until the sandbox's clock moves: the run is held mid-way
      const s = await sandbox({ clock, rateLimit: null, completeAfterMs: 60_000 });
      const dir = tempDir();
      const { path, rows } = writeBatch(dir, 8);
      const original = readFileSync(path);
      const run = startCli(
        ['run', path, ...fastArgs(state(dir)), '--poll-timeout', '10m', '--json'],
        apiEnv(s.url),
      );
      await until(() => s.ledger().length === rows.length);
      if (change === 'edited') writeFileSync(path, original.toString().replace('Employee 3', 'Someone Else'));
      else renameSync(path, `${path}.away`);
      await clock.advance(120_000);
      const r = await run.done;
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(change === 'edited' ? /has changed since job/ : /is gone since job/);
      const summary = JSON.parse(r.stdout);
      expect(summary.counts.completed).toBe(rows.length);
      const results = readCsv(join(dir, 'batch.results.csv'));
      expect(results.map((x) => x['Mobile Number'])).toEqual(rows.map((x) => x.number));
      expect(results.every((x) => x.Name === '')).toBe(true);

      if (change === 'moved away') renameSync(`${path}.away`, path);
      else writeFileSync(path, original);
      const report = await runCli(['report', summary.job, '--state-dir', state(dir)], {});
      expect(report.code).toBe(0);
      expect(readCsv(join(dir, 'batch.results.csv')).map((x) => x.Name)).toEqual(
        rows.map((_, i) => `Employee ${i}`),
      );
      expect(s.ledger()).toHaveLength(rows.length); // nobody paid twice
    });
  }
});
