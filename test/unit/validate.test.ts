import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATORS } from '../support/operators.js';
import { batchError, verdicts } from '../support/validate.js';
import { RESULT_COLUMNS } from '../../src/report/columns.js';
import {
  createValidator,
  loadOperatorsFile,
  parseMapOption,
  validateCsv,
  type RowVerdict,
} from '../../src/validate/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'validate-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

const code = async (promise: Promise<unknown>): Promise<string> => (await batchError(promise)).code;

interface Expected {
  line: number;
  status: 'valid' | 'invalid';
  code?: string;
  number?: string;
  amount?: number;
  operator?: string;
  reference?: string;
  warning?: boolean;
  /** a part the message must hold (line numbers, escaped invisible characters, the advice) */
  message?: string;
  note: string;
}

describe('fixtures/quirks.csv against quirks.expected.json', async () => {
  const expected = JSON.parse(await readFile('fixtures/quirks.expected.json', 'utf8')) as Record<
    string,
    Expected
  >;
  const got = new Map((await verdicts('fixtures/quirks.csv')).map((v) => [String(v.row), v]));

  it('has one verdict per expected row, no more', () => {
    expect([...got.keys()]).toEqual(Object.keys(expected));
  });

  it.each(Object.entries(expected))('row %s', (row, want) => {
    const v = got.get(row)!;
    const value = v.ok ? v.value : v.partial;
    expect(
      { line: v.line, status: v.ok ? 'valid' : 'invalid', code: v.ok ? undefined : v.code },
      want.note,
    ).toEqual({
      line: want.line,
      status: want.status,
      code: want.code,
    });
    if (want.number !== undefined) expect(value.number).toBe(want.number);
    if (want.amount !== undefined) expect(value.amount).toBe(want.amount);
    if (want.operator !== undefined) expect(value.operatorName).toBe(want.operator);
    if (want.reference !== undefined) expect(value.reference).toBe(want.reference);
    expect(value.warning !== undefined, 'warning').toBe(want.warning ?? false);
    if (!v.ok) expect(v.message).toMatch(new RegExp(`^line ${want.line}: `));
    if (want.message !== undefined) expect(v.ok ? '' : v.message, want.note).toContain(want.message);
  });

  it('gives the operator range in AMOUNT_OUT_OF_RANGE messages', () => {
    const tt = [...got.values()].find(
      (v) => !v.ok && v.code === 'AMOUNT_OUT_OF_RANGE' && v.partial.operatorName === 'Teletalk',
    );
    expect(tt && !tt.ok && tt.message).toContain('10–500');
  });
});

describe('clean fixtures', () => {
  it('payroll.csv: 120 valid rows, unique numbers, Teletalk within its range', async () => {
    const summary = await validateCsv('fixtures/payroll.csv', { operators: OPERATORS });
    expect(summary).toMatchObject({ rows: 120, valid: 120, invalid: 0, warnings: 0 });
    expect(Object.keys(summary.byOperator).sort()).toEqual([
      'Airtel',
      'Banglalink',
      'Grameenphone',
      'Robi',
      'Teletalk',
    ]);
    const all = await verdicts('fixtures/payroll.csv', { allowDuplicates: true });
    expect(new Set(all.map((v) => v.ok && v.value.number)).size).toBe(120);
    expect(all.every((v) => v.ok && v.value.amount >= 50 && v.value.amount <= 1000)).toBe(true);
  });

  it('promotion.csv: ; delimiter, explicit operators in any spelling, references, two ported numbers', async () => {
    const all = await verdicts('fixtures/promotion.csv');
    expect(all.every((v) => v.ok)).toBe(true);
    expect(all.filter((v) => v.ok && v.value.warning).map((v) => v.row)).toEqual([33, 34]);
    expect(all.every((v) => v.ok && /^EID24-\d{4}$/.test(v.value.reference ?? ''))).toBe(true);
    const summary = await validateCsv('fixtures/promotion.csv', { operators: OPERATORS });
    expect(Object.keys(summary.byOperator)).toHaveLength(5);
  });
});

describe('rules', () => {
  it('a totals row (empty number, a "Total" cell) is said to be one, not a mobile number left empty', async () => {
    const path = await file(
      'totals.csv',
      'Name,Mobile,Amount\nA,01711111111,100\n,,7\nTotal,,100\nGRAND TOTAL:,,100\nমোট,,100\nTotalina Rahman,,100\n',
    );
    const messages = (await verdicts(path)).map((v) => (v.ok ? 'ok' : `${v.code}: ${v.message}`));
    const totals = (line: number, label: string) =>
      `INVALID_NUMBER: line ${line}: this looks like a totals row ("${label}"), not a payment: it is never sent — delete it from the file, or leave it`;
    expect(messages).toEqual([
      'ok',
      'INVALID_NUMBER: line 3: mobile number is empty',
      totals(4, 'Total'),
      totals(5, 'GRAND TOTAL:'),
      totals(6, 'মোট'),
      'INVALID_NUMBER: line 7: mobile number is empty',
    ]);
  });

  it('--allow-duplicates keeps repeated rows valid, but not repeated references', async () => {
    const path = await file(
      'dups.csv',
      'number,amount,ref\n01711111111,100,\n01711111111,100,\n01811111111,50,R1\n01911111111,50,R1\n',
    );
    const codes = (vs: RowVerdict[]) => vs.map((v) => (v.ok ? 'ok' : v.code));
    expect(codes(await verdicts(path))).toEqual(['ok', 'DUPLICATE_ROW', 'ok', 'DUPLICATE_REFERENCE']);
    expect(codes(await verdicts(path, { allowDuplicates: true }))).toEqual([
      'ok',
      'ok',
      'ok',
      'DUPLICATE_REFERENCE',
    ]);
  });

  it('batches() gives the same verdicts as rows()', async () => {
    const v = await createValidator('fixtures/quirks.csv', { operators: OPERATORS });
    const flat: RowVerdict[] = [];
    for await (const batch of v.batches()) flat.push(...batch);
    expect(flat).toEqual(await verdicts('fixtures/quirks.csv'));
  });

  it('each rows() pass starts with fresh duplicate state', async () => {
    const path = await file('twice.csv', 'number,amount\n01711111111,100\n');
    const v = await createValidator(path, { operators: OPERATORS });
    for (let i = 0; i < 2; i++) for await (const verdict of v.rows()) expect(verdict.ok).toBe(true);
  });

  it('says UNKNOWN_OPERATOR when the list has no operator for the prefix', async () => {
    const path = await file('tt.csv', 'number,amount\n01511111111,100\n');
    const [v] = await verdicts(path, { operators: OPERATORS.filter((op) => op.code !== 'TT') });
    expect(v).toMatchObject({ ok: false, code: 'UNKNOWN_OPERATOR' });
  });
});

describe('header mapping', () => {
  it.each([
    ['Mobile Number,Amount (BDT)', [0, 1, null, null]],
    ['msisdn;taka;telco;Ref ID', [0, 1, 2, 3]],
    ['Name,Phone No.,Top-up Amount,Operator Name,Reference No', [1, 2, 3, 4]],
    ['MOBILE,Amount [Taka],x', [0, 1, null, null]],
    ['value,number,operator_code,referenceid', [1, 0, 2, 3]],
  ])('%s', async (header, roles) => {
    const sep = header.includes(';') ? ';' : ',';
    const width = header.split(sep).length;
    const path = await file('h.csv', `${header}\n${Array(width).fill('1').join(sep)}\n`);
    const v = await createValidator(path, { operators: OPERATORS });
    expect([v.roles.number, v.roles.amount, v.roles.operator, v.roles.reference]).toEqual(roles);
  });

  it('--map names columns as written, case-insensitively, over the aliases', async () => {
    const path = await file('m.csv', 'Staff,Contact Cell,Payout,Phone\nA,01711111111,100,n/a\n');
    const map = parseMapOption(['number= contact cell ', 'amount=PAYOUT']);
    const v = await createValidator(path, { operators: OPERATORS, map });
    expect(v.roles).toEqual({ number: 1, amount: 2, operator: null, reference: null });
    const [verdict] = await verdicts(path, { map });
    expect(verdict).toMatchObject({ ok: true, value: { number: '01711111111', amount: 100 } });
  });

  it.each([
    ['Name,Amount\nA,1\n', undefined, 'HEADER_MISSING_COLUMN'],
    ['Mobile,Comment\n1,1\n', undefined, 'HEADER_MISSING_COLUMN'],
    ['Mobile,Phone,Amount\n1,1,1\n', undefined, 'HEADER_AMBIGUOUS'],
    ['Mobile,Amount,Amount (BDT)\n1,1,1\n', undefined, 'HEADER_AMBIGUOUS'],
    ['Cell,Amount\n1,1\n', ['number=Mobile'], 'HEADER_MISSING_COLUMN'],
    ['Cell,cell,Amount\n1,1,1\n', ['number=CELL'], 'HEADER_AMBIGUOUS'],
  ])('%j with --map %j → %s', async (content, map, want) => {
    const path = await file('bad-header.csv', content);
    expect(await code(createValidator(path, { operators: OPERATORS, map: parseMapOption(map) }))).toBe(want);
  });

  it('names the offending columns', async () => {
    const path = await file('amb.csv', 'Mobile,Phone,Amount\n1,1,1\n');
    await expect(createValidator(path, { operators: OPERATORS })).rejects.toThrow(/"Mobile" and "Phone"/);
  });

  it('a mapped column resolves an otherwise ambiguous header', async () => {
    const path = await file('amb2.csv', 'Mobile,Phone,Amount\n01711111111,x,100\n');
    const v = await createValidator(path, { operators: OPERATORS, map: { number: 'Mobile' } });
    expect(v.roles.number).toBe(0);
  });

  it.each([['number'], ['number='], ['phone=Mobile'], ['=Mobile']])('parseMapOption refuses %j', (value) => {
    expect(() => parseMapOption([value])).toThrow(expect.objectContaining({ code: 'HEADER_MAP_INVALID' }));
  });

  it('parseMapOption refuses a role given twice, accepts = in a column name', () => {
    expect(() => parseMapOption(['number=A', 'NUMBER=B'])).toThrow(
      expect.objectContaining({ code: 'HEADER_MAP_INVALID' }),
    );
    expect(parseMapOption(['amount=Pay=Out'])).toEqual({ amount: 'Pay=Out' });
    expect(parseMapOption(undefined)).toEqual({});
  });
});

describe('loadOperatorsFile', () => {
  it('reads the bare array and the API answer', async () => {
    const bare = await file('ops.json', JSON.stringify(OPERATORS));
    const api = await file(
      'ops-api.json',
      JSON.stringify({ success: true, data: OPERATORS.map((o) => ({ ...o, min_amount: '10.00' })) }),
    );
    expect(await loadOperatorsFile(bare)).toEqual(OPERATORS);
    expect((await loadOperatorsFile(api))[0]!.min_amount).toBe(10);
  });

  it.each([
    ['missing', null],
    ['not json', '{'],
    ['empty list', '[]'],
    ['wrong shape', '{"operators": []}'],
    ['bad entry', '[{"id": 1, "name": "GP"}]'],
    ['failure answer', '{"success": false, "data": []}'],
  ])('refuses %s', async (_what, content) => {
    const path = content === null ? join(dir, 'none.json') : await file('bad-ops.json', content);
    expect(await code(loadOperatorsFile(path))).toBe('OPERATORS_FILE_INVALID');
  });
});

describe('validateCsv report (--out)', () => {
  it('writes input columns (status renamed) + RESULT_COLUMNS, one line per data row, guarded free text', async () => {
    const out = join(dir, 'quirks.report.csv');
    const summary = await validateCsv('fixtures/quirks.csv', { operators: OPERATORS, out });
    const [header, ...rows] = parse(await readFile(out, 'utf8'), {
      bom: true,
      relax_column_count: true,
    }) as string[][];
    expect(header).toEqual([
      'Name',
      'Mobile No',
      'Amount (BDT)',
      'Operator',
      'Reference',
      'input_status',
      ...RESULT_COLUMNS,
    ]);
    expect(rows).toHaveLength(summary.rows);
    expect(rows.every((r) => r.length === header!.length)).toBe(true);
    const col = (name: string) => header!.indexOf(name);
    const byName = (name: string) => rows.find((r) => r[0]!.includes(name))!;
    expect(rows.map((r) => r[col('row')])).toEqual(rows.map((_, i) => String(i + 1)));

    const formula = byName('HYPERLINK');
    expect(formula[0]).toBe(`'=HYPERLINK("http://x")`);
    expect(formula[col('input_status')]).toBe(`'=1+1`);
    expect(formula[col('status')]).toBe('valid');

    const plus = byName('Plus 880');
    expect(plus[col('Mobile No')]).toBe(`'+8801811000003`); // every input cell is guarded, even one that parsed
    expect(plus.slice(col('normalized_number'), col('amount') + 1)).toEqual(['01811000003', 'Robi', '150']);

    const negative = byName('Negative');
    expect(negative[col('Amount (BDT)')]).toBe(`'-50`); // not a valid amount: free text, guarded
    expect([negative[col('status')], negative[col('error_code')]]).toEqual(['invalid', 'INVALID_AMOUNT']);
    expect(negative[col('error_message')]).toMatch(/^line \d+: amount "-50" is negative$/);

    expect(byName('Ported')[col('error_message')]).toMatch(/^warning: operator Robi given/);
    expect(byName('Ported')[col('error_code')]).toBe('');
    expect(byName('Good Reference')[col('reference')]).toBe('PAY-2024_029');
    const malformed = byName('Short Row');
    expect(malformed.slice(0, 6)).toEqual(['Short Row', '01711000032', '100', '', '', '']);
    expect(malformed[col('error_code')]).toBe('MALFORMED_ROW');
  });

  it('keeps extra fields of a malformed row in the last input cell', async () => {
    const path = await file('extra.csv', 'number,amount\n01711111111,100,oops,more\n01711111112,100\n');
    const out = join(dir, 'extra.report.csv');
    await validateCsv(path, { operators: OPERATORS, out });
    const rows = parse(await readFile(out, 'utf8')) as string[][];
    expect(rows[1]!.slice(0, 2)).toEqual(['01711111111', '100,oops,more']);
  });

  it('writes nothing for a file without data, and refuses to overwrite the input', async () => {
    const path = await file('nodata.csv', 'number,amount\n');
    const out = join(dir, 'nodata.report.csv');
    expect(await code(validateCsv(path, { operators: OPERATORS, out }))).toBe('FILE_NO_DATA');
    await expect(readFile(out)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(
      await code(
        validateCsv('fixtures/payroll.csv', { operators: OPERATORS, out: './fixtures/payroll.csv' }),
      ),
    ).toBe('USAGE');
  });

  it('validates a UTF-16LE file (Excel "Unicode text")', async () => {
    const text = 'Name\tMobile\tAmount\r\nরহিম\t০১৭১১১১১১১১\t১০০\r\nকরিম\t01811111111\t50\r\n';
    const path = join(dir, 'unicode.txt');
    await writeFile(path, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    const summary = await validateCsv(path, { operators: OPERATORS });
    expect(summary).toMatchObject({ rows: 2, valid: 2, totalAmount: 150 });
  });
});

describe('a fed-back failed CSV', () => {
  it('a row may leave out the trailing error_code/error_message cells, and nothing more', async () => {
    const path = await file(
      'pay.failed.csv',
      [
        'Name,Mobile Number,Amount,error_code,error_message',
        'As written,01712345678,50,OPERATOR_FAILURE,refunded',
        'No message,01812345678,50,OPERATOR_FAILURE',
        'By hand,01912345678,50',
        'Too short,01312345678',
        'Too long,01412345678,50,,,x',
      ].join('\n') + '\n',
    );
    const got = (await verdicts(path)).map((v) => (v.ok ? 'valid' : v.code));
    expect(got).toEqual(['valid', 'valid', 'valid', 'MALFORMED_ROW', 'MALFORMED_ROW']);
  });
});
