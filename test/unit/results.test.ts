import { describe, expect, it } from 'vitest';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { hashFile, type JobMeta } from '../../src/job/job.js';
import type { RowState } from '../../src/job/rows.js';
import { defaultOutputs, refuseInputAsOutput, writeResults } from '../../src/report/results.js';

const dir = () => mkdtempSync(join(tmpdir(), 'rb-results-'));
const read = (path: string) =>
  parse(readFileSync(path), { bom: true, columns: true }) as Record<string, string>[];

async function job(d: string) {
  const input = join(d, 'pay.csv');
  writeFileSync(
    input,
    'name,mobile,amount\nA,01711111111,100\nB,01811111111,100\nC,01911111111,50\nD,01911111111,50\nE,0123,10\nF,01611111111,20\n',
  );
  const { hash, size } = await hashFile(input);
  const meta: JobMeta = {
    version: 1,
    job: 'pay-1',
    input: { path: input, hash, size },
    columns: ['name', 'mobile', 'amount'],
    roles: { number: 1, amount: 2, operator: null, reference: null },
    options: { allowDuplicates: false },
    rows: 6,
    valid: 4,
    total: 320,
    createdAt: '2026-01-01T00:00:00.000Z',
  };
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
    status: 'unknown',
    number: '01811111111',
    amount: 100,
    ref: 'r2',
    code: 'NO_ANSWER',
    msg: 'sent',
  };
  rows[3] = {
    ...base,
    row: 3,
    status: 'failed',
    number: '01911111111',
    amount: 50,
    ref: 'r3',
    txn: 'T3',
    code: 'OPERATOR_FAILURE',
    msg: 'down',
  };
  rows[4] = {
    ...base,
    row: 4,
    valid: false,
    status: 'invalid',
    number: '01911111111',
    amount: 50,
    ref: null,
    code: 'DUPLICATE_ROW',
    msg: 'repeats row 3',
  };
  rows[5] = {
    ...base,
    row: 5,
    valid: false,
    status: 'invalid',
    amount: 10,
    ref: null,
    code: 'INVALID_NUMBER',
    msg: 'bad',
  };
  // a status this code does not know yet (e.g. one added later): in the results only
  rows[6] = {
    ...base,
    row: 6,
    status: 'skipped' as RowState['status'],
    number: '01611111111',
    amount: 20,
    ref: 'r6',
    code: 'ALREADY_PAID',
  };
  return { input, meta, rows };
}

describe('writeResults', () => {
  it('failed.csv: failed and invalid rows but DUPLICATE_ROW; unknown.csv: unknown rows; other statuses in neither', async () => {
    const d = dir();
    const { input, meta, rows } = await job(d);
    const outputs = defaultOutputs(input);
    const jobDir = join(d, 'state', 'pay-1');
    mkdirSync(jobDir, { recursive: true });
    const written = await writeResults(meta, rows, outputs, { jobDir });
    expect(written).toEqual({ ...outputs, failedRows: 2, inputChanged: null, warnings: [] });
    expect(read(outputs.results).map((r) => [r.name, r.status])).toEqual([
      ['A', 'completed'],
      ['B', 'unknown'],
      ['C', 'failed'],
      ['D', 'invalid'],
      ['E', 'invalid'],
      ['F', 'skipped'],
    ]);
    expect(read(outputs.failed).map((r) => [r.name, r.error_code])).toEqual([
      ['C', 'OPERATOR_FAILURE'],
      ['E', 'INVALID_NUMBER'],
    ]);
    expect(read(outputs.unknown).map((r) => [r.name, r.reference, r.error_code])).toEqual([
      ['B', 'r2', 'NO_ANSWER'],
    ]);

    // no unknown row any more: the stale unknown CSV the job wrote goes
    rows[2] = { ...rows[2]!, status: 'completed', txn: 'T2' };
    const again = await writeResults(meta, rows, outputs, { jobDir });
    expect(again.unknown).toBeNull();
    expect(again.warnings).toEqual([]);
    expect(existsSync(outputs.unknown)).toBe(false);

    // a writer that cannot tell whose a file with rows is (no job dir) leaves it, and says so
    const other = readFileSync(outputs.failed, 'utf8');
    writeFileSync(outputs.unknown, other);
    const blind = await writeResults(meta, rows, outputs);
    expect(blind.warnings).toEqual([
      expect.stringContaining(`${outputs.unknown} was not written by this job`),
    ]);
    expect(readFileSync(outputs.unknown, 'utf8')).toBe(other);
  });

  it('an input that changed is not used: each row keeps its own number and amount, other cells empty', async () => {
    const d = dir();
    const { input, meta, rows } = await job(d);
    const lines = readFileSync(input, 'utf8').split('\n');
    [lines[1], lines[2]] = [lines[2]!, lines[1]!]; // sorted in a spreadsheet: A and B change places
    writeFileSync(input, lines.join('\n'));
    const written = await writeResults(meta, rows, defaultOutputs(input));
    expect(written.inputChanged).toMatch(/has changed since job pay-1/);
    const results = read(written.results);
    expect(results.map((r) => [r.name, r.mobile, r.input_amount, r.normalized_number])).toEqual([
      ['', '01711111111', '100', '01711111111'],
      ['', '01811111111', '100', '01811111111'],
      ['', '01911111111', '50', '01911111111'],
      ['', '01911111111', '50', '01911111111'],
      ['', '', '10', ''],
      ['', '01611111111', '20', '01611111111'],
    ]);
  });
});

describe('stale failed and unknown CSVs', () => {
  it('a header-only file (as earlier versions wrote) goes whoever made it; a file with rows no job recorded stays', async () => {
    const d = dir();
    const { input, meta, rows } = await job(d);
    const outputs = defaultOutputs(input);
    const jobDir = join(d, 'state', 'pay-1');
    mkdirSync(jobDir, { recursive: true });
    // every row completed: neither file is this job's to write
    const done = rows.map((r) => r && { ...r, status: 'completed' as const, code: undefined, txn: 'T' });
    writeFileSync(outputs.failed, '\ufeffname,mobile,amount,error_code,error_message\n');
    writeFileSync(outputs.unknown, 'name,mobile,amount\nX,01712345678,50\n');
    const written = await writeResults(meta, done, outputs, { jobDir });
    expect(written.failed).toBeNull();
    expect(existsSync(outputs.failed)).toBe(false);
    expect(readFileSync(outputs.unknown, 'utf8')).toBe('name,mobile,amount\nX,01712345678,50\n');
    expect(written.warnings).toEqual([
      `${outputs.unknown} was not written by this job (which has no unknown rows): left as it is — do not feed it back without checking it`,
    ]);
  });
});

describe('refuseInputAsOutput', () => {
  it('refuses the input under another spelling or as a hard link, and nothing else', async () => {
    const d = dir();
    const { input } = await job(d);
    linkSync(input, join(d, 'hard.csv'));
    for (const out of [join(d, '.', 'x', '..', 'pay.csv'), join(d, 'hard.csv')]) {
      await expect(refuseInputAsOutput(input, defaultOutputs(input, out))).rejects.toMatchObject({
        code: 'USAGE',
      });
    }
    await expect(refuseInputAsOutput(input, { report: input })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(refuseInputAsOutput(input, defaultOutputs(input))).resolves.toBeUndefined();
  });
});
