/**
 * The job engine (SPEC §5): submits pending rows through the shared limiter, polls
 * processing rows, records every state change in the journal before acting on it, and
 * writes the results at the end and at every stop.
 *
 * POST outcomes, exactly as SPEC §5 lists them:
 *   200 → accepted (transaction id durable at once), then polled or final
 *   400/422 → failed with the API's code (DUPLICATE_REFERENCE → unknown: it may have gone through)
 *   401 → released, whole run stops (exit 3); 403/404/405 likewise (wrong URL or account)
 *   402 → released, submitting stops, rows stay pending (exit 4)
 *   429 → the client waits (Retry-After) and resends; never a row failure
 *   connection refused before sending → resent after a backoff
 *   timeout, reset after sending, 5xx, unusable 200 → ambiguous: `unknown`, or resent with
 *   the same reference when the user declared --reference-dedup
 */
import { access } from 'node:fs/promises';
import { constants } from 'node:fs';
import { dirname } from 'node:path';
import type { AlsamiflexiClient } from '../api/client.js';
import { transactionOutcome, type Transaction } from '../api/types.js';
import { systemClock, type Clock } from '../clock.js';
import { ApiError, BatchError, type ErrorCode } from '../errors.js';
import type { JournalRecord } from './journal.js';
import { applyRecord, tally, type RowState, type RowStatus } from './rows.js';
import { Poller } from './poller.js';
import { JobEvents } from './events.js';
import type { OpenJob } from './job.js';
import { writeResults, defaultOutputs } from '../report/results.js';

export interface EngineOptions {
  stateDir: string;
  client: AlsamiflexiClient;
  clock?: Clock;
  /** local workers feeding the limiter; the limiter's own maxConcurrent bounds HTTP in flight */
  concurrency?: number;
  pollAfterMs?: number;
  pollEveryMs?: number;
  pollTimeoutMs?: number;
  allowPartial?: boolean;
  referenceDedup?: boolean;
  /** results CSV path (default `<input dir>/<basename>.results.csv`) */
  out?: string;
  /** aborting it stops the job gracefully: no new POSTs, in-flight ones finish, results written */
  signal?: AbortSignal;
  events?: JobEvents;
  /**
   * The limiter's interval between requests: while rows wait to be sent, polls are kept to at
   * most every other slot, so a long tail of processing rows cannot starve submissions.
   */
  pollShareIntervalMs?: number;
  /** resends of one ambiguous or refused POST before giving up */
  resendLimit?: number;
  backoffBaseMs?: number;
}

export interface JobResult {
  job: string;
  dir: string;
  counts: Record<RowStatus, number>;
  amounts: Record<RowStatus, number>;
  results: string;
  failed: string;
  /** why the job stopped before finishing, if it did */
  stopped: { code: ErrorCode; message: string } | null;
  resumed: boolean;
}

/** Which stop reason wins when several happen: the one needing the user most. */
const STOP_RANK: Partial<Record<ErrorCode, number>> = {
  API_UNAUTHORIZED: 5,
  API_ERROR: 4,
  API_UNREACHABLE: 4,
  INTERRUPTED: 3,
  INSUFFICIENT_BALANCE: 2,
  POLL_TIMEOUT: 1,
};

export async function drive(job: OpenJob, opts: EngineOptions, resumed: boolean): Promise<JobResult> {
  // the results must be writable before anything is sent, not discovered at the end
  await checkWritable(defaultOutputs(job.meta.input.path, opts.out).results);
  const clock = opts.clock ?? systemClock;
  const events = opts.events ?? new JobEvents();
  const { client } = opts;
  const { journal } = job;
  const name = job.meta.job;
  const pollAfter = opts.pollAfterMs ?? 15_000;
  const resendLimit = opts.resendLimit ?? 5;
  const backoffBase = opts.backoffBaseMs ?? 500;

  let stopped: { code: ErrorCode; message: string } | null = null;
  let submitting = true;
  const stopSubmitting = new AbortController();
  const stop = (code: ErrorCode, message: string) => {
    if (!stopped || (STOP_RANK[code] ?? 0) > (STOP_RANK[stopped.code] ?? 0)) stopped = { code, message };
    if (!stopSubmitting.signal.aborted) {
      events.emit('job:stopping', { code, message });
      stopSubmitting.abort(new BatchError(code, message));
    }
  };

  const record = async (rec: JournalRecord) => {
    await journal.append(rec);
    applyRecord(name, job.rows, rec);
  };

  const poller = new Poller({
    client,
    clock,
    pollEveryMs: opts.pollEveryMs ?? 30_000,
    pollTimeoutMs: opts.pollTimeoutMs ?? 30 * 60_000,
    // half of the rate for polls at most while rows are still waiting to be sent
    pollGapMs: () => (submitting && opts.pollShareIntervalMs ? opts.pollShareIntervalMs * 2 : 0),
    onFinal: async (row, txn, st) => {
      await record(finalRecord(row, txn, st, clock.now()));
      events.emit('row:final', { row });
    },
    onFatal: (err) => {
      stop(err.code, err.message);
      poller.stop();
    },
  });

  const onSignal = () => {
    stop('INTERRUPTED', 'interrupted by a signal: stopped submitting; run the same command again to resume');
    poller.stop();
  };
  if (opts.signal?.aborted) onSignal();
  opts.signal?.addEventListener('abort', onSignal, { once: true });

  const pending: RowState[] = [];
  let processing = 0;
  for (const r of job.rows) {
    if (!r) continue;
    if (r.status === 'pending') pending.push(r);
    if (r.status === 'processing') {
      processing++;
      poller.add(r, clock.now());
    }
  }
  events.emit('job:started', { job: name, rows: job.rows, resumed, pending: pending.length, processing });
  const polling = poller.run();
  polling.catch(() => undefined); // awaited below; this only keeps an early failure from being 'unhandled'

  try {
    if (pending.length > 0 && !stopped) await balanceCheck(client, pending, opts.allowPartial ?? false, stop);

    const submitOne = async (row: RowState): Promise<void> => {
      const body = {
        operator_id: row.operatorId!,
        mobile_number: row.number!,
        amount: row.amount!,
        reference: row.ref!,
      };
      let intentWritten = false;
      /** an earlier attempt of this loop may have been carried out (a resend under --reference-dedup) */
      let mayHaveGoneThrough = false;
      const markUnknown = async (code: string, message: string) => {
        await record({ t: 'unknown', row: row.row, att: row.att, code, msg: `outcome unknown (${message}); reference ${row.ref}`, at: clock.now() });
        events.emit('row:unknown', { row });
      };
      /** this attempt certainly did nothing: pending again, unless an earlier one may have worked */
      const giveBack = async (why: string) => {
        if (mayHaveGoneThrough) await markUnknown(why, 'an earlier attempt got no clear answer');
        else if (intentWritten) await release(row, why);
      };
      for (let resend = 0; ; resend++) {
        let txn: Transaction;
        try {
          txn = await client.recharge(body, {
            queueSignal: stopSubmitting.signal,
            beforeSend: async () => {
              await record({ t: 'intent', row: row.row, att: row.att, ref: row.ref!, at: clock.now() });
              intentWritten = true;
              events.emit('row:submitted', { row });
            },
          });
        } catch (err) {
          if (!(err instanceof ApiError)) {
            // dropped from the limiter's queue by a stop: never sent (a 429'd attempt did nothing either)
            if (stopSubmitting.signal.aborted && err === stopSubmitting.signal.reason) {
              await giveBack('stopped before sending');
              return;
            }
            throw err;
          }
          const verdict = classify(err);
          if (verdict === 'released' || verdict === 'stop') {
            await giveBack(err.apiCode ?? err.code);
            if (err.code === 'INSUFFICIENT_BALANCE') {
              stop('INSUFFICIENT_BALANCE', `the API answered 402 (${err.message}): top up the balance, then run the same command again to resume`);
            } else if (verdict === 'stop') {
              stop(err.code, err.message);
              poller.stop();
            }
            return;
          }
          if (verdict === 'failed' && !mayHaveGoneThrough) {
            await record({ t: 'rejected', row: row.row, att: row.att, code: err.apiCode ?? `HTTP_${err.status}`, msg: err.message, at: clock.now() });
            events.emit('row:final', { row });
            return;
          }
          const mayResend = verdict === 'not-sent' || (verdict === 'ambiguous' && opts.referenceDedup === true);
          if (mayResend && resend < resendLimit && !stopSubmitting.signal.aborted) {
            if (verdict === 'ambiguous') mayHaveGoneThrough = true;
            await clock.sleep(backoffBase * 2 ** resend).catch(() => undefined);
            continue;
          }
          if (verdict === 'not-sent') {
            await giveBack(err.code);
            if (!stopSubmitting.signal.aborted) {
              stop('API_UNREACHABLE', err.message);
              poller.stop();
            }
            return;
          }
          await markUnknown(err.apiCode ?? (err.status ? `HTTP_${err.status}` : err.code), err.message);
          return;
        }
        // the transaction id is made durable before anything else happens to the row
        const accepted = acceptedRecord(row, txn, clock.now());
        try {
          await record(accepted);
        } catch (err) {
          applyRecord(name, job.rows, accepted); // so the results written on the way out still carry it
          throw new BatchError(
            'INTERNAL',
            `the journal could not be written after the API accepted row ${row.row} (transaction ${txn.transaction_id}, reference ${row.ref}): ${(err as Error).message}`,
          );
        }
        events.emit(row.status === 'processing' ? 'row:accepted' : 'row:final', { row });
        if (row.status === 'processing') poller.add(row, clock.now() + pollAfter);
        return;
      }
    };

    const release = (row: RowState, why: string) => record({ t: 'released', row: row.row, att: row.att, why, at: clock.now() });

    let next = 0;
    const workers = Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, async () => {
      while (!stopSubmitting.signal.aborted && next < pending.length) {
        const row = pending[next++]!;
        if (row.status !== 'pending') continue;
        await submitOne(row);
      }
    });
    await Promise.all(workers);
    submitting = false;
    poller.close();
    await polling;
  } catch (err) {
    poller.stop();
    await polling.catch(() => undefined);
    await finish(job, opts).catch(() => undefined);
    throw err;
  } finally {
    opts.signal?.removeEventListener('abort', onSignal);
  }
  if (poller.timedOut > 0) {
    stop('POLL_TIMEOUT', `${poller.timedOut} row(s) still processing at --poll-timeout; run 'resume ${name}' later to poll them again`);
  }
  const outputs = await finish(job, opts);
  const t = tally(job.rows);
  return { job: name, dir: job.paths.dir, counts: t.counts, amounts: t.amounts, ...outputs, stopped, resumed };
}

async function finish(job: OpenJob, opts: EngineOptions): Promise<{ results: string; failed: string }> {
  const outputs = defaultOutputs(job.meta.input.path, opts.out);
  await writeResults(job.meta, job.rows, outputs);
  return outputs;
}

async function checkWritable(file: string): Promise<void> {
  const dir = dirname(file);
  try {
    await access(dir, constants.W_OK);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'is not writable';
    throw new BatchError('USAGE', `the results cannot be written: folder ${dir} ${why} (choose another with --out); nothing was sent`);
  }
}

async function balanceCheck(
  client: AlsamiflexiClient,
  pending: RowState[],
  allowPartial: boolean,
  stop: (code: ErrorCode, message: string) => void,
): Promise<void> {
  const need = pending.reduce((s, r) => s + (r.amount ?? 0), 0);
  const { balance, currency } = await client.getBalance();
  if (balance >= need || allowPartial) return;
  const short = Math.ceil((need - balance) * 100) / 100;
  stop(
    'INSUFFICIENT_BALANCE',
    `balance ${balance} ${currency} is short of the ${need} ${currency} that ${pending.length} pending row(s) need, by ${short} ${currency}; nothing was sent (top up, or --allow-partial)`,
  );
}

type Verdict = 'failed' | 'released' | 'stop' | 'not-sent' | 'ambiguous' | 'unknown';

function classify(err: ApiError): Verdict {
  if (err.code === 'INSUFFICIENT_BALANCE') return 'released';
  if (err.code === 'API_UNAUTHORIZED') return 'stop';
  if (err.code === 'INTERRUPTED') return 'released';
  if (err.status === 400 || err.status === 422) return err.apiCode === 'DUPLICATE_REFERENCE' ? 'unknown' : 'failed';
  if (err.status === 403 || err.status === 404 || err.status === 405) return 'stop';
  if (err.status >= 400 && err.status < 500) return 'unknown';
  if (err.code === 'API_UNREACHABLE' && !err.sent) return 'not-sent';
  return 'ambiguous';
}

function acceptedRecord(row: RowState, txn: Transaction, at: number): JournalRecord {
  const status = transactionOutcome(txn.status);
  return {
    t: 'accepted',
    row: row.row,
    att: row.att,
    txn: txn.transaction_id,
    st: status,
    op: txn.operator,
    at,
    done: txn.completed_at ?? null,
    ...(status === 'failed' ? { code: txn.error_code ?? 'RECHARGE_FAILED', msg: txn.message ?? 'the operator reported the recharge failed' } : {}),
  };
}

function finalRecord(row: RowState, txn: Transaction, st: 'completed' | 'failed', at: number): JournalRecord {
  return {
    t: 'final',
    row: row.row,
    att: row.att,
    txn: txn.transaction_id,
    st,
    ...(st === 'failed' ? { code: txn.error_code ?? 'RECHARGE_FAILED', msg: txn.message ?? 'the operator reported the recharge failed' } : {}),
    at,
    done: txn.completed_at ?? null,
  };
}
