import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATORS } from '../support/operators.js';
import { validateCommand, type Io } from '../../src/cli/validate.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'validate-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function capture(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
}

describe('validateCommand', () => {
  it('exits 0 on a clean file and prints counts, total and operators', async () => {
    const io = capture();
    expect(await validateCommand({ csv: 'fixtures/payroll.csv', operators: OPERATORS }, io)).toBe(0);
    const text = io.stdout.join('\n');
    expect(text).toContain('120 rows, 120 valid, 0 invalid');
    expect(text).toMatch(/total of valid rows: [\d,]+ BDT/);
    for (const name of ['Grameenphone', 'Robi', 'Banglalink', 'Teletalk', 'Airtel'])
      expect(text).toContain(name);
    expect(io.stderr).toEqual([]);
  });

  it('exits 1 with invalid rows, listing the first ten with row, line, code and message', async () => {
    const io = capture();
    expect(await validateCommand({ csv: 'fixtures/quirks.csv', operators: OPERATORS }, io)).toBe(1);
    const listed = io.stdout.filter((l) => /^ {2}row \d+ [A-Z_]+: line \d+: /.test(l));
    expect(listed).toHaveLength(10);
    expect(io.stdout.join('\n')).toMatch(/invalid by code: .*INVALID_AMOUNT \d+/);
    // an operator that does not match the prefix, and a number already on row 1 for another amount
    expect(io.stdout.join('\n')).toMatch(/2 warnings/);
    expect(io.stdout).toContain(
      '  1 of them repeats the number of an earlier row with another amount: running the file pays it too — check it is meant',
    );
  });

  it('the next step tells duplicates apart: they are not sent and not written to the failed CSV', async () => {
    const rows = ['Name,Mobile,Amount', 'A,01711111111,100', 'A again,01711111111,100'];
    const onlyDup = join(dir, 'dup.csv');
    await writeFile(onlyDup, rows.join('\n') + '\n');
    let io = capture();
    expect(await validateCommand({ csv: onlyDup, operators: OPERATORS }, io)).toBe(1);
    expect(io.stdout.at(-1)).toBe(
      `next: fix the row above in ${onlyDup} and validate again, or run it as it is: it repeats an earlier row and is not sent, nor written to the failed CSV`,
    );
    const mixed = join(dir, 'mixed.csv');
    await writeFile(mixed, [...rows, 'B,12345,100', 'C,01811111111,0'].join('\n') + '\n');
    io = capture();
    expect(await validateCommand({ csv: mixed, operators: OPERATORS }, io)).toBe(1);
    expect(io.stdout.at(-1)).toBe(
      `next: fix the rows above in ${mixed} and validate again, or run it as it is: the invalid rows are not sent; the 2 to fix come back in the failed CSV, the 1 duplicate does not`,
    );
  });

  it('counts are grouped like amounts', async () => {
    const big = join(dir, 'big.csv');
    const lines = ['Name,Mobile,Amount'];
    for (let i = 0; i < 1200; i++) lines.push(`P${i},017${String(i).padStart(8, '0')},${i < 1100 ? 50 : 1}`);
    await writeFile(big, lines.join('\n') + '\n');
    const io = capture();
    expect(await validateCommand({ csv: big, operators: OPERATORS }, io)).toBe(1);
    expect(io.stdout[0]).toBe(`${big}: 1,200 rows, 1,100 valid, 100 invalid`);
  });

  it('--json prints exactly one object with the summary keys', async () => {
    const io = capture();
    const out = join(dir, 'q.results.csv');
    const code = await validateCommand(
      { csv: 'fixtures/quirks.csv', operators: OPERATORS, json: true, out },
      io,
    );
    expect(io.stdout).toHaveLength(1);
    const json = JSON.parse(io.stdout[0]!);
    expect(Object.keys(json)).toEqual(['job', 'counts', 'amounts', 'results', 'same_number', 'exit_code']);
    expect(json).toMatchObject({ job: null, results: out, exit_code: code });
    expect(code).toBe(1);
    expect(Object.keys(json.counts)).toEqual(['rows', 'valid', 'invalid', 'byCode', 'warnings']);
    expect(json.counts.warnings).toBe(2);
    expect(json.same_number).toEqual({
      rows: 1,
      first: [
        {
          row: 52,
          line: 56,
          number: '01711000001',
          amount: 200,
          also: { row: 1, line: 2, amount: 100, invalid: false },
        },
      ],
    });
    expect(json.counts.rows).toBe(json.counts.valid + json.counts.invalid);
    const expected = JSON.parse(await readFile('fixtures/quirks.expected.json', 'utf8')) as Record<
      string,
      { code?: string }
    >;
    expect(json.counts.byCode.MALFORMED_ROW).toBe(
      Object.values(expected).filter((e) => e.code === 'MALFORMED_ROW').length,
    );
    expect(Object.keys(json.amounts)).toEqual(['total', 'byOperator']);
    const sum = Object.values(json.amounts.byOperator as Record<string, { amount: number }>).reduce(
      (a, o) => a + o.amount,
      0,
    );
    expect(sum).toBe(json.amounts.total);
    expect((await readFile(out, 'utf8')).split('\n')[0]).toContain('input_status');
  });

  it('--json without --out gives results null; --quiet prints nothing', async () => {
    const io = capture();
    await validateCommand({ csv: 'fixtures/payroll.csv', operators: OPERATORS, json: true }, io);
    expect(JSON.parse(io.stdout[0]!)).toMatchObject({
      results: null,
      exit_code: 0,
      counts: { rows: 120, byCode: {} },
    });
    const quiet = capture();
    expect(
      await validateCommand({ csv: 'fixtures/quirks.csv', operators: OPERATORS, quiet: true }, quiet),
    ).toBe(1);
    expect([...quiet.stdout, ...quiet.stderr]).toEqual([]);
  });

  it('honours --map and --allow-duplicates', async () => {
    const path = join(dir, 'odd.csv');
    await writeFile(path, 'Who,Cell,Pay\nA,01711111111,100\nB,01711111111,100\n');
    const io = capture();
    const opts = { csv: path, operators: OPERATORS, map: { number: 'Cell', amount: 'Pay' }, json: true };
    expect(await validateCommand(opts, io)).toBe(1);
    expect(JSON.parse(io.stdout[0]!).counts.byCode).toEqual({ DUPLICATE_ROW: 1 });
    expect(await validateCommand({ ...opts, allowDuplicates: true }, capture())).toBe(0);
  });

  it('throws MAX_TOTAL_EXCEEDED before printing or writing anything', async () => {
    const io = capture();
    const out = join(dir, 'max.results.csv');
    await expect(
      validateCommand(
        { csv: 'fixtures/payroll.csv', operators: OPERATORS, maxTotal: 1000, out, json: true },
        io,
      ),
    ).rejects.toMatchObject({ code: 'MAX_TOTAL_EXCEEDED' });
    expect(io.stdout).toEqual([]);
    await expect(readFile(out)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(
      await validateCommand(
        { csv: 'fixtures/payroll.csv', operators: OPERATORS, maxTotal: 1_000_000 },
        capture(),
      ),
    ).toBe(0);
  });

  it.each([
    ['missing.csv', null, 'FILE_NOT_FOUND'],
    ['header.csv', 'number,amount\n', 'FILE_NO_DATA'],
    ['noamount.csv', 'number,name\n1,2\n', 'HEADER_MISSING_COLUMN'],
    ['open.csv', 'number,amount\n01711111111,"100\n', 'CSV_PARSE'],
  ])('throws file errors (%s → %s) without output', async (name, content, want) => {
    const path = join(dir, name);
    if (content !== null) await writeFile(path, content);
    const io = capture();
    await expect(validateCommand({ csv: path, operators: OPERATORS, json: true }, io)).rejects.toMatchObject({
      code: want,
    });
    expect(io.stdout).toEqual([]);
  });

  it('shows five warnings, then how many more and how to see them all (no report asked for)', async () => {
    const io = capture();
    const path = join(dir, 'twice.csv');
    const first = Array.from({ length: 7 }, (_, i) => `P${i},0171234567${i},500`);
    const again = Array.from({ length: 7 }, (_, i) => `P${i},0171234567${i},${300 + i}`);
    await writeFile(path, ['Name,Mobile,Amount', ...first, ...again].join('\n') + '\n');
    expect(await validateCommand({ csv: path, operators: OPERATORS }, io)).toBe(0);
    expect(io.stdout).toContain('7 warnings (a warning alone does not make a row invalid):');
    expect(
      io.stdout.filter((l) => /^ {2}row \d+, line \d+: 0171234567\d is also on row/.test(l)),
    ).toHaveLength(5);
    expect(io.stdout).toContain('  … and 2 more — write the report with --out report.csv to see them all');
    expect(io.stdout).toContain(
      '  7 of them repeat the number of an earlier row with another amount: running the file pays them too — check they are meant',
    );
  });
});
