/**
 * The rows of a job in compact form (SPEC §3 "memory must not grow with the file beyond the
 * per-row state the job needs", §11: a 1,000,000-row `run` under 300 MB). Statuses, attempts,
 * lines, amounts, numbers and times live in typed arrays (about 50 bytes a row); operator ids
 * and names, error codes and earlier jobs are interned (a handful of distinct values); only
 * what is really per row and textual — a transaction id, an error message, an explicit
 * reference — is kept as a string, and only for the rows that have one. A generated reference
 * is not stored at all: it is made again from the job name, row and attempt (rows.ts).
 *
 * {@link RowTable.rows} is the table seen as the `RowState[]` the rest of the engine reads (a
 * Proxy: `rows[n]` is a {@link RowState} view whose fields read and write the table), so an
 * object exists only while someone holds it.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { MSG_IN_PLAN, PRESENT, RowView, VALID } from './view.js';
import {
  ROW_STATUSES,
  ROW_TABLE,
  type LiveStatus,
  type PlannedRow,
  type RowState,
  type StatusSource,
} from './rows.js';

const STATUSES: readonly LiveStatus[] = [...ROW_STATUSES, 'sending'];
const STATUS_CODE = new Map(STATUSES.map((s, i) => [s, i]));
/** how much of the plan is read at once when messages are read back (in row order, mostly) */
const PLAN_BLOCK = 1 << 16;
/** A normalized mobile number (SPEC §3), stored as the number it spells after its leading 0. */
const MOBILE = /^01\d{9}$/;

const INTERNED = ['operatorId', 'operatorName', 'apiOperator', 'code', 'prevJob'] as const;
export type Interned = (typeof INTERNED)[number];
export type Text =
  'explicitRef' | 'refOverride' | 'warning' | 'msg' | 'txn' | 'completedText' | 'numberText' | 'prevIntent';

export class RowTable implements StatusSource {
  /** highest row number + 1 (row numbers start at 1; index 0 is never a row) */
  length = 0;
  private cap: number;
  status!: Uint8Array;
  flags!: Uint8Array;
  att!: Uint16Array;
  line!: Int32Array;
  amount!: Float64Array;
  /** a mobile number's digits after its leading 0 (they fit 32 bits); 0 = not such a number */
  number!: Uint32Array;
  submittedAt!: Float64Array;
  completedAt!: Float64Array;
  private interned = {} as Record<Interned, Uint16Array | Uint32Array>;
  private readonly pool: unknown[] = [undefined];
  private readonly poolIndex = new Map<unknown, number>();
  private readonly text: Partial<Record<Text, (string | undefined)[]>> = {};
  /** the table as an array of rows (see the module comment) */
  readonly rows: RowState[];

  private planBlock: { at: number; buf: Buffer } | null = null;
  /** the plan line of each invalid row whose message is read back (made for the first one) */
  private planOffset: Float64Array | null = null;

  /**
   * @param planPath the plan file the rows come from: an invalid row's message (one per row,
   *   the bulk of a file of bad rows) is read back from it instead of being held
   */
  constructor(
    readonly job: string,
    expectedRows = 0,
    private readonly planPath: string | null = null,
  ) {
    this.cap = 0;
    this.grow(Math.max(16, expectedRows + 1));
    this.rows = arrayView(this);
  }

  /**
   * Adds a planned row in its initial state (SPEC §3: valid → pending, invalid → invalid);
   * `planAt` is the byte offset of its line in the plan file, if it came from there.
   */
  add(p: PlannedRow, planAt?: number): void {
    const n = p.row;
    if (n >= this.cap) this.grow(Math.max(n + 1, this.cap * 2));
    this.length = Math.max(this.length, n + 1);
    this.flags[n] = PRESENT | (p.valid ? VALID : 0);
    this.status[n] = STATUS_CODE.get(p.valid ? 'pending' : 'invalid')!;
    this.att[n] = 1;
    this.line[n] = p.line;
    this.setAmount(n, p.amount);
    this.setNumber(n, p.number);
    this.setInterned('operatorId', n, p.operatorId);
    this.setInterned('operatorName', n, p.operatorName);
    this.setText('explicitRef', n, p.explicitRef ?? undefined);
    this.setText('warning', n, p.warning);
    this.setInterned('code', n, p.code);
    if (!p.valid && p.msg !== undefined && planAt !== undefined && this.planPath) {
      this.flags[n]! |= MSG_IN_PLAN;
      (this.planOffset ??= new Float64Array(this.cap))[n] = planAt;
    } else this.setText('msg', n, p.msg);
  }

  getMsg(n: number): string | undefined {
    if (!this.flag(n, MSG_IN_PLAN)) return this.getText('msg', n);
    return (JSON.parse(this.planLine(this.planOffset![n]!)) as PlannedRow).msg;
  }

  setMsg(n: number, v: string | undefined): void {
    this.setFlag(n, MSG_IN_PLAN, false);
    this.setText('msg', n, v);
  }

  /** The plan's line at byte `at`, through a block read ahead (results are written in row order). */
  private planLine(at: number): string {
    for (let size = PLAN_BLOCK; ; size *= 2) {
      const b = this.planBlock;
      if (b && at >= b.at) {
        const end = b.buf.indexOf(10, at - b.at);
        if (end >= 0) return b.buf.toString('utf8', at - b.at, end);
      }
      const buf = Buffer.alloc(size);
      const fd = openSync(this.planPath!, 'r');
      try {
        const got = readSync(fd, buf, 0, size, at);
        this.planBlock = { at, buf: buf.subarray(0, got) };
        if (got < size && buf.indexOf(10) < 0) return buf.toString('utf8', 0, got); // the last line
      } finally {
        closeSync(fd);
      }
    }
  }

  has(n: number): boolean {
    return n > 0 && n < this.length && (this.flags[n]! & PRESENT) !== 0;
  }

  view(n: number): RowState | undefined {
    return this.has(n) ? new RowView(this, n) : undefined;
  }

  statusOf(n: number): LiveStatus {
    return STATUSES[this.status[n]!]!;
  }

  setStatus(n: number, s: LiveStatus): void {
    this.status[n] = STATUS_CODE.get(s)!;
  }

  getInterned(col: Interned, n: number): unknown {
    return this.pool[this.interned[col][n]!];
  }

  setInterned(col: Interned, n: number, v: unknown): void {
    let i = v === undefined ? 0 : this.poolIndex.get(v);
    if (i === undefined) {
      i = this.pool.push(v) - 1;
      this.poolIndex.set(v, i);
      // a handful of distinct values is the rule; more than 16 bits' worth widens the columns
      if (i === 0xffff) for (const col of INTERNED) this.interned[col] = Uint32Array.from(this.interned[col]);
    }
    this.interned[col][n] = i;
  }

  getText(col: Text, n: number): string | undefined {
    return this.text[col]?.[n];
  }

  setText(col: Text, n: number, v: string | undefined | null): void {
    if (v === undefined || v === null) {
      const a = this.text[col];
      if (a && a[n] !== undefined) a[n] = undefined;
      return;
    }
    (this.text[col] ??= new Array<string | undefined>(this.cap))[n] = v;
  }

  getNumber(n: number): string | undefined {
    const v = this.number[n]!;
    return v === 0 ? this.getText('numberText', n) : `0${v}`;
  }

  setNumber(n: number, v: string | undefined): void {
    const compact = v !== undefined && MOBILE.test(v);
    this.number[n] = compact ? Number(v.slice(1)) : 0;
    this.setText('numberText', n, compact ? undefined : v);
  }

  setAmount(n: number, v: number | undefined): void {
    this.amount[n] = v ?? NaN;
  }

  flag(n: number, bit: number): boolean {
    return (this.flags[n]! & bit) !== 0;
  }

  setFlag(n: number, bit: number, on: boolean): void {
    this.flags[n] = on ? this.flags[n]! | bit : this.flags[n]! & ~bit;
  }

  private grow(cap: number): void {
    const copy = <T extends Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array>(
      old: T | undefined,
      make: (n: number) => T,
      fill?: number,
    ): T => {
      const a = make(cap);
      if (fill !== undefined) a.fill(fill);
      if (old) a.set(old as never);
      return a;
    };
    this.status = copy(this.status, (c) => new Uint8Array(c));
    this.flags = copy(this.flags, (c) => new Uint8Array(c));
    this.att = copy(this.att, (c) => new Uint16Array(c));
    this.line = copy(this.line, (c) => new Int32Array(c));
    this.amount = copy(this.amount, (c) => new Float64Array(c), NaN);
    this.number = copy(this.number, (c) => new Uint32Array(c));
    this.submittedAt = copy(this.submittedAt, (c) => new Float64Array(c), NaN);
    this.completedAt = copy(this.completedAt, (c) => new Float64Array(c), NaN);
    if (this.planOffset) this.planOffset = copy(this.planOffset, (c) => new Float64Array(c));
    const wide = this.pool.length > 0xffff;
    for (const col of INTERNED) {
      const old = this.interned[col] as Uint16Array | Uint32Array | undefined;
      this.interned[col] = wide
        ? copy(old as Uint32Array, (c) => new Uint32Array(c))
        : copy(old, (c) => new Uint16Array(c));
    }
    this.cap = cap;
  }
}

/** The table as a read-only array of row views: `rows[n]`, `length`, iteration, `some`… */
function arrayView(t: RowTable): RowState[] {
  return new Proxy([] as RowState[], {
    get(target, prop, receiver) {
      if (typeof prop === 'string') {
        const c = prop.charCodeAt(0);
        if (c >= 48 && c <= 57) return t.view(Number(prop));
        if (prop === 'length') return t.length;
      } else if (prop === ROW_TABLE) return t;
      return Reflect.get(target, prop, receiver);
    },
    has(target, prop) {
      if (typeof prop === 'string' && prop.charCodeAt(0) >= 48 && prop.charCodeAt(0) <= 57)
        return t.has(Number(prop));
      return Reflect.has(target, prop);
    },
    set() {
      throw new TypeError('the rows of a job change only through its journal (applyRecord)');
    },
  });
}
