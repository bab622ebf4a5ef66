/**
 * Skipped rows looked up again (SPEC §5a, docs/design.md "The account registry"). A row is
 * skipped for an earlier intent of another job that was still open: no answer yet (MAYBE_PAID)
 * or a transaction still processing (ALREADY_PAID, not yet paid). That job goes on, and the
 * registry learns how the payment ended; the skipped row would not, and so would ask a clerk to
 * check by hand a payment the registry knows completed, or leave unpaid a person whose payment
 * failed. When the job is driven again (`resume`, `run` resuming it, `retry`) each such row's
 * earlier intent is looked up, and:
 * - completed → `skipped` `ALREADY_PAID` of a completed transaction (a new `skipped` record);
 * - failed, or released (never sent) → `pending` again (a `reopened` record): it then goes the
 *   normal way, and its claim in the registry stays the binding check — a third job's payment
 *   of the same number and amount still refuses it;
 * - anything else (sent without answer, processing, unknown, or no longer held) → unchanged.
 * `report` asks the same question read-only ({@link staleSkips}) and only says what a resume
 * would change.
 */
import { promises as fsp } from 'node:fs';
import type { JobEvents } from './events.js';
import type { JournalRecord } from './journal.js';
import type { OpenJob } from './job.js';
import { FileRegistry, registryPath } from './registry.js';
import type { EarlierIntent, IntentRef, Registry } from './registry-contract.js';
import { ROW_TABLE, type RowState, type StatusSource } from './rows.js';

/** intents looked up in the registry at a time */
const SLICE = 10_000;
/** how far before a job's first record `report` reads the registry (a longer window is rare) */
const REPORT_LOOKBACK_MS = 31 * 24 * 3_600_000;

/** The registry's id of a job instance: a job deleted and made again is another instance. */
export function jobInstanceId(meta: OpenJob['meta']): string {
  return meta.id ?? `${meta.job}@${meta.createdAt}`;
}

/** A skipped row whose earlier payment was not known to be completed when it was skipped. */
export function unsettledSkip(r: RowState | undefined): r is RowState {
  return r?.status === 'skipped' && !(r.code === 'ALREADY_PAID' && r.prevPaid === true);
}

/**
 * The job's unsettled skipped rows. On the compact table (table.ts) rows of another status are
 * passed over without a row view: a million-row job's resume scans it in a few ms.
 */
export function* unsettledSkips(rows: readonly (RowState | undefined)[]): Generator<RowState> {
  const table = (rows as unknown as { [ROW_TABLE]?: StatusSource })[ROW_TABLE];
  for (let n = 0; n < rows.length; n++) {
    if (table && (!table.has(n) || table.statusOf(n) !== 'skipped')) continue;
    const r = rows[n];
    if (unsettledSkip(r)) yield r;
  }
}

/** What a re-check does to a row: its earlier payment is now completed, or never happened. */
export type RecheckVerdict = 'paid' | 'reopen';

/**
 * The verdict for a row skipped for `earlier` as the registry holds it now (null: unchanged).
 * Only an outcome the registry is sure of changes a row: `failed` (the API said so, nothing
 * charged) and `released` (refused before it was sent) are the two states SPEC §5a says never
 * block; `completed` is the one that makes exit 0.
 */
export function recheckVerdict(earlier: EarlierIntent | undefined): RecheckVerdict | null {
  if (!earlier) return null;
  if (earlier.state === 'completed') return 'paid';
  if (earlier.state === 'failed' || earlier.state === 'released') return 'reopen';
  return null;
}

export interface Recheck {
  row: RowState;
  earlier: EarlierIntent;
  verdict: RecheckVerdict;
}

/**
 * Looks up the earlier intent of every {@link unsettledSkip} row of `rows` (read-only). Rows
 * skipped before the intent was recorded in the journal (no `prevIntent`) are left as they are:
 * the job name alone does not say which payment it was.
 * @returns the rows a re-check changes, with the earlier intent as the registry holds it now
 */
export async function recheckSkipped(
  registry: Registry,
  rows: readonly (RowState | undefined)[],
): Promise<Recheck[]> {
  const asked: { row: RowState; ref: IntentRef }[] = [];
  for (const r of unsettledSkips(rows)) if (r.prevIntent) asked.push({ row: r, ref: r.prevIntent });
  const out: Recheck[] = [];
  for (let from = 0; from < asked.length; from += SLICE) {
    const slice = asked.slice(from, from + SLICE);
    const found = await registry.lookup(slice.map((a) => a.ref));
    slice.forEach(({ row }, i) => {
      const earlier = found[i];
      const verdict = recheckVerdict(earlier);
      if (verdict && earlier) out.push({ row, earlier, verdict });
    });
  }
  return out;
}

/** The journal record that carries out a re-check (epoch ms `at`). */
export function recheckRecord(c: Recheck, at: number): JournalRecord {
  const { row, earlier: e } = c;
  if (c.verdict === 'paid') {
    return {
      t: 'skipped',
      row: row.row,
      att: row.att,
      code: 'ALREADY_PAID',
      msg: skipMessage('ALREADY_PAID', e),
      prev: e.job,
      paid: true,
      ...intentFields(e),
      at,
    };
  }
  const how = e.state === 'failed' ? 'failed' : 'was never sent';
  return {
    t: 'reopened',
    row: row.row,
    att: row.att,
    why: `the earlier payment it was skipped for (job ${e.job} row ${e.row}, ${e.transactionId ? `transaction ${e.transactionId}` : `reference ${e.reference}`}) ${how}: pending again`,
    at,
  };
}

/** Tells the listeners (audit log, progress) what a re-check changed, once the run has started. */
export function announceRechecks(
  events: JobEvents,
  rows: readonly (RowState | undefined)[],
  done: readonly Recheck[],
): void {
  for (const { row, verdict } of done) {
    const now = rows[row.row]!; // the row as the journal now has it
    if (verdict === 'paid') events.emit('row:final', { row: now });
    else events.emit('row:released', { row: now, why: 'its earlier payment failed or was never sent' });
  }
}

/** The `pid`/`prow`/`patt` fields of a `skipped` record naming `e`. */
export function intentFields(e: EarlierIntent): { pid: string; prow: number; patt: number } {
  return { pid: e.jobId, prow: e.row, patt: e.attempt };
}

const iso = (t: number) => new Date(t).toISOString();

/** The `skipped` row's message: which earlier payment, and what to do (SPEC §5a). */
export function skipMessage(code: 'ALREADY_PAID' | 'MAYBE_PAID', e: EarlierIntent): string {
  const which = `job ${e.job} row ${e.row} (${e.transactionId ? `transaction ${e.transactionId}` : `reference ${e.reference}`}, ${e.state === 'sent' ? 'no answer recorded' : e.state}, ${iso(e.at)})`;
  return code === 'ALREADY_PAID'
    ? `not sent: already paid by ${which}; to pay it again on purpose, run with --allow-repeat`
    : `not sent: may already have been paid by ${which}; check that payment with the API first, then --allow-repeat if it did not go through`;
}

/** What a resume would change, as `report` tells it. */
export interface StaleSkips {
  /** skipped rows whose earlier payment has since completed */
  paid: number;
  /** skipped rows whose earlier payment failed or was never sent: nobody paid them */
  unpaid: number;
}

/**
 * Read-only {@link recheckSkipped} for `report`: opens the account's registry only if it exists
 * (a report creates no state file) and writes nothing to it or to the journal. Intents made more
 * than 31 days before the job's first record (`startedAt`, epoch ms) are not read: a registry
 * holds years of them, and a repeat window that long is rare (the resume itself is not bound by
 * this).
 * @returns null when the job has no unsettled skipped row or its registry cannot be read
 */
export async function staleSkips(
  stateDir: string,
  account: string | undefined,
  rows: readonly (RowState | undefined)[],
  startedAt: number | null,
): Promise<StaleSkips | null> {
  if (!account || unsettledSkips(rows).next().done) return null;
  const exists = await fsp.access(registryPath(stateDir, account)).then(
    () => true,
    () => false,
  );
  if (!exists) return null;
  const horizon = (startedAt ?? 0) - REPORT_LOOKBACK_MS;
  const registry = await FileRegistry.open(stateDir, account, { horizon }).catch(() => null);
  if (!registry) return null; // the report is still written; the resume will say what is wrong
  try {
    const found = await recheckSkipped(registry, rows);
    return {
      paid: found.filter((c) => c.verdict === 'paid').length,
      unpaid: found.filter((c) => c.verdict === 'reopen').length,
    };
  } finally {
    await registry.close().catch(() => undefined);
  }
}
