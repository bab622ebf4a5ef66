/**
 * The same number twice in one file with different amounts (SPEC §3, §5a): valid and paid, with
 * a warning naming the other row; the same amount stays DUPLICATE_ROW.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verdicts } from '../support/validate.js';
import { OPERATORS } from '../support/operators.js';
import { validateCsv, type RowVerdict } from '../../src/validate/index.js';
import { SameNumberNotes, sameNumberLines } from '../../src/validate/same-number.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'same-number-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function csv(name: string, rows: string[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, ['Name,Mobile,Amount', ...rows].join('\n') + '\n');
  return path;
}

const warningOf = (v: RowVerdict) => (v.ok ? v.value.warning : v.partial.warning);
const outcome = (v: RowVerdict) => (v.ok ? 'ok' : v.code);

describe('the same number on two rows with different amounts', () => {
  it('keeps both rows valid; the second names the first row, its line and amount, and its own amount', async () => {
    const path = await csv('slip.csv', [
      'Rahim,01712345678,500',
      'Karim,01812345678,200',
      'Rahim again,01712345678,300',
    ]);
    const [first, other, second] = await verdicts(path);
    expect([first, other, second].map(outcome)).toEqual(['ok', 'ok', 'ok']);
    expect(warningOf(first!)).toBeUndefined();
    expect(warningOf(other!)).toBeUndefined();
    expect(warningOf(second!)).toBe(
      '01712345678 is also on row 1 (line 2) for 500 BDT; this row pays 300 BDT — check it is meant',
    );
  });

  it('matches the number as normalized (+880, spaces, Bengali digits), not as written', async () => {
    const path = await csv('forms.csv', ['A,+880 1712-345678,500', 'B,০১৭১২৩৪৫৬৭৮,300']);
    const [, second] = await verdicts(path);
    expect(warningOf(second!)).toMatch(
      /^01712345678 is also on row 1 \(line 2\) for 500 BDT; this row pays 300 BDT/,
    );
  });

  it('names the right row and line after blank lines and a name over two lines', async () => {
    const path = join(dir, 'gaps.csv');
    await writeFile(
      path,
      'Name,Mobile,Amount\nA,01812345678,100\n\n"Rahim\nUddin",01712345678,500\n\n\nB,01912345678,100\nC,01712345678,300\n',
    );
    const vs = await verdicts(path);
    expect(vs.map((v) => [v.row, v.line])).toEqual([
      [1, 2],
      [2, 4],
      [3, 8],
      [4, 9],
    ]);
    expect(warningOf(vs[3]!)).toMatch(
      /^01712345678 is also on row 2 \(line 4\) for 500 BDT; this row pays 300 BDT/,
    );
  });

  it('names the earliest other row when the number comes back a third time', async () => {
    const path = await csv('three.csv', ['A,01712345678,500', 'B,01712345678,300', 'C,01712345678,200']);
    const vs = await verdicts(path);
    expect(vs.map(outcome)).toEqual(['ok', 'ok', 'ok']);
    expect(warningOf(vs[2]!)).toMatch(/is also on row 1 \(line 2\) for 500 BDT; this row pays 200 BDT/);
  });

  it('the same number and amount is still DUPLICATE_ROW, with no warning of its own', async () => {
    const path = await csv('dup.csv', ['A,01712345678,500', 'B,01712345678,300', 'C,01712345678,300']);
    const vs = await verdicts(path);
    expect(vs.map(outcome)).toEqual(['ok', 'ok', 'DUPLICATE_ROW']);
    expect(warningOf(vs[2]!)).toBeUndefined();
    expect((vs[2] as Extract<RowVerdict, { ok: false }>).message).toMatch(/repeat of line 3/);
  });

  it('--allow-duplicates: identical rows stay silent as before; another amount is still warned', async () => {
    const path = await csv('allow.csv', ['A,01712345678,500', 'B,01712345678,500', 'C,01712345678,300']);
    const vs = await verdicts(path, { allowDuplicates: true });
    expect(vs.map(outcome)).toEqual(['ok', 'ok', 'ok']);
    expect(warningOf(vs[1]!)).toBeUndefined();
    expect(warningOf(vs[2]!)).toMatch(/is also on row 1 \(line 2\) for 500 BDT; this row pays 300 BDT/);
  });

  it('an invalid first row (out of range) still counts: the warning says it was not sent', async () => {
    const path = await csv('invalid-first.csv', ['A,01712345678,5000', 'B,01712345678,300']);
    const [first, second] = await verdicts(path);
    expect(outcome(first!)).toBe('AMOUNT_OUT_OF_RANGE');
    expect(outcome(second!)).toBe('ok');
    // fixed and fed back later, row 1 would pay this number a second time
    expect(warningOf(second!)).toBe(
      '01712345678 is also on row 1 (line 2) for 5,000 BDT (invalid there, not sent; corrected and run, it would be paid too); this row pays 300 BDT — check it is meant',
    );
  });

  it('a first row whose amount cannot be read does not count (nothing to compare)', async () => {
    const path = await csv('unreadable.csv', ['A,01712345678,fifty', 'B,01712345678,300']);
    const [first, second] = await verdicts(path);
    expect(outcome(first!)).toBe('INVALID_AMOUNT');
    expect(warningOf(second!)).toBeUndefined();
  });

  it('an invalid second row carries the warning after its error; the summaries list only rows that pay', async () => {
    const path = await csv('invalid-second.csv', ['A,01712345678,500', 'B,01712345678,5000']);
    const vs = await verdicts(path);
    expect(outcome(vs[1]!)).toBe('AMOUNT_OUT_OF_RANGE');
    expect(warningOf(vs[1]!)).toMatch(/this row would pay 5,000 BDT/);
    const notes = new SameNumberNotes();
    vs.forEach((v) => notes.add(v));
    expect(notes.rows).toBe(0);
  });

  it('joins the warning to an operator-prefix warning on the same row', async () => {
    const path = join(dir, 'ported.csv');
    await writeFile(path, 'Mobile,Amount,Operator\n01712345678,500,\n01712345678,300,Robi\n');
    const [, second] = await verdicts(path);
    expect(warningOf(second!)).toMatch(
      /^operator Robi given.*; 01712345678 is also on row 1 \(line 2\) for 500 BDT/,
    );
  });

  it('is counted in the summary and shown in the report CSV as `warning: …`', async () => {
    const path = await csv('report.csv', ['A,01712345678,500', 'B,01712345678,300']);
    const out = join(dir, 'report.results.csv');
    const summary = await validateCsv(path, { operators: OPERATORS, out });
    expect(summary).toMatchObject({ rows: 2, valid: 2, invalid: 0, warnings: 1, totalAmount: 800 });
    const rows = parse(await readFile(out), { bom: true, columns: true }) as Record<string, string>[];
    expect(rows.map((r) => [r.status, r.error_code, r.error_message])).toEqual([
      ['valid', '', ''],
      [
        'valid',
        '',
        'warning: 01712345678 is also on row 1 (line 2) for 500 BDT; this row pays 300 BDT — check it is meant',
      ],
    ]);
  });
});

describe('the summary lines', () => {
  it('show a few rows, then how many more and where they are', async () => {
    // 20 people paid 100 BDT, then the same 20 numbers again for 200 BDT
    const number = (i: number) => `0171${String(i % 20).padStart(7, '0')}`;
    const rows = Array.from({ length: 40 }, (_, i) => `P${i},${number(i)},${i < 20 ? 100 : 200}`);
    const path = await csv('many.csv', rows);
    const notes = new SameNumberNotes();
    for (const v of await verdicts(path)) notes.add(v);
    expect(notes.rows).toBe(20);
    expect(notes.first).toHaveLength(10);
    const lines = sameNumberLines(notes, { paid: true, where: 'error_message in x.results.csv' });
    expect(lines).toEqual([
      '  warning: 20 rows repeat the number of an earlier row with another amount; each is paid — check they are meant:',
      '    row 21 (line 22): 01710000000 for 200 BDT; also on row 1 (line 2) for 100 BDT',
      '    row 22 (line 23): 01710000001 for 200 BDT; also on row 2 (line 3) for 100 BDT',
      '    row 23 (line 24): 01710000002 for 200 BDT; also on row 3 (line 4) for 100 BDT',
      '    row 24 (line 25): 01710000003 for 200 BDT; also on row 4 (line 5) for 100 BDT',
      '    row 25 (line 26): 01710000004 for 200 BDT; also on row 5 (line 6) for 100 BDT',
      '    … and 15 more — see error_message in x.results.csv',
    ]);
  });

  it('say nothing when no row repeats a number', () => {
    expect(sameNumberLines(new SameNumberNotes(), { paid: true, where: 'x' })).toEqual([]);
  });
});
