/**
 * Per-row state of a job, rebuilt by replaying the plan and the journal. This is all the
 * memory a job holds per row; the input's own cells are re-read from the file when the
 * results are written.
 */
import { createHash } from 'node:crypto';
import type { JournalRecord } from './journal.js';
import type { IntentRef } from './registry-contract.js';
import type { RowVerdict } from '../validate/index.js';

export const ROW_STATUSES = [
  'pending',
  'processing',
  'completed',
  'failed',
  'invalid',
  'unknown',
  'skipped',
] as const;
export type RowStatus = (typeof ROW_STATUSES)[number];
/** `sending`: an intent without an answer yet. Never seen outside a live process. */
export type LiveStatus = RowStatus | 'sending';

export interface PlannedRow {
  row: number;
  line: number;
  valid: boolean;
  number?: string;
  amount?: number;
  operatorId?: number | string;
  operatorName?: string;
  /** the reference written in the file, if any */
  explicitRef?: string | null;
  warning?: string;
  /** invalid rows: the validation verdict */
  code?: string;
  msg?: string;
}

export interface RowState extends PlannedRow {
  status: LiveStatus;
  att: number;
  ref: string | null;
  txn?: string;
  /** operator name as the API gave it */
  apiOperator?: string;
  code?: string;
  msg?: string;
  submittedAt?: number;
  completedAt?: string | number;
  /** `skipped` rows: the job that paid (or may have paid) this number and amount before */
  prevJob?: string;
  /** `skipped` rows: that earlier payment is a completed transaction (SPEC §5a exit 0) */
  prevPaid?: boolean;
  /** `skipped` rows: the earlier intent, looked up again when the job is resumed (SPEC §5a) */
  prevIntent?: IntentRef;
}

export const NO_ANSWER = 'NO_ANSWER';

/** A validation verdict as the plan records it (plan.jsonl, one line per row). */
export function plannedRow(v: RowVerdict): PlannedRow {
  if (v.ok) {
    const { value } = v;
    return {
      row: v.row,
      line: v.line,
      valid: true,
      number: value.number,
      amount: value.amount,
      operatorId: value.operatorId,
      operatorName: value.operatorName,
      explicitRef: value.reference,
      ...(value.warning ? { warning: value.warning } : {}),
    };
  }
  return {
    row: v.row,
    line: v.line,
    valid: false,
    number: v.partial.number,
    amount: v.partial.amount,
    operatorName: v.partial.operatorName,
    explicitRef: v.partial.reference ?? null,
    code: v.code,
    msg: v.message,
  };
}

/** What the compact row table (table.ts) offers the counting below, reached through its rows array. */
export interface StatusSource {
  readonly length: number;
  readonly amount: Float64Array;
  has(n: number): boolean;
  statusOf(n: number): LiveStatus;
}
/** The key under which a table's rows array hands out its {@link StatusSource}. */
export const ROW_TABLE = Symbol('rows.table');

function tableOf(rows: readonly (RowState | undefined)[]): StatusSource | undefined {
  return (rows as unknown as { [ROW_TABLE]?: StatusSource })[ROW_TABLE];
}

/**
 * The reference sent with a row (SPEC §3): the file's own if it has one, else generated from
 * the job name and row — the same across resumes. Attempt n > 1 (a `retry`) gets a new one.
 */
export function makeReference(job: string, row: number, att: number, explicit?: string | null): string {
  const suffix = att > 1 ? `-a${att}` : '';
  if (explicit) return att > 1 ? explicit.slice(0, 64 - suffix.length) + suffix : explicit;
  return `rb-${jobHash(job)}-${row}${suffix}`;
}

/** The job name's part of a generated reference; computed once per job, not once per row. */
const jobHashes = new Map<string, string>();
function jobHash(job: string): string {
  let h = jobHashes.get(job);
  if (h === undefined) {
    h = createHash('sha256').update(job).digest('hex').slice(0, 12);
    if (jobHashes.size > 100) jobHashes.clear();
    jobHashes.set(job, h);
  }
  return h;
}

export function initialState(job: string, p: PlannedRow): RowState {
  return {
    ...p,
    status: p.valid ? 'pending' : 'invalid',
    att: 1,
    ref: p.valid ? makeReference(job, p.row, 1, p.explicitRef) : (p.explicitRef ?? null),
  };
}

function clearOutcome(r: RowState): void {
  r.txn = undefined;
  r.code = undefined;
  r.msg = undefined;
  r.completedAt = undefined;
  r.apiOperator = undefined;
}

/** Applies one journal record to the rows (indexed by row number). */
export function applyRecord(job: string, rows: RowState[], rec: JournalRecord): void {
  if (rec.t === 'retry') {
    for (const n of rec.failed) {
      const r = rows[n];
      if (!r) continue;
      clearOutcome(r);
      r.status = 'pending';
      r.att = rec.att;
      r.ref = makeReference(job, r.row, rec.att, r.explicitRef);
      r.submittedAt = undefined;
    }
    for (const n of rec.unknown) {
      const r = rows[n];
      if (!r) continue;
      clearOutcome(r);
      r.status = 'pending';
      r.att = rec.att; // same reference: the API may already have this one
      r.submittedAt = undefined;
    }
    return;
  }
  const r = rows[rec.row];
  if (!r) return;
  switch (rec.t) {
    case 'intent':
      clearOutcome(r);
      r.status = 'sending';
      r.att = rec.att;
      r.ref = rec.ref;
      r.submittedAt = rec.at;
      break;
    case 'accepted':
      r.txn = rec.txn;
      r.status = rec.st;
      if (rec.op) r.apiOperator = rec.op;
      if (rec.st !== 'processing') r.completedAt = rec.done ?? rec.at;
      if (rec.code) r.code = rec.code;
      if (rec.msg) r.msg = rec.msg;
      break;
    case 'final':
      r.txn = rec.txn;
      r.status = rec.st;
      r.code = rec.code;
      r.msg = rec.msg;
      r.completedAt = rec.done ?? rec.at;
      break;
    case 'rejected':
      r.status = 'failed';
      r.code = rec.code;
      r.msg = rec.msg;
      r.completedAt = rec.at;
      break;
    case 'unknown':
      r.status = 'unknown';
      r.code = rec.code;
      r.msg = rec.msg;
      break;
    case 'skipped':
      r.status = 'skipped';
      r.code = rec.code;
      r.msg = rec.msg;
      r.prevJob = rec.prev;
      r.prevPaid = rec.paid;
      r.prevIntent =
        rec.pid !== undefined && rec.prow !== undefined && rec.patt !== undefined
          ? { jobId: rec.pid, row: rec.prow, attempt: rec.patt }
          : undefined;
      break;
    case 'reopened':
      // the earlier payment failed or was never sent: the row goes the normal way, claim first
      clearOutcome(r);
      r.status = 'pending';
      r.prevJob = undefined;
      r.prevPaid = undefined;
      r.prevIntent = undefined;
      r.submittedAt = undefined;
      break;
    case 'released':
      r.status = 'pending';
      r.submittedAt = undefined;
      break;
  }
}

export interface Tally {
  counts: Record<RowStatus, number>;
  amounts: Record<RowStatus, number>;
}

export function tally(rows: readonly (RowState | undefined)[]): Tally {
  const counts = Object.fromEntries(ROW_STATUSES.map((s) => [s, 0])) as Record<RowStatus, number>;
  const amounts = Object.fromEntries(ROW_STATUSES.map((s) => [s, 0])) as Record<RowStatus, number>;
  const table = tableOf(rows);
  if (table) {
    // straight from the typed arrays: no row objects for a million rows
    for (let n = 1; n < table.length; n++) {
      if (!table.has(n)) continue;
      const st = table.statusOf(n);
      const s: RowStatus = st === 'sending' ? 'unknown' : st;
      counts[s]++;
      const a = table.amount[n]!;
      if (!Number.isNaN(a)) amounts[s] += a;
    }
    return { counts, amounts };
  }
  for (const r of rows) {
    if (!r) continue;
    const s: RowStatus = r.status === 'sending' ? 'unknown' : r.status;
    counts[s]++;
    amounts[s] += r.amount ?? 0;
  }
  return { counts, amounts };
}

/** Rows by live status (`sending` apart), for the progress line: cheap on a table. */
export function liveCounts(rows: readonly (RowState | undefined)[]): Record<string, number> {
  const counts: Record<string, number> = {};
  const table = tableOf(rows);
  if (table) {
    for (let n = 1; n < table.length; n++) {
      if (!table.has(n)) continue;
      const st = table.statusOf(n);
      counts[st] = (counts[st] ?? 0) + 1;
    }
    return counts;
  }
  for (const r of rows) if (r) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

/** Finished: nothing left to send or to poll. */
export function isFinished(t: Tally): boolean {
  return t.counts.pending === 0 && t.counts.processing === 0;
}
