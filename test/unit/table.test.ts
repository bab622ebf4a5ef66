/**
 * The compact row table (src/job/table.ts): what a job's rows read back after plan and journal
 * records must be what plain row objects would hold (rows.ts), including the references a
 * retry gives and the invalid rows' messages, which are read back from the plan file.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RowTable } from '../../src/job/table.js';
import {
  applyRecord,
  initialState,
  liveCounts,
  tally,
  type PlannedRow,
  type RowState,
} from '../../src/job/rows.js';
import type { JournalRecord } from '../../src/job/journal.js';

const JOB = 'pay-1a2b3c4d';
const planned: PlannedRow[] = [
  {
    row: 1,
    line: 2,
    valid: true,
    number: '01711000001',
    amount: 100,
    operatorId: 1,
    operatorName: 'Grameenphone',
  },
  {
    row: 2,
    line: 3,
    valid: true,
    number: '01811000002',
    amount: 250,
    operatorId: 2,
    operatorName: 'Robi',
    explicitRef: 'PAY-2',
  },
  {
    row: 3,
    line: 4,
    valid: false,
    number: undefined,
    amount: 50,
    explicitRef: null,
    code: 'INVALID_NUMBER',
    msg: 'row 3 (line 4): "02x" is not a mobile number — ৳ ok',
  },
  {
    row: 4,
    line: 6,
    valid: true,
    number: '01911000004',
    amount: 75,
    operatorId: 3,
    operatorName: 'Banglalink',
    warning: 'operator differs from the prefix',
  },
];
const records: JournalRecord[] = [
  { t: 'intent', row: 1, att: 1, ref: `rb-x-1`, at: 1_700_000_000_123 },
  { t: 'accepted', row: 1, att: 1, txn: 'TXN-1', st: 'processing', op: 'GP', at: 1_700_000_000_200 },
  {
    t: 'final',
    row: 1,
    att: 1,
    txn: 'TXN-1',
    st: 'failed',
    code: 'OPERATOR_ERROR',
    msg: 'declined',
    at: 1_700_000_001_000,
    done: '2024-01-01 10:00:00',
  },
  { t: 'intent', row: 2, att: 1, ref: 'PAY-2', at: 1_700_000_002_000 },
  { t: 'unknown', row: 2, att: 1, code: 'NO_ANSWER', msg: 'no answer', at: 1_700_000_003_000 },
  { t: 'intent', row: 4, att: 1, ref: 'rb-4', at: 1_700_000_004_000 },
  {
    t: 'skipped',
    row: 4,
    att: 1,
    code: 'ALREADY_PAID',
    msg: 'paid before',
    prev: 'old-job',
    paid: true,
    at: 5,
  },
  { t: 'retry', att: 2, failed: [1], unknown: [2], at: 6 },
];

function plainRows(): RowState[] {
  const rows: RowState[] = [];
  for (const p of planned) rows[p.row] = initialState(JOB, p);
  for (const rec of records) applyRecord(JOB, rows, rec);
  return rows;
}

function tableRows(): RowState[] {
  const dir = mkdtempSync(join(tmpdir(), 'rb-table-'));
  const plan = join(dir, 'plan.jsonl');
  const lines = planned.map((p) => JSON.stringify(p) + '\n');
  writeFileSync(plan, lines.join(''));
  const table = new RowTable(JOB, planned.length, plan);
  let at = 0;
  planned.forEach((p, i) => {
    table.add(p, at);
    at += Buffer.byteLength(lines[i]!);
  });
  for (const rec of records) applyRecord(JOB, table.rows, rec);
  return table.rows;
}

/** The row's fields as JSON; a null and an absent explicit reference mean the same (none). */
const fields = (r: RowState | undefined) =>
  r === undefined
    ? undefined
    : JSON.parse(JSON.stringify(r, (_k, v: unknown) => (v === null ? undefined : v)));

describe('RowTable', () => {
  it('holds, row for row, what plain row objects hold after the same plan and journal', () => {
    const plain = plainRows();
    const table = tableRows();
    expect(table.length).toBe(plain.length);
    for (let n = 0; n < plain.length; n++) expect(fields(table[n])).toEqual(fields(plain[n]));
    // a failed row retried gets a new reference; an unknown one keeps its own (the API may have it)
    expect(table[1]!.ref).toBe(plain[1]!.ref);
    expect(table[1]!.ref).toMatch(/-a2$/);
    expect(table[2]!.ref).toBe('PAY-2');
    expect(table[3]!.msg).toBe(planned[2]!.msg);
    expect(tally(table)).toEqual(tally(plain));
    expect(liveCounts(table)).toEqual({ pending: 2, invalid: 1, skipped: 1 });
  });

  it('keeps what it is given when more distinct codes come than 16 bits can number', () => {
    const table = new RowTable(JOB, 70_000);
    for (let n = 1; n <= 70_000; n++)
      table.add({ row: n, line: n + 1, valid: false, code: `CODE_${n}`, msg: `m${n}`, amount: n });
    expect(table.rows[1]!.code).toBe('CODE_1');
    expect(table.rows[70_000]!.code).toBe('CODE_70000');
    expect(table.rows[66_000]!.msg).toBe('m66000');
  });
});
