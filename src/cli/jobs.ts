/** `run`, `resume`, `retry`: the job engine with progress output and the end summary. */
import { JobEvents } from '../job/events.js';
import { runJob, resumeJob, retryJob, type JobResult, type RunJobOptions } from '../run.js';
import { snapshot } from '../job/job.js';
import { systemClock, type Clock } from '../clock.js';
import { durationOption, resolveRate } from '../config.js';
import type { Rate } from '../util/units.js';
import { parseMapOption, loadOperatorsFile } from '../validate/index.js';
import { ProgressTracker } from '../report/progress.js';
import { apiContext, apiHint, type ApiContext, type Io, type Options } from './context.js';
import { exitCodeForResult } from './exit.js';
import { auditFromOptions, webhooksFromOptions } from './services.js';
import type { EngineOptions } from '../run.js';
import { bdt, count, noun } from '../util/words.js';

export type JobCommand = 'run' | 'resume' | 'retry';

export async function jobCommand(
  command: JobCommand,
  target: string,
  options: Options,
  extra: { includeUnknown?: boolean },
  io: Io,
  signal: AbortSignal,
): Promise<number> {
  // decided before the engine runs, so its start line is not "retrying … 0 rows to send"; the
  // engine still runs, for its checks (account, lock, input unchanged) and to rewrite the results
  const nothing =
    command === 'run'
      ? null
      : await nothingToDo(command, String(options['state-dir']), target, Boolean(extra.includeUnknown));
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
  const shown = showProgress(events, io, nothing ? { ...options, quiet: true } : options, {
    verb: command === 'retry' ? 'retrying' : undefined,
    intervalMs: ctx.limiter.interval,
    pollAfterMs: durationOption(options, 'poll-after'),
    limitPerMin: perMinute(resolveRate(options.plan, options['rate-limit'])),
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
        job: options.job ? String(options.job) : undefined,
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
  if (nothing && !result.stopped && result.counts.pending + result.counts.processing === 0) {
    // the job's own exit code, and one plain line instead of a summary of nothing
    if (options.json) io.out(JSON.stringify({ ...jsonSummary(result, code), nothing_to_do: true }));
    else if (!options.quiet) io.err(nothing.line(result.counts));
    return code;
  }
  // each stop is said once: as it happens ("stopping: …") or, if that line was not shown, here;
  // a signal was already announced by the signal handler
  if (result.stopped && !shown.stopAnnounced && result.stopped.code !== 'INTERRUPTED') {
    io.err(`stopped: ${result.stopped.message}${apiHint(result.stopped, options['base-url'])}`);
  }
  if (options.json) {
    io.out(JSON.stringify(jsonSummary(result, code)));
  } else if (!options.quiet) {
    for (const line of humanSummary(result)) io.out(line);
  }
  return code;
}

/**
 * `resume` of a finished job, or `retry` of one with no failed rows (nor unknown ones with
 * --include-unknown): nothing is sent, the line says so, and the exit code is the job's own (0
 * if every row completed), not a failure of the command. Null when there is something to do, or
 * a row was left mid-send by a crash (the engine turns it into `unknown` first).
 */
async function nothingToDo(
  command: 'resume' | 'retry',
  stateDir: string,
  job: string,
  includeUnknown: boolean,
): Promise<{ line: (c: Record<string, number>) => string } | null> {
  const s = await snapshot(stateDir, job);
  const c = s.tally.counts;
  if (!s.finished || (command === 'retry' && c.failed + (includeUnknown ? c.unknown : 0) > 0)) return null;
  const line = (c: Record<string, number>) => {
    const left: string[] = [];
    if (c.failed)
      left.push(
        `${count(c.failed, 'failed row')}: \`recharge-batch retry ${job}\` sends ${noun(c.failed, 'it', 'them')} again`,
      );
    if (c.invalid) left.push(`${count(c.invalid, 'invalid row')} to correct in the failed CSV and run again`);
    if (c.unknown) {
      left.push(
        `${count(c.unknown, 'unknown row')} to check with Alsamiflexi first (${noun(c.unknown, 'it', 'they')} may have been paid; --include-unknown resends with the same reference, only safe if the API refuses a reused one)`,
      );
    }
    const head =
      command === 'retry'
        ? `nothing to retry in job ${job}: no failed rows`
        : `nothing to resume in job ${job}: it has finished`;
    return `${head}${left.length ? `; ${left.join('; ')}` : ' — every row completed'}`;
  };
  return { line };
}

/** The engine's options from the command line (what run, resume, retry and watch share). */
export function engineOptions(options: Options, ctx: ApiContext, signal: AbortSignal): EngineOptions {
  return {
    stateDir: String(options['state-dir']),
    client: ctx.client,
    concurrency: Number(options.concurrency),
    pollAfterMs: durationOption(options, 'poll-after'),
    pollEveryMs: durationOption(options, 'poll-every'),
    pollTimeoutMs: durationOption(options, 'poll-timeout'),
    pollShareIntervalMs: ctx.limiter.interval,
    allowPartial: Boolean(options['allow-partial']),
    referenceDedup: Boolean(options['reference-dedup']),
    repeatWindowMs: durationOption(options, 'repeat-window'),
    allowRepeat: Boolean(options['allow-repeat']),
    out: options.out ? String(options.out) : undefined,
    bom: options.bom !== false,
    signal,
  };
}

/** The options that apply when a file becomes a new job (run, watch). */
export async function fileOptions(
  options: Options,
): Promise<Pick<RunJobOptions, 'allowDuplicates' | 'map' | 'maxTotal' | 'operators'>> {
  return {
    allowDuplicates: Boolean(options['allow-duplicates']),
    map: parseMapOption(options.map as string[] | undefined),
    maxTotal: options['max-total'] !== undefined ? Number(options['max-total']) : undefined,
    operators: options.operators ? await loadOperatorsFile(String(options.operators)) : undefined,
  };
}

export function jsonSummary(r: JobResult, exitCode: number) {
  return {
    job: r.job,
    counts: r.counts,
    amounts: r.amounts,
    results: r.results,
    failed: r.failed,
    unknown: r.unknown,
    input_changed: r.inputChanged,
    stopped: r.stopped ? { code: r.stopped.code, message: r.stopped.message } : null,
    repeats: {
      earlier_jobs: r.repeats.earlierJobs,
      unsettled: r.repeats.unsettled,
      warnings: r.repeats.warnings,
    },
    exit_code: exitCode,
  };
}

const perMinute = (r: Rate) => (r.limit * 60_000) / r.windowMs;

/** The end summary: counts, money, files, and always the next step (SPEC §7). */
export function humanSummary(r: JobResult): string[] {
  const c = r.counts as Record<string, number>;
  const total = Object.values(c).reduce((a, b) => a + b, 0);
  const parts = ['completed', 'failed', 'unknown', 'processing', 'pending']
    .filter((st) => (c[st] ?? 0) > 0)
    .map((st) => `${c[st]} ${st}`);
  if (c.invalid) parts.push(`${c.invalid} invalid (not sent)`);
  if (c.skipped) parts.push(`${c.skipped} skipped (paid before)`);
  const lines = [
    `job ${r.job}: ${count(total, 'row')} — ${parts.join(', ') || 'nothing to do'}`,
    `  recharged: ${bdt(r.amounts.completed)}${r.amounts.processing ? `, still processing: ${bdt(r.amounts.processing)}` : ''}`,
    `  results: ${r.results}`,
  ];
  if (c.failed + c.invalid > 0) lines.push(`  failed rows: ${r.failed}`);
  if (c.unknown > 0 && r.unknown) lines.push(`  unknown rows: ${r.unknown}`);
  lines.push(...repeatLines(r));
  if (r.inputChanged && r.stopped?.code !== 'INPUT_CHANGED') lines.push(`  warning: ${r.inputChanged}`);
  return [...lines, ...nextSteps(r).map((step, i) => `${i === 0 ? 'next: ' : '      '}${step}`)];
}

/** What the user does now, most urgent first; one line each. */
export function nextSteps(r: JobResult): string[] {
  const c = r.counts as Record<string, number>;
  const steps: string[] = [];
  const resume = `recharge-batch resume ${r.job}`;
  const code = r.stopped?.code;
  if (code === 'API_UNAUTHORIZED') steps.push(`check the API key (ALSAMIFLEXI_API_KEY), then \`${resume}\``);
  else if (code === 'INSUFFICIENT_BALANCE')
    steps.push(`top up the account (${bdt(r.amounts.pending)} still to send), then \`${resume}\``);
  else if (
    code === 'API_UNREACHABLE' ||
    code === 'API_ERROR' ||
    code === 'API_TIMEOUT' ||
    code === 'API_BAD_RESPONSE'
  ) {
    steps.push(`check the connection and --base-url, then \`${resume}\``);
  } else if (code === 'POLL_TIMEOUT')
    steps.push(`\`${resume}\` later: ${count(c.processing ?? 0, 'row')} still processing at the API`);
  else if ((c.pending ?? 0) + (c.processing ?? 0) > 0)
    steps.push(`\`${resume}\` to finish the ${count((c.pending ?? 0) + (c.processing ?? 0), 'row')} left`);
  const toFix = (c.failed ?? 0) + (c.invalid ?? 0);
  // one way back for these rows, never two (retrying and feeding the file back would pay twice)
  if (toFix > 0) {
    steps.push(
      `open ${r.failed}: its error_message says why each of the ${count(toFix, 'row')} was not paid; correct what is wrong, then run that file: \`recharge-batch run ${r.failed}\``,
    );
  }
  if ((c.unknown ?? 0) > 0) {
    const where = r.unknown ?? `${r.results} (status unknown)`;
    steps.push(
      `check the ${count(c.unknown!, 'unknown row')} in ${where} with Alsamiflexi by reference or transaction id before paying ${noun(c.unknown!, 'it', 'them')} again: ${noun(c.unknown!, 'it', 'they')} may have been paid (never feed that file back as it is)`,
    );
  }
  if (steps.length === 0) steps.push('nothing — every row is done');
  return steps;
}

export interface ProgressDisplay {
  stop(): void;
  /** a `stopping: …` line was shown while the job ran */
  readonly stopAnnounced: boolean;
}

/**
 * TTY: one status line redrawn; otherwise a log line at most every 10 s (SPEC §7). The first
 * line is shown as soon as the job starts.
 */
export function showProgress(
  events: JobEvents,
  io: Io,
  options: Options,
  opts: {
    intervalMs: number;
    pollAfterMs: number;
    limitPerMin?: number;
    waitingUntil?: () => number | null;
    verb?: string;
    clock?: Clock;
  },
): ProgressDisplay {
  let stopAnnounced = false;
  if (options.quiet) return { stop: () => undefined, stopAnnounced };
  const tracker = new ProgressTracker(events, { clock: opts.clock ?? systemClock, ...opts });
  const draw = () => {
    if (!tracker.started) return;
    if (io.status) io.status(tracker.line());
    else io.err(`${tracker.job} ${tracker.line()}`);
  };
  events.on('job:started', (e) => {
    const invalid = e.rows.filter((r) => r?.status === 'invalid').length;
    const verb = opts.verb ?? (e.resumed ? 'resuming' : 'starting');
    const what = [
      e.pending || !e.processing ? `${count(e.pending, 'row')} to send` : '',
      e.processing ? `${count(e.processing, 'row')} to poll` : '',
      invalid ? `${count(invalid, 'invalid row')} not sent` : '',
    ].filter(Boolean);
    io.err(`${verb} job ${e.job}: ${what.join(', ')}`);
    draw();
  });
  events.on('job:stopping', (e) => {
    if (e.code === 'INTERRUPTED') return; // the signal handler has said it
    stopAnnounced = true;
    io.err(`stopping: ${e.message}${apiHint(e, options['base-url'])}`);
  });
  events.on('warning', (e) => io.err(`warning: ${e.message}`));
  const timer = setInterval(draw, io.status ? 250 : 10_000);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      if (io.status && tracker.started) io.status('');
    },
    get stopAnnounced() {
      return stopAnnounced;
    },
  };
}

/** SPEC §5a: skipped rows name the earlier jobs; other amounts to the same number are warned. */
function repeatLines(r: JobResult): string[] {
  const lines: string[] = [];
  const { earlierJobs, unsettled, warnings } = r.repeats;
  if (r.counts.skipped > 0) {
    lines.push(
      `  ${count(r.counts.skipped, 'row')} skipped, ${bdt(r.amounts.skipped)} not sent: already paid (or maybe paid) by ${noun(earlierJobs.length, 'job', 'jobs')} ${earlierJobs.join(', ')} — see error_message in the results; --allow-repeat pays them again`,
    );
    if (unsettled > 0)
      lines.push(
        `  ${unsettled} of them match a payment that is not known to be completed (MAYBE_PAID, or still processing): check those with the API`,
      );
  }
  if (warnings.length > 0) {
    lines.push(
      `  warning: ${count(warnings.length, 'number was', 'numbers were')} paid another amount by an earlier job inside --repeat-window:`,
    );
    for (const w of warnings.slice(0, 10)) lines.push(`    ${w}`);
    if (warnings.length > 10) lines.push(`    … and ${warnings.length - 10} more`);
  }
  return lines;
}

/** The progress display as the watched folder uses it: returns its stop function. */
export function progress(
  events: JobEvents,
  io: Io,
  options: Options,
  intervalMs: number,
  pollAfterMs: number,
  waitingUntil: () => number | null,
): () => void {
  const shown = showProgress(events, io, options, { intervalMs, pollAfterMs, waitingUntil });
  return () => shown.stop();
}
