/**
 * The watched folder (SPEC §10 `watch <dir>`): every `*.csv` that lands in the folder becomes
 * a job once its size and modification time have not changed for `settleMs`, one job at a
 * time, oldest first. When the job ends:
 *   exit 0 or 1 → the input moves to `<dir>/done/`, its results, failed and unknown CSVs beside it
 *   exit 2      → the input moves to `<dir>/rejected/` with `<name>.error.txt` holding the one line
 *   exit 3 or 4 → the input stays; it is resumed on the next pass (with `once`, the next run)
 * A job locked by another process (JOB_LOCKED) is not the file's fault: it stays, counted as 4.
 * The tool's own outputs (`*.results.csv`, `*.failed.csv`, `*.unknown.csv`), hidden files, Excel's
 * lock files (`~$name.csv`) and anything but a regular file are never picked up.
 *
 * Time comes from the injected clock (settling, rescans, retries), so tests move it.
 */
import { constants, promises as fsp } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { systemClock } from './clock.js';
import { BatchError, isBatchError } from './errors.js';
import { JobEvents } from './job/events.js';
import { runJob, type EngineOptions, type JobResult, type RunJobOptions } from './run.js';
// the one table of exit codes (SPEC §2); it has no side effects and prints nothing
import { EXIT, exitCodeFor, exitCodeForResult } from './exit.js';
import { moveTogether, refile } from './watch-filing.js';

export interface WatchOptions extends Omit<EngineOptions, 'out' | 'events'> {
  dir: string;
  /** process what is there (waiting for it to settle), then return; default false */
  once?: boolean;
  /** ms a file's size and mtime must stay unchanged before it is taken; default 5000 (SPEC §10) */
  settleMs?: number;
  /** ms between looks at the folder; default min(1000, settleMs), at least 50 */
  scanEveryMs?: number;
  /** ms before a file whose job stopped (exit 3/4) is tried again while watching; default 5 min */
  retryAfterMs?: number;
  /** runJob options for every file (allowDuplicates, map, maxTotal, operators) */
  jobOptions?: Pick<RunJobOptions, 'allowDuplicates' | 'map' | 'maxTotal' | 'operators'>;
  /** called with each job's events before it starts: progress, audit log */
  onJob?(file: string, events: JobEvents): void;
  /** called when a file's job has ended and the file has been moved (or left) */
  onFile?(outcome: FileOutcome): void;
  /** the job runner; default runJob (tests and wrapping services pass their own) */
  runJob?: (opts: RunJobOptions) => Promise<JobResult>;
}

export interface FileOutcome {
  /** the input's path when it was picked up */
  file: string;
  /** the exit code `run` would have given it */
  code: number;
  /** where it went: `done`, `rejected`, or null when it stays to be resumed */
  movedTo: 'done' | 'rejected' | null;
  /** every file moved, at its new path (the input first) */
  paths: string[];
  result?: JobResult;
  /** the one line of a job that ended with an error */
  error?: string;
}

export interface WatchResult {
  /** `once`: the worst exit code of the pass; watching: 4 if a signal interrupted a job, else 0 */
  code: number;
  files: FileOutcome[];
}

const OUTPUT_SUFFIX = /\.(results|failed|unknown)\.csv$/i;

/**
 * A file worth looking at: `*.csv`, not hidden, not an office suite's lock file (`~$june.csv`,
 * written beside a sheet open in Excel on a shared folder: a few bytes of owner name, never the
 * sheet), not one of the tool's own outputs.
 */
export function isCandidate(name: string): boolean {
  return /\.csv$/i.test(name) && !name.startsWith('.') && !name.startsWith('~$') && !OUTPUT_SUFFIX.test(name);
}

interface Seen {
  size: number;
  mtimeMs: number;
  /** clock time since when size and mtime have not changed */
  since: number;
}

/**
 * Watches `dir` until `signal` aborts (or, with `once`, until every file present has been
 * handled). @throws BatchError FILE_NOT_FOUND / FILE_UNREADABLE when `dir` is not a readable folder
 */
export async function watchFolder(opts: WatchOptions): Promise<WatchResult> {
  const dir = resolve(opts.dir);
  const clock = opts.clock ?? systemClock;
  const settle = opts.settleMs ?? 5000;
  const scanEvery = Math.max(50, opts.scanEveryMs ?? Math.min(1000, settle));
  const retryAfter = opts.retryAfterMs ?? 5 * 60_000;
  const run = opts.runJob ?? runJob;
  const seen = new Map<string, Seen>();
  /** files whose job stopped: not before this clock time (Infinity: not in this pass) */
  const notBefore = new Map<string, number>();
  const files: FileOutcome[] = [];
  let worst: number = EXIT.OK;
  let interrupted = false;
  await checkFolder(dir);

  while (!opts.signal?.aborted) {
    const now = clock.now();
    const present = await listCandidates(dir);
    let ready: string | null = null;
    let waiting = false;
    for (const [name, st] of present) {
      const prev = seen.get(name);
      if (!prev || prev.size !== st.size || prev.mtimeMs !== st.mtimeMs)
        seen.set(name, { size: st.size, mtimeMs: st.mtimeMs, since: now });
      if ((notBefore.get(name) ?? -Infinity) > now) continue;
      if (now - seen.get(name)!.since >= settle) {
        ready ??= name;
      } else waiting = true;
    }
    for (const name of seen.keys()) if (!present.has(name)) seen.delete(name);
    if (ready) {
      const outcome = await handle(join(dir, ready), opts, run);
      files.push(outcome);
      worst = Math.max(worst, outcome.code);
      if (outcome.result?.stopped?.code === 'INTERRUPTED') interrupted = true;
      if (!outcome.movedTo) notBefore.set(ready, opts.once ? Infinity : clock.now() + retryAfter);
      seen.delete(ready);
      opts.onFile?.(outcome);
      continue;
    }
    if (opts.once && !waiting) break;
    await clock.sleep(scanEvery, opts.signal).catch(() => undefined);
  }
  if (opts.once) return { code: interrupted ? Math.max(worst, EXIT.STOPPED) : worst, files };
  return { code: interrupted ? EXIT.STOPPED : EXIT.OK, files };
}

/**
 * The folder `watch` takes: there, a folder, and writable (finished files are moved out of it).
 * @throws BatchError FILE_NOT_FOUND, FILE_UNREADABLE or USAGE (exit 2)
 */
export async function checkFolder(dir: string): Promise<void> {
  let st;
  try {
    st = await fsp.stat(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new BatchError('FILE_NOT_FOUND', `${dir}: no such folder`, { path: dir }, { cause: err });
    throw new BatchError(
      'FILE_UNREADABLE',
      `${dir}: cannot read (${code ?? String(err)})`,
      {
        path: dir,
      },
      { cause: err },
    );
  }
  if (!st.isDirectory())
    throw new BatchError('USAGE', `${dir} is not a folder: watch takes the folder the CSV files land in`, {
      path: dir,
    });
  // finished files are moved out of it: find out now, not after the first batch has been paid
  await fsp.access(dir, constants.W_OK | constants.X_OK).catch((err: unknown) => {
    throw new BatchError(
      'USAGE',
      `${dir} is not writable: watch moves each file to done/ or rejected/ when its job ends; nothing was sent`,
      { path: dir },
      { cause: err },
    );
  });
}

/** Candidate files by name with their size and mtime, oldest first. */
async function listCandidates(dir: string): Promise<Map<string, { size: number; mtimeMs: number }>> {
  const names = (await fsp.readdir(dir)).filter(isCandidate);
  const stats = await Promise.all(
    names.map(async (name) => {
      const st = await fsp.stat(join(dir, name)).catch(() => null); // gone since readdir
      return st?.isFile() ? ([name, { size: st.size, mtimeMs: st.mtimeMs }] as const) : null;
    }),
  );
  const found = stats.filter((x): x is NonNullable<typeof x> => x !== null);
  found.sort((a, b) => a[1].mtimeMs - b[1].mtimeMs || a[0].localeCompare(b[0]));
  return new Map(found);
}

async function handle(
  file: string,
  opts: WatchOptions,
  run: (o: RunJobOptions) => Promise<JobResult>,
): Promise<FileOutcome> {
  const events = new JobEvents();
  opts.onJob?.(file, events);
  // the engine's options without the watcher's own (runJob must not see `once`, `dir` …)
  const {
    dir: _d,
    once: _o,
    settleMs: _s,
    scanEveryMs: _e,
    retryAfterMs: _r,
    jobOptions,
    onJob: _j,
    onFile: _f,
    runJob: _rj,
    ...engineOnly
  } = opts;
  const engine: EngineOptions = { ...engineOnly, events };
  let result: JobResult | undefined;
  let code: number;
  let error: string | undefined;
  let errorCode: string | undefined;
  try {
    result = await run({ ...engine, ...jobOptions, csv: file });
    code = exitCodeForResult(result);
  } catch (err) {
    errorCode = isBatchError(err) ? err.code : 'INTERNAL';
    code = isBatchError(err) ? exitCodeFor(err.code) : EXIT.STOPPED;
    error = (err as Error)?.message ?? String(err);
  }
  if (errorCode === 'JOB_LOCKED') return { file, code: EXIT.STOPPED, movedTo: null, paths: [], error };
  if (code === EXIT.OK || code === EXIT.SOME_FAILED) {
    const base = basename(file, extname(file));
    const outputs = [
      result?.results,
      result?.failed,
      join(resolve(file, '..'), `${base}.unknown.csv`),
    ].filter((p): p is string => !!p);
    const filed = await moveTogether(file, outputs, 'done');
    const refiled = result && (await refile(engine.stateDir, result, filed));
    return { file, code, movedTo: 'done', paths: filed.paths, ...(refiled ? { result: refiled } : {}) };
  }
  if (code === EXIT.USAGE) {
    const line = (error ?? 'refused').split('\n')[0]!;
    const { paths } = await moveTogether(file, [], 'rejected', line);
    return { file, code, movedTo: 'rejected', paths, ...(error ? { error: line } : {}) };
  }
  return { file, code, movedTo: null, paths: [], ...(result ? { result } : {}), ...(error ? { error } : {}) };
}
