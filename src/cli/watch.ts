/** `watch <dir>` (SPEC §10): every settled CSV in the folder becomes a job, one at a time. */
import { relative, resolve } from 'node:path';
import { BatchError } from '../errors.js';
import { humanMs } from '../api/client.js';
import type { ResolvedOptions } from '../config.js';
import { checkFolder, watchFolder, type FileOutcome } from '../watch.js';
import { ownDuration } from './own-options.js';
import { apiContext, type Io } from './context.js';
import { COMMON, ENGINE, FILE, type Command } from './command.js';
import { engineOptions, fileOptions } from './engine.js';
import { limitPerMinute, progress } from './progress.js';
import { jsonSummary } from './summary.js';
import { auditFromOptions, webhooksFromOptions } from './services.js';

/** What `watch` takes besides the shared options: its own flags, as typed. */
export interface WatchArgs {
  dir: string;
  once: boolean;
  /** duration text, e.g. `5s` */
  settle: string;
  /** refused: given here only to say why (one name or one results path would mix the files' jobs up) */
  job?: string;
  out?: string;
}

export const watch: Command<WatchArgs> = {
  command: 'watch <dir>',
  describe: 'run every *.csv that lands in <dir> as a job, one at a time: done/ or rejected/ after',
  uses: [...ENGINE, ...FILE, ...COMMON],
  builder: (y) =>
    y
      .positional('dir', { type: 'string', demandOption: true, describe: 'the folder the CSV files land in' })
      .option('once', {
        type: 'boolean',
        default: false,
        describe: 'process what is there now, then exit with the worst exit code (for cron)',
      })
      .option('settle', {
        type: 'string',
        default: '5s',
        describe: 'a file is taken once its size has not changed for this long',
      })
      .option('job', { type: 'string', hidden: true })
      .option('out', { type: 'string', hidden: true }),
  run: (a, o, cli) => watchCommand(a, o, cli.io, cli.stopSignal()),
};

/**
 * Runs the watched folder (SPEC §10) until stopped, or once with `--once`.
 * @returns the worst exit code of the files processed (SPEC §2 codes)
 * @throws BatchError USAGE for `--job`/`--out` on the command line, a bad `--settle`, no key
 */
export async function watchCommand(
  args: WatchArgs,
  options: ResolvedOptions,
  io: Io,
  signal: AbortSignal,
): Promise<number> {
  const { dir } = args;
  // one name or one results path for every file would mix jobs up
  if (args.job !== undefined)
    throw new BatchError('USAGE', '--job cannot be used with watch: each file gets its own job name');
  if (args.out !== undefined)
    throw new BatchError(
      'USAGE',
      "--out cannot be used with watch: each file's results go beside it in done/",
    );
  const settleMs = ownDuration('settle', args.settle);
  // the folder is what the clerk gave: a wrong one is said before a missing key
  await checkFolder(resolve(dir));
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
  const { quiet, json } = options;
  if (!quiet)
    io.err(
      `watching ${dir} for *.csv files${args.once ? ' (once)' : ''}; a file is taken once it has not changed for ${settleMs < 1000 ? `${settleMs} ms` : humanMs(settleMs)}`,
    );
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
          { baseUrl: options.baseUrl, quiet: quiet || json },
          {
            intervalMs: ctx.limiter.interval,
            pollAfterMs: options.pollAfterMs,
            limitPerMin: limitPerMinute(options),
          },
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
    if (json)
      io.out(
        JSON.stringify({ exit_code: r.code, files: r.files.map((f) => fileJson(dir, f, options.baseUrl)) }),
      );
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
  const unsettled = o.result?.repeats.unsettled ?? 0;
  const what = c
    ? ` — completed ${c.completed}, failed ${c.failed}, unknown ${c.unknown}, invalid ${c.invalid}, processing ${c.processing}, pending ${c.pending}` +
      (c.skipped > 0 ? `, skipped ${c.skipped}` : '') +
      // SPEC §5a: rows another job was paying; nothing re-reads them once the file is filed
      (unsettled > 0
        ? ` (${unsettled} not known to be paid: \`recharge-batch resume ${o.result!.job}\` once the other job has finished)`
        : '')
    : '';
  const where = o.movedTo
    ? `moved to ${relative(dir, o.paths[0]!)}`
    : 'stays, to be resumed on the next pass';
  return `${name}: exit ${o.code}, ${where}${what}`;
}

function fileJson(dir: string, o: FileOutcome, baseUrl: string) {
  return {
    file: o.file,
    exit_code: o.code,
    moved_to: o.movedTo,
    paths: o.paths,
    ...(o.result ? { job: jsonSummary(o.result, o.code, baseUrl) } : {}),
    ...(o.error ? { error: o.error } : {}),
  };
}
