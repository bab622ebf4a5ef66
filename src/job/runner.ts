/**
 * The job engine (SPEC §5): submits pending rows through the shared limiter (submit.ts),
 * polls processing rows (poller.ts), records every state change in the journal before acting
 * on it, and writes the results at the end and at every stop. What each API answer means is
 * the outcome table's (api/outcome.ts) to say.
 *
 * A stop (signal, 401, 402, the circuit breaker, a wait longer than --max-wait) ends every
 * wait at once; requests already sent finish within --request-timeout; the results are
 * written; the job stays resumable (SPEC §5 additions, "Signals reach every wait").
 */
import { setMaxListeners } from 'node:events';
import type { AlsamiflexiClient } from '../api/client.js';
import { systemClock, type Clock } from '../clock.js';
import { DEFAULTS } from '../defaults.js';
import { BatchError, localIoError, type ErrorCode } from '../errors.js';
import { masked, type JournalRecord } from './journal.js';
import { applyRecord, tally, type RowState, type RowStatus } from './rows.js';
import { Poller } from './poller.js';
import { JobEvents } from './events.js';
import type { WebhookReceiver } from './webhooks.js';
import { rememberRun, type OpenJob } from './job.js';
import { checkWritable, jobOutputs, type ResultsWriter, type WrittenResults } from './outputs.js';
import { Submitter, balanceCheck, finalRecord, unknownWordText } from './submit.js';
import { outranks, warnOncePerWord } from './stops.js';
import { startingRows, submitWorker, toPay } from './pending.js';
import { RepeatGuard, repeatSummary, type RepeatSummary } from './repeats.js';
import { announceRechecks } from './recheck.js';
import type { Registry } from './registry.js';
import { count } from '../util/words.js';

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
  /** results CSV path (default: the one the job remembers, else `<input dir>/<basename>.results.csv`) */
  out?: string;
  /** start every CSV written with a UTF-8 BOM (default true) */
  bom?: boolean;
  /** aborting it stops the job gracefully: no new POSTs, in-flight ones finish, results written */
  signal?: AbortSignal;
  events?: JobEvents;
  /**
   * The limiter's interval between requests: while rows wait to be sent, polls are kept to at
   * most every other slot, so a long tail of processing rows cannot starve submissions.
   */
  pollShareIntervalMs?: number;
  /**
   * A webhook receiver (SPEC §10): while the job runs, an event for one of its processing
   * transactions makes that status check due now; the first poll then waits twice as long
   * (polling stays as the safety net).
   */
  webhooks?: WebhookReceiver;
  /** resends of one ambiguous or refused POST before giving up */
  resendLimit?: number;
  backoffBaseMs?: number;
  /** the account registry (SPEC §5a); a file registry in the state dir when absent */
  registry?: Registry;
  /** `--repeat-window` in ms: how far back an earlier payment of the same number and amount blocks a row (default 7 days; 0 = never) */
  repeatWindowMs?: number;
  /** `--allow-repeat`: pay rows the registry holds an earlier payment of */
  allowRepeat?: boolean;
  /** writes the results, failed and unknown CSVs at the end and at every stop (report/results.ts's writeResults) */
  writeResults: ResultsWriter;
}

export interface JobResult extends WrittenResults {
  job: string;
  dir: string;
  counts: Record<RowStatus, number>;
  amounts: Record<RowStatus, number>;
  /** why the job stopped before finishing, if it did */
  stopped: { code: ErrorCode; message: string } | null;
  resumed: boolean;
  /** SPEC §5a: what the account registry did to this job */
  repeats: RepeatSummary;
}

export async function drive(job: OpenJob, opts: EngineOptions, resumed: boolean): Promise<JobResult> {
  try {
    return await driveJob(job, opts, resumed);
  } catch (err) {
    // a full disk or a read-only state dir is one line naming the path, never "a bug"
    const sent = job.rows.some((r) => r && r.status !== 'pending' && r.status !== 'invalid');
    if (sent && err instanceof BatchError && err.code === 'FILE_NOT_FOUND') {
      // the input went away mid-run: the journal holds everything; resumable once it is back
      throw new BatchError(
        'LOCAL_IO_STOPPED',
        `${err.message}; the job's journal is intact — put the file back, then run the same command again to write the results`,
        err.context,
        { cause: err },
      );
    }
    throw localIoError(err, sent) ?? err;
  }
}

async function driveJob(job: OpenJob, opts: EngineOptions, resumed: boolean): Promise<JobResult> {
  // the results must be writable before anything is sent, not discovered at the end
  await checkWritable(jobOutputs(job.meta, opts.out).results);
  // `status` gives the ETA at the pace the job last ran at (whatever plan it is itself given),
  // and no earlier run's stop while this one runs
  const pace = opts.pollShareIntervalMs
    ? { intervalMs: opts.pollShareIntervalMs, pollAfterMs: opts.pollAfterMs ?? DEFAULTS.pollAfterMs }
    : undefined;
  await rememberRun(job, { pace, stop: null });
  const clock = opts.clock ?? systemClock;
  // best effort, for `status` to tell: a job.json that cannot be written changes nothing sent
  const recordStop = (stop: { code: string; message: string }) =>
    rememberRun(job, { stop: { ...stop, at: new Date(clock.now()).toISOString() } }).catch(() => undefined);
  const events = opts.events ?? new JobEvents();
  const { client } = opts;
  const { journal } = job;
  const name = job.meta.job;

  let stopped: { code: ErrorCode; message: string } | null = null;
  let submitting = true;
  const stopSubmitting = new AbortController();
  // every queued request listens to it until it leaves the queue: many at once is no leak
  setMaxListeners(0, stopSubmitting.signal);
  const stop = (code: ErrorCode, message: string, polls = false) => {
    if (!stopped || outranks(code, stopped.code)) stopped = { code, message };
    if (!stopSubmitting.signal.aborted) {
      events.emit('job:stopping', { code, message });
      stopSubmitting.abort(new BatchError(code, message));
    }
    if (polls) poller.stop();
  };

  // API text is masked once, before the journal and the rows (and so the CSVs) see it
  const record = async (rec: JournalRecord) => {
    const clean = masked(rec);
    await journal.append(clean);
    applyRecord(name, job.rows, clean);
    guard.outcome(clean); // records are made only once the guard below exists
  };
  const unknownWord = warnOncePerWord(events);

  const poller = new Poller({
    client,
    clock,
    pollEveryMs: opts.pollEveryMs ?? DEFAULTS.pollEveryMs,
    pollTimeoutMs: opts.pollTimeoutMs ?? DEFAULTS.pollTimeoutMs,
    // half of the rate for polls at most while rows are still waiting to be sent
    pollGapMs: () => (submitting && opts.pollShareIntervalMs ? opts.pollShareIntervalMs * 2 : 0),
    onFinal: async (row, txn, st) => {
      await record(finalRecord(row, txn, st, clock.now()));
      events.emit('row:final', { row });
    },
    onUnknownWord: async (row, txn, st) => {
      // shown in the row's error_message; the row stays processing and keeps being polled
      await record({
        t: 'accepted',
        row: row.row,
        att: row.att,
        txn: txn.transaction_id,
        st: 'processing',
        msg: unknownWordText(st.word),
        at: clock.now(),
      });
      unknownWord(st.word);
    },
    onFatal: (err) => stop(err.code, err.message, true),
  });

  const detachWebhooks = opts.webhooks?.attach({
    rows: job.rows,
    events,
    checkNow: (txn) => poller.checkNow(txn),
  });

  const onSignal = () =>
    stop(
      'INTERRUPTED',
      'interrupted by a signal: stopped submitting; run the same command again to resume',
      true,
    );
  if (opts.signal?.aborted) onSignal();
  opts.signal?.addEventListener('abort', onSignal, { once: true });

  // SPEC §5a: rows another job already paid are skipped, and left out of the balance pre-check
  const guard = await RepeatGuard.open(job, job.meta.account ?? client.account, {
    ...opts,
    clock,
    concurrency: opts.concurrency ?? DEFAULTS.concurrency,
    record,
  });
  // driven again: skipped rows whose earlier payment has since ended are settled or pending again
  const rechecked = resumed ? await guard.recheck() : [];
  const { pending, processing } = startingRows(job.rows, (r) => poller.add(r, clock.now()));
  guard.start(pending);
  events.emit('job:started', { job: name, rows: job.rows, resumed, pending: pending.length, processing });
  announceRechecks(events, job.rows, rechecked);
  const polling = poller.run();
  polling.catch(() => undefined); // awaited below; this only keeps an early failure from being 'unhandled'

  const submitter = new Submitter({
    client,
    clock,
    events,
    record,
    applyOnly: (rec) => applyRecord(name, job.rows, masked(rec)),
    stopSignal: stopSubmitting.signal,
    stop,
    poll: (row, due) => poller.add(row, due),
    unknownWord,
    referenceDedup: opts.referenceDedup === true,
    resendLimit: opts.resendLimit ?? 5,
    backoffBaseMs: opts.backoffBaseMs ?? 500,
    // with webhooks, polling is the safety net: the first poll comes later (SPEC §10)
    pollAfterMs: (opts.pollAfterMs ?? DEFAULTS.pollAfterMs) * (opts.webhooks ? 2 : 1),
  });

  try {
    const repeats = pending.length > 0 ? await guard.prescan() : new Set<number>();
    const need = toPay(pending, repeats);
    if (need.rows > 0 && !stopped) {
      await balanceCheck(client, need, opts.allowPartial ?? false, stop, stopSubmitting.signal).catch(
        (err: unknown) => {
          // stopped by a signal while checking: nothing was sent, the stop says why
          if (!stopSubmitting.signal.aborted) throw err;
        },
      );
    }
    const send = async (i: number, row: RowState) => {
      if (await guard.admit(i)) return submitter.submitOne(row);
      events.emit('row:final', { row });
      return null;
    };
    const cursor = { next: 0 };
    const workers = Array.from({ length: Math.max(1, opts.concurrency ?? DEFAULTS.concurrency) }, () =>
      submitWorker(pending, cursor, () => stopSubmitting.signal.aborted, send),
    );
    await Promise.all(workers);
    submitting = false;
    poller.close();
    await polling;
  } catch (err) {
    poller.stop();
    await polling.catch(() => undefined);
    await guard.close().catch(() => undefined);
    await finish(job, opts).catch(() => undefined);
    const why = {
      code: err instanceof BatchError ? err.code : ('INTERNAL' as const),
      message: (err as Error)?.message ?? String(err),
    };
    await recordStop(why);
    events.emit('job:finished', { job: name, ...tally(job.rows), stopped: why });
    throw err;
  } finally {
    opts.signal?.removeEventListener('abort', onSignal);
    detachWebhooks?.();
  }
  await guard.close();
  if (poller.timedOut > 0) {
    stop(
      'POLL_TIMEOUT',
      `${count(poller.timedOut, 'row')} still processing at --poll-timeout; run 'resume ${name}' later to poll them again`,
    );
  }
  const outputs = await finish(job, opts);
  if (outputs.inputChanged) stopped ??= { code: 'INPUT_CHANGED', message: outputs.inputChanged }; // SPEC §5: exit 4, not 2
  const t = tally(job.rows);
  if (stopped) await recordStop(stopped);
  events.emit('job:finished', { job: name, counts: t.counts, amounts: t.amounts, stopped });
  return {
    job: name,
    dir: job.paths.dir,
    counts: t.counts,
    amounts: t.amounts,
    ...outputs,
    stopped,
    resumed,
    repeats: repeatSummary(job.rows, guard.warnings),
  };
}

async function finish(job: OpenJob, opts: EngineOptions): Promise<WrittenResults> {
  return opts.writeResults(job.meta, job.rows, jobOutputs(job.meta, opts.out), {
    bom: opts.bom,
    jobDir: job.paths.dir,
  });
}
