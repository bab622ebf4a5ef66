/**
 * One row of a {@link RowTable} seen as a {@link RowState}: every field reads and writes the
 * table, so the object holds nothing but the table and the row number (table.ts).
 */
import { makeReference, type LiveStatus, type RowState } from './rows.js';
import type { IntentRef } from './registry-contract.js';
import type { RowTable } from './table.js';

export const PRESENT = 1;
export const VALID = 2;
const PREV_PAID = 4;
const PREV_PAID_KNOWN = 8;
/** an invalid row's verdict message is read back from the plan when asked for (not kept) */
export const MSG_IN_PLAN = 16;

const num = (v: number) => (Number.isNaN(v) ? undefined : v);

/** One row of a {@link RowTable}: reads and writes go to the table. */
export class RowView implements RowState {
  constructor(
    private readonly t: RowTable,
    readonly row: number,
  ) {}
  get line() {
    return this.t.line[this.row]!;
  }
  get valid() {
    return this.t.flag(this.row, VALID);
  }
  get number() {
    return this.t.getNumber(this.row);
  }
  get amount() {
    return num(this.t.amount[this.row]!);
  }
  get operatorId() {
    return this.t.getInterned('operatorId', this.row) as number | string | undefined;
  }
  get operatorName() {
    return this.t.getInterned('operatorName', this.row) as string | undefined;
  }
  get explicitRef() {
    return this.t.getText('explicitRef', this.row) ?? null;
  }
  get warning() {
    return this.t.getText('warning', this.row);
  }
  get status() {
    return this.t.statusOf(this.row);
  }
  set status(s: LiveStatus) {
    this.t.setStatus(this.row, s);
  }
  get att() {
    return this.t.att[this.row]!;
  }
  set att(a: number) {
    // a reference stays what it was (a `retry` of an unknown row keeps it); rows.ts sets a new one
    if (a === this.t.att[this.row]) return;
    const ref = this.ref;
    this.t.att[this.row] = a;
    this.ref = ref;
  }
  get ref(): string | null {
    const own = this.t.getText('refOverride', this.row);
    if (own !== undefined) return own;
    if (!this.valid && this.att === 1) return this.explicitRef;
    return makeReference(this.t.job, this.row, this.att, this.explicitRef);
  }
  set ref(r: string | null) {
    const made = makeReference(this.t.job, this.row, this.att, this.explicitRef);
    this.t.setText('refOverride', this.row, r === made ? undefined : (r ?? undefined));
  }
  get txn() {
    return this.t.getText('txn', this.row);
  }
  set txn(v: string | undefined) {
    this.t.setText('txn', this.row, v);
  }
  get apiOperator() {
    return this.t.getInterned('apiOperator', this.row) as string | undefined;
  }
  set apiOperator(v: string | undefined) {
    this.t.setInterned('apiOperator', this.row, v);
  }
  get code() {
    return this.t.getInterned('code', this.row) as string | undefined;
  }
  set code(v: string | undefined) {
    this.t.setInterned('code', this.row, v);
  }
  get msg() {
    return this.t.getMsg(this.row);
  }
  set msg(v: string | undefined) {
    this.t.setMsg(this.row, v);
  }
  get submittedAt() {
    return num(this.t.submittedAt[this.row]!);
  }
  set submittedAt(v: number | undefined) {
    this.t.submittedAt[this.row] = v ?? NaN;
  }
  get completedAt(): string | number | undefined {
    return this.t.getText('completedText', this.row) ?? num(this.t.completedAt[this.row]!);
  }
  set completedAt(v: string | number | undefined) {
    this.t.completedAt[this.row] = typeof v === 'number' ? v : NaN;
    this.t.setText('completedText', this.row, typeof v === 'string' ? v : undefined);
  }
  get prevJob() {
    return this.t.getInterned('prevJob', this.row) as string | undefined;
  }
  set prevJob(v: string | undefined) {
    this.t.setInterned('prevJob', this.row, v);
  }
  get prevPaid() {
    return this.t.flag(this.row, PREV_PAID_KNOWN) ? this.t.flag(this.row, PREV_PAID) : undefined;
  }
  set prevPaid(v: boolean | undefined) {
    this.t.setFlag(this.row, PREV_PAID_KNOWN, v !== undefined);
    this.t.setFlag(this.row, PREV_PAID, v === true);
  }
  /** kept as `<row>/<attempt>/<job id>`: one string, only for skipped rows */
  get prevIntent(): IntentRef | undefined {
    const t = this.t.getText('prevIntent', this.row);
    if (t === undefined) return undefined;
    const a = t.indexOf('/');
    const b = t.indexOf('/', a + 1);
    return { row: Number(t.slice(0, a)), attempt: Number(t.slice(a + 1, b)), jobId: t.slice(b + 1) };
  }
  set prevIntent(v: IntentRef | undefined) {
    this.t.setText('prevIntent', this.row, v && `${v.row}/${v.attempt}/${v.jobId}`);
  }
  /** what the JSON summary and the tests see: the plain fields */
  toJSON(): RowState {
    const out: Record<string, unknown> = {};
    for (const k of FIELDS) if (this[k] !== undefined) out[k] = this[k];
    return out as unknown as RowState;
  }
}

const FIELDS = [
  'row',
  'line',
  'valid',
  'number',
  'amount',
  'operatorId',
  'operatorName',
  'explicitRef',
  'warning',
  'code',
  'msg',
  'status',
  'att',
  'ref',
  'txn',
  'apiOperator',
  'submittedAt',
  'completedAt',
  'prevJob',
  'prevPaid',
  'prevIntent',
] as const;
