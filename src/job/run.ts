/**
 * The job entry points (SPEC §8): runJob (validate, plan, run or resume), resumeJob and
 * retryJob. Each takes the job's lock for its whole life. They take the results writer as
 * `writeResults`; the library and the CLI call them through `src/run.ts`, which passes
 * report/results.ts's (docs/design.md, "Import direction").
 */
import { promises as fsp } from 'node:fs';
import { resolve } from 'node:path';
import type { Operator } from '../api/types.js';
import { systemClock } from '../clock.js';
import { BatchError, localIoError } from '../errors.js';
import type { ColumnMap } from '../validate/index.js';
import { assertRegularFile } from '../csv/encoding.js';
import { acquireLock, type JobLock } from './lock.js';
import {
  defaultJobName,
  hashFile,
  jobPaths,
  listJobs,
  openJob,
  readMeta,
  snapshot,
  writePlan,
  type JobMeta,
} from './job.js';
import { applyRecord, type RowState } from './rows.js';
import { unsettledSkips } from './recheck.js';
import { count } from '../util/words.js';
import { plan } from './plan.js';
import { drive, type EngineOptions, type JobResult } from './runner.js';
import { jobOutputs } from './outputs.js';
import { refuseInputAsOutput } from '../util/same-file.js';

export type { EngineOptions, JobResult } from './runner.js';

export interface RunJobOptions extends EngineOptions {
  csv: string;
  /** explicit job name: the way to pay the same file again */
  job?: string;
  allowDuplicates?: boolean;
  map?: ColumnMap;
  /** refuse if valid rows add up to more BDT than this */
  maxTotal?: number;
  /** operator list; fetched from the API when absent */
  operators?: Operator[];
}

/**
 * `run <csv>`: a new job for this file, or the resumption of its unfinished one. A file whose
 * job has finished is refused (JOB_FINISHED) unless a new `job` name is given.
 * @throws BatchError JOB_FINISHED, JOB_MISMATCH (another file or account), JOB_LOCKED, USAGE (an
 *   output naming the input), the planning errors of plan.ts; stops of the run itself are in
 *   the result's `stopped`, not thrown
 */
export async function runJob(opts: RunJobOptions): Promise<JobResult> {
  const csv = resolve(opts.csv);
  await assertRegularFile(csv); // a FIFO or /dev/zero would hang or spin in hashFile (SPEC §3a)
  const { hash, size } = await hashFile(csv);
  const account = opts.client.account;
  let name = opts.job;
  if (!name) {
    // another account's job of this file (a sandbox rehearsal) is neither resumed nor refused
    const same = (await listJobs(opts.stateDir)).filter(
      (m) => m.input.hash === hash && sameAccount(m, account),
    );
    // one such job (the rule): it is read once, under its lock, which refuses it if finished
    const states =
      same.length === 1
        ? []
        : await Promise.all(same.map(async (m) => ({ m, s: await snapshot(opts.stateDir, m.job) })));
    const unfinished = same.length === 1 ? { m: same[0]! } : states.find((x) => !x.s.finished);
    const finished = states.find((x) => x.s.finished);
    if (unfinished) name = unfinished.m.job;
    else if (finished) throw finishedError(finished.m, finished.s.rows);
    else name = await freeJobName(opts.stateDir, defaultJobName(csv, hash), account);
  }
  const paths = jobPaths(opts.stateDir, name);
  const existing = await readMeta(paths);
  if (existing) checkAccount(existing, account);
  if (existing && existing.input.hash !== hash) {
    throw new BatchError(
      'JOB_MISMATCH',
      `job ${name} belongs to another file (${existing.input.path}); pick another --job name`,
      { job: name },
    );
  }
  await refuseInputAsOutput(csv, jobOutputs(existing ?? { input: { path: csv } }, opts.out));
  await fsp.mkdir(paths.dir, { recursive: true });
  return holdingLock(paths.dir, name, async (lock) => {
    const meta = await readMeta(paths);
    if (meta) {
      checkAccount(meta, account);
      const job = await openJob(opts.stateDir, name, (opts.clock ?? systemClock).now);
      if (job.finished) {
        await job.journal.close();
        throw finishedError(meta, job.rows);
      }
      try {
        return await drive(job, opts, true);
      } finally {
        await job.journal.close();
      }
    }
    const planned = async () => {
      const planning = await plan(opts, csv, name, hash, size);
      await writePlan(paths, planning.rows, planning.finish);
    };
    await planned().catch(async (err: unknown) => {
      // nothing was planned: leave no half-made job behind
      await lock.release();
      await fsp.rm(paths.dir, { recursive: true, force: true });
      throw err;
    });
    const job = await openJob(opts.stateDir, name, (opts.clock ?? systemClock).now);
    try {
      return await drive(job, opts, false);
    } finally {
      await job.journal.close();
    }
  });
}

/**
 * `resume <job>`: submit its pending rows, poll its processing rows.
 * @throws BatchError JOB_NOT_FOUND, JOB_MISMATCH (another account, or the input changed), JOB_LOCKED, USAGE
 */
export async function resumeJob(opts: EngineOptions & { job: string }): Promise<JobResult> {
  return withJob(opts, async () => undefined);
}

/**
 * `retry <job>`: failed rows become pending again as a new attempt with new references;
 * with `includeUnknown`, unknown rows too, with their original reference (the API may have
 * carried them out: only safe if it rejects or replays a reused reference).
 * @throws BatchError as {@link resumeJob}
 */
export async function retryJob(
  opts: EngineOptions & { job: string; includeUnknown?: boolean },
): Promise<JobResult> {
  return withJob(opts, async (job) => {
    const failed: number[] = [];
    const unknown: number[] = [];
    let att = 1;
    for (const r of job.rows) {
      if (!r) continue;
      att = Math.max(att, r.att);
      if (r.status === 'failed') failed.push(r.row);
      if (r.status === 'unknown' && opts.includeUnknown) unknown.push(r.row);
    }
    if (failed.length + unknown.length === 0) return;
    const rec = { t: 'retry' as const, att: att + 1, failed, unknown, at: (opts.clock ?? systemClock).now() };
    await job.journal.append(rec);
    applyRecord(job.meta.job, job.rows, rec);
  });
}

async function withJob(
  opts: EngineOptions & { job: string },
  prepare: (job: Awaited<ReturnType<typeof openJob>>) => Promise<void>,
): Promise<JobResult> {
  const paths = jobPaths(opts.stateDir, opts.job);
  const meta = await readMeta(paths);
  if (!meta)
    throw new BatchError('JOB_NOT_FOUND', `no job "${opts.job}" in ${resolve(opts.stateDir)}`, {
      job: opts.job,
    });
  checkAccount(meta, opts.client.account);
  await refuseInputAsOutput(meta.input.path, jobOutputs(meta, opts.out));
  return holdingLock(paths.dir, opts.job, async () => {
    // a regular file first: a FIFO or device in its place would hang or spin in hashFile
    const { hash } = await assertRegularFile(meta.input.path)
      .then(() => hashFile(meta.input.path))
      .catch(() => ({ hash: '' }));
    if (hash !== meta.input.hash) {
      throw new BatchError(
        'JOB_MISMATCH',
        `the input ${meta.input.path} of job ${opts.job} is missing or has changed since the job was created: put the file back there as it was, then run the same command again (\`recharge-batch report ${opts.job}\` writes the results from the job's record meanwhile)`,
        {
          job: opts.job,
        },
      );
    }
    const job = await openJob(opts.stateDir, opts.job, (opts.clock ?? systemClock).now);
    try {
      await prepare(job);
      return await drive(job, opts, true);
    } finally {
      await job.journal.close();
    }
  });
}

/**
 * Runs `work` holding the job's lock (SPEC §5 "one process per job"), then releases it. A
 * release that fails on a local disk error once the job was driven (rows may have been sent) is
 * a local I/O failure after sending — exit 4 (README "Exit codes"), never exit 2's "nothing was
 * sent", which a cron script would read as safe to fix and run again from scratch: it becomes
 * the result's stop (LOCAL_IO_STOPPED), unless the job already stopped for a reason of its own.
 * When `work` throws, its error is the one reported; a failed release then is left aside (the
 * lock file left behind is a dead holder's, taken over silently by the next run).
 */
async function holdingLock(
  dir: string,
  job: string,
  work: (lock: JobLock) => Promise<JobResult>,
): Promise<JobResult> {
  const lock = await acquireLock(dir, job);
  let result: JobResult;
  try {
    result = await work(lock);
  } catch (err) {
    await lock.release().catch(() => undefined);
    throw err;
  }
  try {
    await lock.release();
  } catch (err) {
    const stop = localIoError(err, true);
    if (!stop) throw err;
    return result.stopped ? result : { ...result, stopped: { code: stop.code, message: stop.message } };
  }
  return result;
}

/** `rows`: a job whose rows were skipped for payments then still open is told how to settle them. */
function finishedError(meta: JobMeta, rows: readonly (RowState | undefined)[]): BatchError {
  let open = 0;
  for (const _ of unsettledSkips(rows)) open++;
  const recheck = open
    ? `; its ${count(open, 'row')} skipped as maybe paid ${open === 1 ? 'is' : 'are'} looked up again by 'resume ${meta.job}'`
    : '';
  return new BatchError(
    'JOB_FINISHED',
    `this file was already run as job ${meta.job}, which has finished${recheck}; see 'status ${meta.job}' (to pay the same file again on purpose, give a new --job name and --allow-repeat)`,
    { job: meta.job },
  );
}

/** Jobs made before accounts were recorded carry none: any account may continue them. */
function sameAccount(meta: JobMeta, account: string): boolean {
  return meta.account === undefined || meta.account === account;
}

/**
 * `resume`/`retry`/`run` of a job under another account (another base URL or key) would send
 * its rows, or poll its transactions, somewhere they do not belong (SPEC §5a): exit 2.
 * @throws BatchError JOB_MISMATCH naming the base URL the job was made against
 */
export function checkAccount(meta: JobMeta, account: string): void {
  if (sameAccount(meta, account)) return;
  throw new BatchError(
    'JOB_MISMATCH',
    `job ${meta.job} belongs to another account (made against ${meta.baseUrl ?? 'another base URL'} with another base URL or API key); run it with that base URL and key, or give this run a new --job name`,
    { job: meta.job },
  );
}

/**
 * The default job name, or — when another account's job already has it (a rehearsal against
 * a sandbox, then the real run) — the name with `-<first 8 hex of the account>` appended.
 */
async function freeJobName(stateDir: string, name: string, account: string): Promise<string> {
  const taken = await readMeta(jobPaths(stateDir, name));
  return taken && !sameAccount(taken, account) ? `${name}-${account.slice(0, 8)}` : name;
}
