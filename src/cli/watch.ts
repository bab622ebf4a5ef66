/** `watch <dir>` (SPEC §10): every settled CSV in the folder becomes a job, one at a time. */
import { relative } from 'node:path';
import { BatchError } from '../errors.js';
import { parseDuration } from '../util/units.js';
import { durationOption } from '../config.js';
import { watchFolder, type FileOutcome } from '../watch.js';
import { apiContext, type Io, type Options } from './context.js';
import { engineOptions, fileOptions, jsonSummary, progress } from './jobs.js';
import { auditFromOptions, webhooksFromOptions } from './services.js';

export interface WatchArgs {
  once: boolean;
  /** duration text, e.g. `5s` */
  settle: string;
}

export async function watchCommand(
  dir: string,
  options: Options,
  args: WatchArgs,
  io: Io,
  signal: AbortSignal,
): Promise<number> {
  // one name or one results path for every file would mix jobs up
  if (options.job)
    throw new BatchError('USAGE', '--job cannot be used with watch: each file gets its own job name');
  if (options.out)
    throw new BatchError(
      'USAGE',
      "--out cannot be used with watch: each file's results go beside it in done/",
    );
  const settleMs = parseDuration(args.settle, '--settle');
  const jobOptions = await fileOptions(options);
  const audit = auditFromOptions(options);
  const webhooks = await webhooksFromOptions(options, io);
  let ctx;
  try {
    ctx = apiContext(options, signal);
  } catch (err) {
    await webhooks?.close();
    throw err;
  }
  const quiet = Boolean(options.quiet);
  const json = Boolean(options.json);
  if (!quiet)
    io.err(`watching ${dir} for *.csv files${args.once ? ' (once)' : ''}; settled after ${args.settle}`);
  let stopProgress = () => undefined as void;
  try {
    const r = await watchFolder({
      ...engineOptions(options, ctx, signal),
      ...(webhooks ? { webhooks } : {}),
      dir,
      once: args.once,
      settleMs,
      jobOptions,
      onJob: (_file, events) => {
        audit?.listen(events);
        stopProgress = progress(
          events,
          io,
          { ...options, quiet: quiet || json },
          ctx.limiter.interval,
          durationOption(options, 'poll-after'),
          () => ctx.limiter.waitingUntil(),
        );
      },
      onFile: (o) => {
        stopProgress();
        // errors and stops are said even with --quiet or --json, as `run` says them
        if (o.error) io.err(`error: ${relative(dir, o.file)}: ${o.error}`);
        else if (o.result?.stopped) io.err(`stopped: ${relative(dir, o.file)}: ${o.result.stopped.message}`);
        if (!quiet && !json) io.err(fileLine(dir, o));
      },
    });
    if (json) io.out(JSON.stringify({ exit_code: r.code, files: r.files.map((f) => fileJson(dir, f)) }));
    return r.code;
  } finally {
    stopProgress();
    await webhooks?.close();
    await ctx.close();
  }
}

function fileLine(dir: string, o: FileOutcome): string {
  const name = relative(dir, o.file);
  const c = o.result?.counts;
  const what = c
    ? ` — completed ${c.completed}, failed ${c.failed}, unknown ${c.unknown}, invalid ${c.invalid}, processing ${c.processing}, pending ${c.pending}`
    : '';
  const where = o.movedTo
    ? `moved to ${relative(dir, o.paths[0]!)}`
    : 'stays, to be resumed on the next pass';
  return `${name}: exit ${o.code}, ${where}${what}`;
}

function fileJson(dir: string, o: FileOutcome) {
  return {
    file: o.file,
    exit_code: o.code,
    moved_to: o.movedTo,
    paths: o.paths,
    ...(o.result ? { job: jsonSummary(o.result, o.code) } : {}),
    ...(o.error ? { error: o.error } : {}),
  };
}
