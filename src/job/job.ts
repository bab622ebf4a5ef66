/**
 * A job's identity and its state directory (SPEC §5): `<state-dir>/<job>/` holds
 * `job.json` (the input's path and hash, the options that matter), `plan.jsonl` (each row's
 * validated, priced form, written once when the job is created) and `journal.log` (every row
 * state change since). `job.json` is written last: a directory without it is a job whose
 * creation was interrupted, and is planned again.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { BatchError } from '../errors.js';
import { mask } from '../api/mask.js';
import { AtomicFile, syncDir, writeFileAtomic } from '../util/fs.js';
import { Journal, replay, type JournalRecord } from './journal.js';
import { RowTable } from './table.js';
import { applyRecord, NO_ANSWER, tally, isFinished } from './rows.js';
import type { PlannedRow, RowState, Tally } from './rows.js';
import type { JobInput } from './input.js';

export type { JobInput } from './input.js';

export interface JobMeta {
  version: 1;
  job: string;
  /** unique id of this job instance (the registry's key; absent in jobs made before it) */
  id?: string;
  /** the account the job pays from, `sha256(normalized base URL + "\n" + key)` first 16 hex (SPEC §5a) */
  account?: string;
  /** the normalized base URL the job was made against (for messages; never the key) */
  baseUrl?: string;
  /** the input file as the job was made from it (SPEC §5) */
  input: JobInput;
  /** where the results CSV goes (SPEC §4: remembered for `report`, `resume`, `retry`); absent in jobs made before it was kept */
  results?: string;
  columns: string[];
  /** column indexes of the roles: results written from the job's own record fill these (report/results.ts) */
  roles: { number: number; amount: number; operator: number | null; reference: number | null };
  options: { allowDuplicates: boolean; map?: Record<string, string> };
  /** the pace the job last ran at (absent in jobs made before it was kept): `status`'s ETA */
  pace?: JobPace;
  /** why the last run stopped before the job finished (absent: it did not, or was killed) */
  stop?: JobStop;
  rows: number;
  valid: number;
  total: number;
  createdAt: string;
}

/** ms between two requests of the rate limiter in force, and the first poll's delay */
export interface JobPace {
  intervalMs: number;
  pollAfterMs: number;
}

/** Why the last run of a job ended before the job finished (job.json `stop`); `at`: ISO 8601 UTC. */
export interface JobStop {
  code: string;
  message: string;
  at: string;
}

/**
 * Records in job.json what `status` tells of the last run (`run`, `resume`, `retry`): its pace
 * (the ETA is at the rate the job ran at, not at the plan `status` is given) and why it stopped
 * (`stop`, cleared when a run starts: a run killed with -9 leaves none rather than an earlier
 * run's). Only the fields given change; written atomically, if changed. @throws as writeFileAtomic
 */
export async function rememberRun(
  job: JobSnapshot,
  change: { pace?: JobPace; stop?: JobStop | null },
): Promise<void> {
  const { meta } = job;
  const p = meta.pace;
  const pace =
    change.pace &&
    !(p && p.intervalMs === change.pace.intervalMs && p.pollAfterMs === change.pace.pollAfterMs);
  const stop =
    change.stop !== undefined && JSON.stringify(change.stop ?? undefined) !== JSON.stringify(meta.stop);
  if (!pace && !stop) return;
  if (pace) meta.pace = change.pace;
  if (stop) {
    // the key never reaches a state file, whatever text the stop carries (SPEC §5 additions)
    if (change.stop) meta.stop = { ...change.stop, message: mask(change.stop.message) };
    else delete meta.stop;
  }
  await writeFileAtomic(job.paths.meta, JSON.stringify(meta, null, 2) + '\n');
}

export interface JobPaths {
  dir: string;
  meta: string;
  plan: string;
  journal: string;
}

export function jobPaths(stateDir: string, job: string): JobPaths {
  if (!/^[\w.@+-]{1,128}$/.test(job) || job.startsWith('.')) {
    throw new BatchError('USAGE', `invalid job name "${job}": use letters, digits and . _ - @ + (up to 128)`);
  }
  const dir = join(resolve(stateDir), job);
  return {
    dir,
    meta: join(dir, 'job.json'),
    plan: join(dir, 'plan.jsonl'),
    journal: join(dir, 'journal.log'),
  };
}

export async function hashFile(path: string): Promise<{ hash: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      h.update(chunk);
      size += chunk.length;
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new BatchError('FILE_NOT_FOUND', `${path}: no such file`, { path }, { cause: err });
    if (code === 'EISDIR')
      throw new BatchError(
        'FILE_UNREADABLE',
        `${path} is a directory, not a CSV file`,
        { path },
        { cause: err },
      );
    throw new BatchError(
      'FILE_UNREADABLE',
      `${path}: cannot read (${code ?? String(err)})`,
      { path },
      { cause: err },
    );
  }
  return { hash: h.digest('hex'), size };
}

/** `<file basename>-<first 8 hex of sha256(file bytes)>` (SPEC §2). */
export function defaultJobName(path: string, hash: string): string {
  const base =
    basename(path, extname(path))
      .replace(/[^\w.@+-]+/g, '_')
      .replace(/^\.+/, '') || 'batch';
  return `${base.slice(0, 100)}-${hash.slice(0, 8)}`;
}

export async function readMeta(paths: JobPaths): Promise<JobMeta | null> {
  try {
    return JSON.parse(await fsp.readFile(paths.meta, 'utf8')) as JobMeta;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new BatchError(
      'JOB_CORRUPT',
      `${paths.meta} cannot be read: ${(err as Error).message}`,
      {},
      { cause: err },
    );
  }
}

export async function listJobs(stateDir: string): Promise<JobMeta[]> {
  let names: string[];
  try {
    names = await fsp.readdir(resolve(stateDir));
  } catch {
    return [];
  }
  const metas: JobMeta[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.')) continue;
    const meta = await readMeta(jobPaths(stateDir, name)).catch(() => null);
    if (meta) metas.push(meta);
  }
  return metas;
}

/**
 * Writes the plan as the rows stream in (SPEC §3: planning holds no row in memory), then the
 * job's meta, which `finish` gives once every row has been seen (it may still refuse the job,
 * e.g. --max-total; nothing is then kept).
 */
export async function writePlan(
  paths: JobPaths,
  planned: AsyncIterable<PlannedRow>,
  finish: () => Promise<JobMeta>,
): Promise<JobMeta> {
  await fsp.mkdir(paths.dir, { recursive: true });
  const plan = await AtomicFile.open(paths.plan, 0o600);
  let meta: JobMeta;
  try {
    let buf = '';
    for await (const p of planned) {
      buf += JSON.stringify(p) + '\n';
      if (buf.length > 1 << 20) {
        await plan.write(buf);
        buf = '';
      }
    }
    await plan.write(buf);
    meta = await finish();
  } catch (err) {
    await plan.abort();
    throw err;
  }
  await plan.commit();
  await fsp.rm(paths.journal, { force: true });
  await syncDir(paths.dir);
  await writeFileAtomic(paths.meta, JSON.stringify(meta, null, 2) + '\n');
  return meta;
}

/** The plan's rows in their initial state, in the compact table (table.ts). */
async function readPlan(paths: JobPaths, meta: JobMeta): Promise<RowState[]> {
  const table = new RowTable(meta.job, meta.rows, paths.plan);
  let carry = Buffer.alloc(0);
  let offset = 0; // of carry's first byte in the file
  for await (const chunk of createReadStream(paths.plan, { highWaterMark: 1 << 20 })) {
    const buf = carry.length ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
    let start = 0;
    for (let nl = buf.indexOf(10); nl !== -1; nl = buf.indexOf(10, start)) {
      if (nl > start) table.add(JSON.parse(buf.toString('utf8', start, nl)) as PlannedRow, offset + start);
      start = nl + 1;
    }
    carry = Buffer.from(buf.subarray(start));
    offset += start;
  }
  if (carry.length) table.add(JSON.parse(carry.toString('utf8')) as PlannedRow, offset);
  return table.rows;
}

export interface JobSnapshot {
  meta: JobMeta;
  paths: JobPaths;
  rows: RowState[];
  tally: Tally;
  finished: boolean;
  updatedAt: number | null;
  startedAt: number | null;
}

/** Reads the job's meta and plan, and replays its journal with `replay`. */
async function loadJob<T>(
  stateDir: string,
  job: string,
  replayWith: (path: string, onRecord: (rec: JournalRecord) => void) => Promise<T>,
) {
  const paths = jobPaths(stateDir, job);
  const meta = await readMeta(paths);
  if (!meta) throw new BatchError('JOB_NOT_FOUND', `no job "${job}" in ${resolve(stateDir)}`, { job });
  const rows = await readPlan(paths, meta);
  const times = { startedAt: null as number | null, updatedAt: null as number | null };
  const replayed = await replayWith(paths.journal, (rec) => {
    applyRecord(meta.job, rows, rec);
    times.startedAt ??= rec.at;
    times.updatedAt = rec.at;
  });
  return { meta, paths, rows, ...times, replayed };
}

/** The job's state as of now, read-only (safe while another process runs it). */
export async function snapshot(stateDir: string, job: string): Promise<JobSnapshot> {
  const { replayed: _, ...s } = await loadJob(stateDir, job, replay);
  const t = tally(s.rows);
  return { ...s, tally: t, finished: isFinished(t) && !s.rows.some((r) => r?.status === 'sending') };
}

export interface OpenJob extends JobSnapshot {
  journal: Journal;
}

/**
 * Opens a job for writing (the caller holds its lock): replays the journal, drops a torn last
 * record, and turns every row that was sent but never answered into `unknown` (SPEC §5:
 * never resubmitted silently).
 */
export async function openJob(stateDir: string, job: string, now: () => number): Promise<OpenJob> {
  const { replayed: journal, ...s } = await loadJob(stateDir, job, (path, onRecord) =>
    Journal.open(path, onRecord),
  );
  const { meta, rows } = s;
  for (const r of rows) {
    if (r?.status !== 'sending') continue;
    const rec: JournalRecord = {
      t: 'unknown',
      row: r.row,
      att: r.att,
      code: NO_ANSWER,
      msg: `sent with reference ${r.ref} but the process stopped before the API answered; check it with the API; 'retry --include-unknown --reference-dedup' resends it with the same reference, only if the API refuses or replays a reused one`,
      at: now(),
    };
    await journal.append(rec);
    applyRecord(meta.job, rows, rec);
  }
  const t = tally(rows);
  return { ...s, tally: t, finished: isFinished(t), journal };
}
