/** `run`, `resume`, `retry`: the job engine with progress output and the end summary. */
import { JobEvents } from '../job/events.js';
import { runJob, resumeJob, retryJob, type JobResult, type RunJobOptions } from '../job/run.js';
import { tally, type RowState, type RowStatus } from '../job/rows.js';

const SHOWN_ORDER: RowStatus[] = ['completed', 'failed', 'unknown', 'invalid', 'skipped', 'processing', 'pending'];
import { durationOption } from '../config.js';
import { parseMapOption, loadOperatorsFile } from '../validate/index.js';
import { etaSeconds } from '../report/summary.js';
import { apiContext, type ApiContext, type Io, type Options } from './context.js';
import { clockTime } from '../api/client.js';
import { exitCodeForResult } from './exit.js';
import { auditFromOptions, webhooksFromOptions } from './services.js';
import type { EngineOptions } from '../job/runner.js';

export type JobCommand = 'run' | 'resume' | 'retry';

export async function jobCommand(
  command: JobCommand,
  target: string,
  options: Options,
  extra: { includeUnknown?: boolean },
  io: Io,
  signal: AbortSignal,
): Promise<number> {
  // opened first: a --log-file that cannot be written stops the command before anything is sent
  const audit = auditFromOptions(options);
  const webhooks = await webhooksFromOptions(options, io);
  let ctx;
  try {
    ctx = apiContext(options, signal);
  } catch (err) {
    await webhooks?.close();
    throw err;
  }
  const events = new JobEvents();
  audit?.listen(events);
  const stopProgress = progress(events, io, options, ctx.limiter.interval, durationOption(options, 'poll-after'), () => ctx.limiter.waitingUntil());
  const engine: EngineOptions = { ...engineOptions(options, ctx, signal), events, ...(webhooks ? { webhooks } : {}) };
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
    stopProgress();
    await webhooks?.close();
    await ctx.close();
  }
  const code = exitCodeForResult(result);
  if (options.json) {
    io.out(JSON.stringify(jsonSummary(result, code)));
  } else if (!options.quiet) {
    for (const line of humanSummary(result)) io.out(line);
  }
  if (result.stopped) io.err(`stopped: ${result.stopped.message}`);
  return code;
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
export async function fileOptions(options: Options): Promise<Pick<RunJobOptions, 'allowDuplicates' | 'map' | 'maxTotal' | 'operators'>> {
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
    repeats: { earlier_jobs: r.repeats.earlierJobs, unsettled: r.repeats.unsettled, warnings: r.repeats.warnings },
    exit_code: exitCode,
  };
}

const bdt = (n: number) => `${n.toLocaleString('en-US')} BDT`;

function humanSummary(r: JobResult): string[] {
  const c = r.counts;
  const total = Object.values(c).reduce((a, b) => a + b, 0);
  const lines = [
    `job ${r.job}: ${total} rows — completed ${c.completed}, failed ${c.failed}, unknown ${c.unknown}, invalid ${c.invalid}, skipped ${c.skipped}, processing ${c.processing}, pending ${c.pending}`,
    `  recharged: ${bdt(r.amounts.completed)}${r.amounts.processing ? `, still processing: ${bdt(r.amounts.processing)}` : ''}`,
    `  results: ${r.results}`,
  ];
  if (c.failed + c.invalid > 0) lines.push(`  failed rows, to fix and feed back: ${r.failed}`);
  lines.push(...repeatLines(r));
  if (c.unknown > 0) {
    lines.push(`  ${c.unknown} row(s) unknown — they may have been paid: ${r.unknown ?? r.results}`);
    lines.push(
      `    check each with the API by its reference or transaction id; never feed that file back as input. 'retry ${r.job} --include-unknown' only if the API rejects or replays a reused reference.`,
    );
  }
  if (r.inputChanged && r.stopped?.code !== 'INPUT_CHANGED') lines.push(`  warning: ${r.inputChanged}`);
  return lines;
}

/** TTY: one status line redrawn; otherwise a log line at most every 10 s (SPEC §7). */
export function progress(events: JobEvents, io: Io, options: Options, intervalMs: number, pollAfterMs: number, waitingUntil: () => number | null): () => void {
  if (options.quiet) return () => undefined;
  let rows: RowState[] = [];
  let started = Date.now();
  let doneAtStart = 0;
  let job = '';
  const line = () => {
    const t = tally(rows);
    const total = rows.filter(Boolean).length;
    const done = t.counts.completed + t.counts.failed + t.counts.invalid + t.counts.unknown + t.counts.skipped;
    const elapsed = (Date.now() - started) / 1000;
    const rate = elapsed > 0 ? (done - doneAtStart) / elapsed : 0;
    const etaS = etaSeconds(t.counts, intervalMs, pollAfterMs);
    const bar = total > 0 ? '#'.repeat(Math.round((done / total) * 20)).padEnd(20, '.') : '';
    // the essentials first, so a narrow terminal cuts only the tail; statuses at 0 are left out
    const counts = SHOWN_ORDER.filter((st) => t.counts[st] > 0)
      .map((st) => `${st} ${t.counts[st]}`)
      .join(', ');
    // while the API has asked us to wait, say so and until when, instead of a made-up ETA
    const until = waitingUntil();
    const eta = until !== null ? `waiting for the API until ${clockTime(new Date(until))}` : `ETA ${fmtDuration(etaS)}`;
    const head = `[${bar}] ${done}/${total} | ${(rate * 60).toFixed(0)}/min | ${eta} | ${counts}`;
    return io.status ? head : `${job} ${head}`;
  };
  events.on('job:started', (e) => {
    rows = e.rows;
    job = e.job;
    started = Date.now();
    const t = tally(rows);
    doneAtStart = t.counts.completed + t.counts.failed + t.counts.invalid + t.counts.unknown + t.counts.skipped;
    const invalid = t.counts.invalid;
    io.err(
      `${e.resumed ? 'resuming' : 'starting'} job ${e.job}: ${e.pending} row(s) to send, ${e.processing} to poll${invalid ? `, ${invalid} invalid (not sent)` : ''}`,
    );
  });
  events.on('job:stopping', (e) => io.err(`stopping: ${e.message}`));
  events.on('warning', (e) => io.err(`warning: ${e.message}`));
  const every = io.status ? 250 : 10_000;
  const timer = setInterval(() => {
    if (rows.length === 0) return;
    if (io.status) io.status(line());
    else io.err(line());
  }, every);
  timer.unref();
  return () => {
    clearInterval(timer);
    if (io.status && rows.length) io.status('');
  };
}

function fmtDuration(s: number): string {
  if (s < 90) return `${s}s`;
  if (s < 5400) return `${Math.round(s / 60)}m`;
  return `${(s / 3600).toFixed(1)}h`;
}

/** SPEC §5a: skipped rows name the earlier jobs; other amounts to the same number are warned. */
function repeatLines(r: JobResult): string[] {
  const lines: string[] = [];
  const { earlierJobs, unsettled, warnings } = r.repeats;
  if (r.counts.skipped > 0) {
    lines.push(`  ${r.counts.skipped} row(s) skipped, ${bdt(r.amounts.skipped)} not sent: already paid (or maybe paid) by job(s) ${earlierJobs.join(', ')} — see error_message in the results; --allow-repeat pays them again`);
    if (unsettled > 0) lines.push(`  ${unsettled} of them match a payment that is not known to be completed (MAYBE_PAID, or still processing): check those with the API`);
  }
  if (warnings.length > 0) {
    lines.push(`  warning: ${warnings.length} number(s) were paid another amount by an earlier job inside --repeat-window:`);
    for (const w of warnings.slice(0, 10)) lines.push(`    ${w}`);
    if (warnings.length > 10) lines.push(`    … and ${warnings.length - 10} more`);
  }
  return lines;
}
