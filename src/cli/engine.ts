/**
 * The job engine as `run`, `resume`, `retry` (and `watch`) drive it: progress output, the
 * audit log and webhook receiver beside it, and the end summary (SPEC §2, §7, §10).
 */
import { JobEvents } from '../job/events.js';
import { runJob, resumeJob, retryJob, type JobResult, type RunJobOptions } from '../run.js';
import { snapshot } from '../job/job.js';
import { unsettledSkips } from '../job/recheck.js';
import type { EngineOptions } from '../run.js';
import type { ResolvedOptions } from '../config.js';
import { loadOperatorsFile } from '../validate/index.js';
import { apiContext, apiHint, type ApiContext, type Io } from './context.js';
import { exitCodeForResult } from '../exit.js';
import { auditFromOptions, webhooksFromOptions } from './services.js';
import { limitPerMinute, showProgress } from './progress.js';
import { humanSummary, jsonSummary, type PlanNotes } from './summary.js';
import { count, noun } from '../util/words.js';

export type JobCommand = 'run' | 'resume' | 'retry';

/**
 * Runs `run` (target: the CSV), `resume` or `retry` (target: the job name) to its end or stop.
 * @returns the exit code (SPEC §2): the job's own, or 4 when stopped resumably
 * @throws BatchError before anything is sent (a bad --log-file or --webhook-listen, no key …)
 */
export async function jobCommand(
  command: JobCommand,
  target: string,
  options: ResolvedOptions,
  extra: { includeUnknown?: boolean },
  io: Io,
  signal: AbortSignal,
): Promise<number> {
  // decided before the engine runs, so its start line is not "retrying … 0 rows to send"; the
  // engine still runs, for its checks (account, lock, input unchanged) and to rewrite the results
  const nothing =
    command === 'run'
      ? null
      : await nothingToDo(command, options.stateDir, target, extra.includeUnknown === true);
  // opened first: a --log-file that cannot be written stops the command before anything is sent
  const audit = auditFromOptions(options);
  const webhooks = await webhooksFromOptions(options, io);
  let ctx: ApiContext;
  try {
    ctx = apiContext(options, signal);
  } catch (err) {
    await webhooks?.close();
    throw err;
  }
  const events = new JobEvents();
  audit?.listen(events);
  let planned: PlanNotes | undefined;
  events.on('job:planned', (e) => (planned = e));
  const shown = showProgress(events, io, nothing ? { ...options, quiet: true } : options, {
    verb: command === 'retry' ? 'retrying' : undefined,
    intervalMs: ctx.limiter.interval,
    pollAfterMs: options.pollAfterMs,
    limitPerMin: limitPerMinute(options),
    waitingUntil: () => ctx.limiter.waitingUntil(),
  });
  const engine: EngineOptions = {
    ...engineOptions(options, ctx, signal),
    events,
    ...(webhooks ? { webhooks } : {}),
  };
  let result: JobResult;
  try {
    if (command === 'run') {
      result = await runJob({
        ...engine,
        csv: target,
        job: options.job,
        ...(await fileOptions(options)),
      });
    } else if (command === 'resume') {
      result = await resumeJob({ ...engine, job: target });
    } else {
      result = await retryJob({ ...engine, job: target, includeUnknown: extra.includeUnknown });
    }
  } finally {
    shown.stop();
    await webhooks?.close();
    await ctx.close();
  }
  const code = exitCodeForResult(result);
  // a row the engine changed after all (its counts moved) gets the normal summary: money may have moved
  if (nothing && !result.stopped && sameCounts(result.counts, nothing.counts)) {
    // the job's own exit code, and one plain line instead of a summary of nothing
    if (options.json)
      io.out(JSON.stringify({ ...jsonSummary(result, code, options.baseUrl), nothing_to_do: true }));
    else if (!options.quiet) io.err(nothing.line(result.counts));
    return code;
  }
  // each stop is said once: as it happens ("stopping: …") or, if that line was not shown, here;
  // a signal was already announced by the signal handler
  if (result.stopped && !shown.stopAnnounced && result.stopped.code !== 'INTERRUPTED') {
    io.err(`stopped: ${result.stopped.message}${apiHint(result.stopped, options.baseUrl)}`);
  }
  // a file of another job replaced, or one left as it is: said even with --quiet and --json
  for (const w of result.warnings ?? []) io.err(`warning: ${w}`);
  if (options.json) {
    io.out(JSON.stringify(jsonSummary(result, code, options.baseUrl, planned)));
  } else if (!options.quiet) {
    for (const line of humanSummary(result, planned)) io.out(line);
  }
  return code;
}

/**
 * `resume` of a finished job, or `retry` of one with no failed rows (nor unknown ones with
 * --include-unknown): nothing is sent, the line says so, and the exit code is the job's own (0
 * if every row completed), not a failure of the command. Null when there is something to do, or
 * a row was left mid-send by a crash (the engine turns it into `unknown` first), or a skipped row
 * whose earlier payment is recorded (`prevIntent`) and not known completed: the engine looks it
 * up again and may pay it (SPEC §5a, src/job/recheck.ts), so the run gets progress and a summary.
 * @returns the job's counts now and the line to print, given the counts after the engine ran
 */
async function nothingToDo(
  command: 'resume' | 'retry',
  stateDir: string,
  job: string,
  includeUnknown: boolean,
): Promise<{ counts: Record<string, number>; line: (c: Record<string, number>) => string } | null> {
  const s = await snapshot(stateDir, job);
  const c = s.tally.counts;
  if (!s.finished || (command === 'retry' && c.failed + (includeUnknown ? c.unknown : 0) > 0)) return null;
  // skipped rows are few (only those counted are scanned), and a million-row job has none to scan
  let unsettled = 0;
  if (c.skipped > 0) {
    for (const r of unsettledSkips(s.rows)) {
      if (r.prevIntent) return null; // the re-check may settle it, or reopen it and pay it now
      unsettled++;
    }
  }
  const line = (c: Record<string, number>) => {
    const left: string[] = [];
    // one way back for failed rows, the failed CSV, as the summary offers (README "What you see"):
    // `retry` besides would pay them twice were both done
    if (c.failed + c.invalid)
      left.push(
        `${count(c.failed + c.invalid, c.failed && c.invalid ? 'failed or invalid row' : c.failed ? 'failed row' : 'invalid row')} to correct in the failed CSV and run again`,
      );
    if (c.unknown) {
      left.push(
        `${count(c.unknown, 'unknown row')} to check with Alsamiflexi first (${noun(c.unknown, 'it', 'they')} may have been paid; retry --include-unknown --reference-dedup resends with the same reference, only safe if the API refuses or replays a reused one)`,
      );
    }
    // skipped by a version that did not record which earlier payment it was: no re-check can
    // tell, so the clerk is sent to the API (README "Skipped rows are looked up again")
    if (unsettled) {
      left.push(
        `${count(unsettled, 'row')} skipped as maybe paid (MAYBE_PAID, or an earlier payment still processing, see error_message in the results) cannot be looked up again (the job did not record which payment it was): check ${noun(unsettled, 'it', 'them')} with Alsamiflexi, then pay any that did not go through from a new CSV with --allow-repeat`,
      );
    }
    const head =
      command === 'retry'
        ? `nothing to retry in job ${job}: no failed rows`
        : `nothing to resume in job ${job}: it has finished`;
    const done = c.skipped
      ? ' — every row completed or was already paid by an earlier job'
      : ' — every row completed';
    return `${head}${left.length ? `; ${left.join('; ')}` : done}`;
  };
  return { counts: { ...c }, line };
}

/** Whether the engine left every count as it found it. */
function sameCounts(a: Record<string, number>, b: Record<string, number>): boolean {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].every((k) => (a[k] ?? 0) === (b[k] ?? 0));
}

/** The engine's options from the command line (what run, resume, retry and watch share). */
export function engineOptions(options: ResolvedOptions, ctx: ApiContext, signal: AbortSignal): EngineOptions {
  return {
    stateDir: options.stateDir,
    client: ctx.client,
    concurrency: options.concurrency,
    pollAfterMs: options.pollAfterMs,
    pollEveryMs: options.pollEveryMs,
    pollTimeoutMs: options.pollTimeoutMs,
    pollShareIntervalMs: ctx.limiter.interval,
    allowPartial: options.allowPartial,
    referenceDedup: options.referenceDedup,
    repeatWindowMs: options.repeatWindowMs,
    allowRepeat: options.allowRepeat,
    out: options.out,
    bom: options.bom,
    signal,
  };
}

/** The options that apply when a file becomes a new job (run, watch). */
export async function fileOptions(
  options: ResolvedOptions,
): Promise<Pick<RunJobOptions, 'allowDuplicates' | 'map' | 'maxTotal' | 'operators'>> {
  return {
    allowDuplicates: options.allowDuplicates,
    map: options.map,
    maxTotal: options.maxTotal,
    operators: options.operators ? await loadOperatorsFile(options.operators) : undefined,
  };
}
