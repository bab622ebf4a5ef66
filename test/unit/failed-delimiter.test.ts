/**
 * The failed CSV is written with the input's delimiter (README "Results", SPEC §4 "in the
 * input's own columns … ready to fix and feed back"): a `;` or tab file comes back as a `;` or
 * tab file that the clerk's spreadsheet opens like theirs and this tool reads back; the results
 * and unknown CSVs stay `,`. The delimiter is the job's record (job.json `input`), so a later
 * process writes the same file, with or without the input.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { openCsv } from '../../src/csv/read.js';
import { AtomicCsv, csvPreamble } from '../../src/csv/write.js';
import { hashFile, type JobMeta } from '../../src/job/job.js';
import { plan } from '../../src/job/plan.js';
import type { RowState } from '../../src/job/rows.js';
import { defaultOutputs, failedFormat, writeResults } from '../../src/report/results.js';
import { createValidator, validateCsv } from '../../src/validate/index.js';
import { OPERATORS } from '../support/operators.js';

const dir = () => mkdtempSync(join(tmpdir(), 'rb-delim-'));

type Rows = Record<string, string>[];
const read = (path: string, delimiter: string): Rows =>
  parse(readFileSync(path), { bom: true, columns: true, delimiter }) as Rows;

/** The job's record of `input`, as `run` makes it (job/plan.ts). */
async function planned(input: string): Promise<JobMeta> {
  const { hash, size } = await hashFile(input);
  const client = { getOperators: async () => OPERATORS, account: 'acc', baseUrl: 'http://x/api/v1' };
  const p = await plan({ client, operators: OPERATORS }, input, 'pay-1', hash, size);
  for await (const row of p.rows) void row;
  return p.finish();
}

/**
 * A payroll sheet with `d` between cells: a name holding `;`, one holding `,`, a formula
 * in a failing row, an invalid number, a row the API refused and one completed.
 */
function sheet(d: string, sep = false): string {
  const q = (cell: string) =>
    cell.includes(d) || cell.includes('"') ? `"${cell.replaceAll('"', '""')}"` : cell;
  const lines = [
    ['Name', 'Mobile', 'Amount', 'Note'],
    ['Rahman; Md.', '01711111111', '100', 'paid'],
    ['Hasan, K.', '0123', '100', '=HYPERLINK("http://x")'],
    ['Akter', '01811111111', '500', 'refused'],
  ].map((cells) => cells.map(q).join(d));
  return (sep ? `sep=${d}\n` : '') + lines.join('\r\n') + '\r\n';
}

/** Row states for sheet(): 1 completed, 2 invalid, 3 failed with the API's 400. */
function states(): RowState[] {
  const base = { att: 1, line: 0, valid: true };
  const rows: RowState[] = [];
  rows[1] = {
    ...base,
    row: 1,
    status: 'completed',
    number: '01711111111',
    amount: 100,
    ref: 'r1',
    txn: 'T1',
  };
  rows[2] = {
    ...base,
    row: 2,
    valid: false,
    status: 'invalid',
    amount: 100,
    ref: null,
    code: 'INVALID_NUMBER',
    msg: 'row 2, line 3: "0123" is not a mobile number; write it like 01712345678',
  };
  rows[3] = {
    ...base,
    row: 3,
    status: 'failed',
    number: '01811111111',
    amount: 500,
    ref: 'r3',
    code: 'OPERATOR_ERROR',
    msg: 'operator declined; try again later',
  };
  return rows;
}

async function written(d: string, options: { sep?: boolean; bom?: boolean } = {}) {
  const folder = dir();
  const input = join(folder, 'pay.csv');
  writeFileSync(input, sheet(d, options.sep));
  const meta = await planned(input);
  const outputs = defaultOutputs(input);
  const jobDir = join(folder, 'state', 'pay-1');
  mkdirSync(jobDir, { recursive: true });
  const result = await writeResults(meta, states(), outputs, { bom: options.bom, jobDir });
  return { input, meta, outputs, jobDir, result };
}

describe('the job records how its input was read', () => {
  it.each([
    [',', false],
    [';', false],
    [';', true],
    ['\t', false],
    ['\t', true],
  ])('delimiter %j, sep= line %s', async (d, sep) => {
    const folder = dir();
    const input = join(folder, 'pay.csv');
    writeFileSync(input, sheet(d, sep));
    const meta = await planned(input);
    expect(meta.input.delimiter).toBe(d);
    expect(meta.input.sepLine === true).toBe(sep);
  });
});

describe('the failed CSV of a `;` or tab input', () => {
  it.each([';', '\t'])(
    'is written with %j, quoted where a cell holds it, every input cell guarded, and reads back as an input',
    async (d) => {
      const { outputs, result } = await written(d);
      expect(result.failed).toBe(outputs.failed);
      const text = readFileSync(outputs.failed, 'utf8');
      expect(text.startsWith(`\ufeffName${d}Mobile${d}Amount${d}Note${d}error_code${d}error_message\n`)).toBe(
        true,
      );
      const failed = read(outputs.failed, d);
      expect(failed).toEqual([
        {
          Name: 'Hasan, K.',
          Mobile: '0123',
          Amount: '100',
          Note: `'=HYPERLINK("http://x")`,
          error_code: 'INVALID_NUMBER',
          error_message: 'row 2, line 3: "0123" is not a mobile number; write it like 01712345678',
        },
        {
          Name: 'Akter',
          Mobile: '01811111111',
          Amount: '500',
          Note: 'refused',
          error_code: 'OPERATOR_ERROR',
          error_message: 'operator declined; try again later',
        },
      ]);
      // this tool reads it back with the same delimiter, in the input's columns and the two added
      const back = await openCsv(outputs.failed);
      expect(back.delimiter).toBe(d);
      expect(back.columns).toEqual(['Name', 'Mobile', 'Amount', 'Note', 'error_code', 'error_message']);
      const verdicts = [];
      for await (const v of (await createValidator(outputs.failed, { operators: OPERATORS })).rows())
        verdicts.push(v.ok ? 'valid' : v.code);
      expect(verdicts).toEqual(['INVALID_NUMBER', 'valid']);
    },
  );

  it('the results and unknown CSVs stay comma-separated', async () => {
    const { outputs } = await written(';');
    const results = read(outputs.results, ',');
    expect(results.map((r) => [r.Name, r.status, r.error_code])).toEqual([
      ['Rahman; Md.', 'completed', ''],
      ['Hasan, K.', 'invalid', 'INVALID_NUMBER'],
      ['Akter', 'failed', 'OPERATOR_ERROR'],
    ]);
    expect(readFileSync(outputs.results, 'utf8').split('\n')[0]).toBe(
      '\ufeffName,Mobile,Amount,Note,row,status,normalized_number,operator,amount,reference,transaction_id,error_code,error_message,submitted_at,completed_at',
    );
  });

  it('is the same file when written from the job record after the input is gone', async () => {
    const { input, meta, outputs, jobDir } = await written(';');
    rmSync(input);
    const again = await writeResults(meta, states(), outputs, { jobDir });
    expect(again.inputChanged).toMatch(/is gone/);
    const failed = read(outputs.failed, ';');
    expect(failed.map((r) => [r.Mobile, r.Amount, r.error_code])).toEqual([
      ['', '100', 'INVALID_NUMBER'],
      ['01811111111', '500', 'OPERATOR_ERROR'],
    ]);
  });

  it('a job made before the delimiter was kept writes it with commas', async () => {
    const folder = dir();
    const input = join(folder, 'pay.csv');
    writeFileSync(input, sheet(';'));
    const meta = await planned(input);
    delete meta.input.delimiter;
    const outputs = defaultOutputs(input);
    await writeResults(meta, states(), outputs);
    expect(read(outputs.failed, ',').map((r) => r.error_code)).toEqual(['INVALID_NUMBER', 'OPERATOR_ERROR']);
  });
});

describe('`validate --out` of a `;` input', () => {
  it('is comma-separated, like the results CSV whose columns it has', async () => {
    const folder = dir();
    const input = join(folder, 'pay.csv');
    writeFileSync(input, sheet(';', true));
    const out = join(folder, 'report.csv');
    await validateCsv(input, { operators: OPERATORS, out });
    expect(readFileSync(out, 'utf8').split('\n')[0]).toMatch(/^\ufeffName,Mobile,Amount,Note,row,status,/);
    expect(read(out, ',').map((r) => [r.Name, r.status])).toEqual([
      ['Rahman; Md.', 'valid'],
      ['Hasan, K.', 'invalid'],
      ['Akter', 'valid'],
    ]);
  });
});

describe("the input's `sep=` line", () => {
  it('is not written with a BOM (Excel would then ignore the BOM and garble Bengali names)', async () => {
    const { outputs } = await written(';', { sep: true });
    const text = readFileSync(outputs.failed, 'utf8');
    expect(text.startsWith('\ufeffName;Mobile;Amount;Note;error_code;error_message\n')).toBe(true);
    expect(text).not.toContain('sep=');
  });

  it.each([';', '\t'])('is written first with --no-bom, and read back as a sep= line (%j)', async (d) => {
    const { outputs } = await written(d, { sep: true, bom: false });
    const text = readFileSync(outputs.failed, 'utf8');
    expect(
      text.startsWith(`sep=${d}\nName${d}Mobile${d}Amount${d}Note${d}error_code${d}error_message\n`),
    ).toBe(true);
    const back = await openCsv(outputs.failed);
    expect(back).toMatchObject({ delimiter: d, sepLine: true, headerLine: 2 });
    expect(back.columns).toEqual(['Name', 'Mobile', 'Amount', 'Note', 'error_code', 'error_message']);
  });

  it('failedFormat: the delimiter kept, the sep= line only without a BOM, `,` for older jobs', () => {
    const input = { path: 'p', hash: 'h', size: 1 };
    expect(failedFormat({ ...input, delimiter: ';', sepLine: true })).toEqual({
      bom: true,
      delimiter: ';',
      sepLine: false,
    });
    expect(failedFormat({ ...input, delimiter: '\t', sepLine: true }, false)).toEqual({
      bom: false,
      delimiter: '\t',
      sepLine: true,
    });
    expect(failedFormat(input, false)).toEqual({ bom: false, delimiter: ',', sepLine: false });
  });
});

describe('a stale failed CSV holding only the header', () => {
  it('is recognised in the `;` format and removed when the job has no failed rows', async () => {
    const { outputs, jobDir, meta } = await written(';', { sep: true, bom: false });
    // somebody else's header-only copy (not the job's own file): removed only because it holds nothing
    const header = readFileSync(outputs.failed, 'utf8').split('\n').slice(0, 2).join('\n') + '\n';
    rmSync(outputs.failed);
    writeFileSync(outputs.failed, header);
    const done = states().map((r) => r && { ...r, status: 'completed' as const, code: undefined, txn: 'T' });
    const again = await writeResults(meta, done, outputs, { jobDir, bom: false });
    expect(again.failed).toBeNull();
    expect(again.warnings).toEqual([]);
    expect(existsSync(outputs.failed)).toBe(false);
  });
});

describe('AtomicCsv with a delimiter', () => {
  it('writes the BOM, the sep= line, the header and rows with it, quoting cells that hold it', async () => {
    const path = join(dir(), 'x.csv');
    const file = await AtomicCsv.create(path, ['a;b', 'c'], { delimiter: ';', sepLine: true });
    await file.write([['1;2', 'x,y']]);
    await file.commit();
    expect(readFileSync(path, 'utf8')).toBe('\ufeffsep=;\n"a;b";c\n"1;2";x,y\n');
    expect(csvPreamble(['a', 'b\tc'], { bom: false, delimiter: '\t' })).toBe('a\t"b\tc"\n');
  });
});
