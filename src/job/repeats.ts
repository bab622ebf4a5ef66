/**
 * The runner's side of the account registry (SPEC §5a): before a row's first POST its intent is
 * claimed in the registry, which refuses a number and amount another job of the account paid
 * (or may have paid) inside `--repeat-window`; such a row is journaled `skipped` and never sent.
 * Outcomes the journal records are passed on to the registry, so later checks tell a failed
 * payment (no block) from a completed or unknown one.
 *
 * Claims are made a few rows ahead of the workers, in batches sharing one fsync, so the
 * registry adds no disk flush to the path of each POST. A claimed row that is then not sent
 * (a stop) is released at `close`; after a kill -9 it stays an intent without answer until this
 * job sends it, which other jobs read as MAYBE_PAID — the safe side.
 */
import type { Clock } from '../clock.js';
import type { JournalRecord } from './journal.js';
import type { OpenJob } from './job.js';
import {
  FileRegistry,
  type Claim,
  type ClaimOptions,
  type ClaimResult,
  type EarlierIntent,
  type Registry,
  type RegistryOutcome,
} from './registry.js';
import type { RowState } from './rows.js';
import {
  intentFields,
  jobInstanceId,
  recheckRecord,
  recheckSkipped,
  skipMessage,
  type Recheck,
} from './recheck.js';

export { jobInstanceId } from './recheck.js';

export const DEFAULT_REPEAT_WINDOW_MS = 7 * 24 * 3_600_000;
const DAY_MS = 24 * 3_600_000;
/** pending rows looked up in the registry at a time by the pre-scan */
const PRESCAN_SLICE = 10_000;

export interface RepeatOptions {
  stateDir: string;
  /** the account's registry; a FileRegistry in the state dir when absent */
  registry?: Registry;
  /** `--repeat-window` in ms (default 7 days); 0 = no check */
  repeatWindowMs?: number;
  /** `--allow-repeat` */
  allowRepeat?: boolean;
}

/** The journal's states the registry records as an intent's outcome. */
const OUTCOMES: ReadonlySet<string> = new Set(['processing', 'completed', 'failed', 'unknown']);

/**
 * Brings the registry up to date with this job's journal (the job's truth) before it runs:
 * outcomes ride along with the next registry write rather than costing an fsync each, so a
 * process killed after a row's journal record and before that write left the registry a step
 * behind — a completed row stayed `processing` there and every later job of the same number
 * counted it as not known to be paid (exit 1). Only intents whose recorded state differs are
 * written again; durable by the guard's `close`.
 */
export function reconcileRegistry(
  registry: Registry,
  jobId: string,
  rows: Iterable<RowState | undefined>,
): number {
  let written = 0;
  for (const r of rows) {
    if (!r || !OUTCOMES.has(r.status)) continue;
    const recorded = registry.recorded(jobId, r.row, r.att);
    if (recorded === undefined || recorded === r.status) continue;
    registry.outcome(jobId, r.row, r.att, r.status as RegistryOutcome, r.txn);
    written++;
  }
  return written;
}

export class RepeatGuard {
  readonly warnings: string[] = [];
  /**
   * Claims made and not yet settled, by row: dropped once the row's intent is journaled (sent,
   * nothing to release) or its claim refused (skipped). A run of a million rows never holds
   * more than the claims made ahead of the workers.
   */
  private readonly claims = new Map<number, { row: RowState; result: Promise<ClaimResult> }>();
  private claimedTo = 0;
  /** the rows to send, in order: set by `start` */
  private pending: RowState[] = [];
  private readonly opts: ClaimOptions;
  private readonly jobId: string;

  private constructor(
    private readonly registry: Registry,
    private readonly owned: boolean,
    private readonly job: OpenJob,
    private readonly clock: Clock,
    opts: RepeatOptions,
    private readonly record: (rec: JournalRecord) => Promise<void>,
    private readonly ahead: number,
  ) {
    this.opts = {
      windowMs: opts.repeatWindowMs ?? DEFAULT_REPEAT_WINDOW_MS,
      allowRepeat: opts.allowRepeat ?? false,
    };
    this.jobId = jobInstanceId(job.meta);
  }

  /** Opens the account's registry for `job` and brings it up to date with the journal. */
  static async open(
    job: OpenJob,
    account: string,
    opts: RepeatOptions & {
      clock: Clock;
      concurrency: number;
      record: (rec: JournalRecord) => Promise<void>;
    },
  ): Promise<RepeatGuard> {
    // intents older than the window (and a day of slack for clocks) can block nothing here
    const horizon = opts.clock.now() - (opts.repeatWindowMs ?? DEFAULT_REPEAT_WINDOW_MS) - DAY_MS;
    // a registry of its own serves this one job: its own claims need no entry once placed
    const registry =
      opts.registry ?? (await FileRegistry.open(opts.stateDir, account, { horizon, keepOwnClaims: false }));
    reconcileRegistry(registry, jobInstanceId(job.meta), job.rows);
    return new RepeatGuard(
      registry,
      !opts.registry,
      job,
      opts.clock,
      opts,
      opts.record,
      Math.max(16, 4 * opts.concurrency),
    );
  }

  /**
   * A job driven again: its skipped rows whose earlier payment has since completed, failed or
   * was released are journaled as such (recheck.ts), before the rows to send are listed.
   * @returns the rows changed, for the events
   */
  async recheck(): Promise<Recheck[]> {
    try {
      const found = await recheckSkipped(this.registry, this.job.rows);
      const now = this.clock.now();
      // one group commit for all of them
      await Promise.all(found.map((c) => this.record(recheckRecord(c, now))));
      return found;
    } catch (err) {
      await this.close().catch(() => undefined); // the run ends here: no descriptor left open
      throw err;
    }
  }

  /** The rows to send, in order (after `recheck`): prescanned, then claimed as they are admitted. */
  start(pending: RowState[]): void {
    this.pending = pending;
  }

  /** Read-only: the pending rows the registry would skip now (left out of the balance pre-check). */
  async prescan(): Promise<Set<number>> {
    const skip = new Set<number>();
    // in slices: a million pending rows never become a million claims at once
    for (let from = 0; from < this.pending.length; from += PRESCAN_SLICE) {
      const rows = this.pending.slice(from, from + PRESCAN_SLICE);
      const found = await this.registry.peek(
        rows.map((r) => this.claimOf(r)),
        this.opts,
      );
      rows.forEach((r, i) => found[i] && skip.add(r.row));
    }
    return skip;
  }

  /**
   * The binding check of `pending[i]`, atomic with its durable intent: true = send it; false =
   * it was journaled `skipped` and must not be sent.
   */
  async admit(i: number): Promise<boolean> {
    if (i >= this.claimedTo - this.ahead / 2) this.claimAhead(i + this.ahead);
    const row = this.pending[i]!;
    const res = await this.claims.get(row.row)!.result;
    if (res.ok) {
      if (res.otherAmount) this.warnings.push(otherAmountWarning(row, res.otherAmount));
      return true;
    }
    this.claims.delete(row.row); // refused: nothing to release
    const e = res.earlier;
    await this.record({
      t: 'skipped',
      row: row.row,
      att: row.att,
      code: res.code,
      msg: skipMessage(res.code, e),
      prev: e.job,
      paid: e.state === 'completed',
      ...intentFields(e),
      at: this.clock.now(),
    });
    return false;
  }

  /** Passes a journal record's outcome on to the registry. */
  outcome(rec: JournalRecord): void {
    if (rec.t === 'retry' || rec.t === 'skipped' || rec.t === 'reopened') return;
    const out = (state: Parameters<Registry['outcome']>[3], txn?: string) =>
      this.registry.outcome(this.jobId, rec.row, rec.att, state, txn);
    switch (rec.t) {
      case 'intent':
        this.claims.delete(rec.row); // sent: its claim stands
        break;
      case 'accepted':
      case 'final':
        out(rec.st, rec.txn);
        break;
      case 'rejected':
        out('failed');
        break;
      case 'unknown':
      case 'released':
        out(rec.t);
        break;
    }
  }

  /** Releases claims that were never sent (a stop), and makes every outcome durable. */
  async close(): Promise<void> {
    try {
      // what is left was claimed and never sent
      for (const { row, result } of this.claims.values()) {
        const res = await result.catch(() => null);
        if (res?.ok) this.registry.outcome(this.jobId, row.row, row.att, 'released');
      }
      await this.registry.flush();
    } finally {
      if (this.owned) await this.registry.close();
    }
  }

  private claimAhead(to: number): void {
    const from = this.claimedTo;
    const end = Math.min(to, this.pending.length);
    if (end <= from) return;
    this.claimedTo = end;
    const batch = this.pending.slice(from, end);
    const results = this.registry.claim(
      batch.map((r) => this.claimOf(r)),
      this.opts,
    );
    batch.forEach((row, k) => {
      const result = results.then((all) => all[k]!);
      result.catch(() => undefined); // awaited by admit or close
      this.claims.set(row.row, { row, result });
    });
  }

  private claimOf(r: RowState): Claim {
    return {
      number: r.number!,
      amount: r.amount!,
      reference: r.ref!,
      job: this.job.meta.job,
      jobId: this.jobId,
      row: r.row,
      attempt: r.att,
      at: this.clock.now(),
    };
  }
}

const iso = (t: number) => new Date(t).toISOString();

function otherAmountWarning(row: RowState, e: EarlierIntent): string {
  return `row ${row.row}: ${row.number} was also paid ${e.amount} BDT by job ${e.job} row ${e.row} (${iso(e.at)}); this row pays ${row.amount} BDT`;
}

export interface RepeatSummary {
  /** the earlier jobs that skipped rows name */
  earlierJobs: string[];
  /** skipped rows whose earlier payment is not a completed transaction (they keep exit 0 away) */
  unsettled: number;
  /** same number, another amount, inside the window: paid, and said */
  warnings: string[];
}

/** The job's skipped rows (this run's and earlier runs') as the summary shows them. */
export function repeatSummary(rows: RowState[], warnings: string[]): RepeatSummary {
  const earlier = new Set<string>();
  let unsettled = 0;
  for (const r of rows) {
    if (r?.status !== 'skipped') continue;
    if (r.prevJob) earlier.add(r.prevJob);
    if (!(r.code === 'ALREADY_PAID' && r.prevPaid)) unsettled++;
  }
  return { earlierJobs: [...earlier].sort(), unsettled, warnings };
}
