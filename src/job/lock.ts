/**
 * One process per job (SPEC §5, §5a "Locks"): with any number of processes started at the same
 * instant, exactly one holds a job's lock, including when they all take over a stale one.
 *
 * The lock is a chain of generation files `lock.1`, `lock.2`, … in the job's directory. Each
 * holds its owner's pid, host and process start time, and appears whole: it is written to a
 * private temp file, fsync'd, then hard-linked into place (link(2) fails with EEXIST, like
 * O_EXCL, so two processes can never both create one generation).
 *
 * - Taking the lock: find the highest generation N. If its owner is alive, the job is locked.
 *   If nothing exists, or N's owner is gone (kill -9, a reboot, a reused pid), create N+1.
 * - Nothing but a holder's own release (or a contender stepping back from the generation it
 *   just created, below) ever removes a generation file. A takeover never renames or deletes
 *   the stale file; it only adds the next one, so it can never remove a lock another process
 *   has just taken (the race of a rename-aside takeover: two contenders both judge the same
 *   file stale, one renames it away and takes the lock, the other then renames away the fresh
 *   lock and takes it too).
 * - After creating N+1 over a stale N, the contender checks that N is still the very file it
 *   judged (inode and content). If not, it removes its N+1 and looks again.
 *
 * Why this is exclusive: a holder's content (pid, start time, since) is its own, so a file
 * with that content can only disappear, never come back. When N still has the judged identity
 * after N+1 was created, it has been in place since it was read, and its owner was already
 * dead when checked; a dead owner releases nothing, so N stays, and nobody can re-create N
 * while it exists. The one gap — an owner that releases N and exits between our reading N and
 * checking its pid, while another process re-takes N — changes N's identity, so the check
 * catches it and we step back (a refusal at worst, never two holders). So only the highest
 * generation can have a live owner, and link(2) lets only one process create it.
 * A process that crashes leaves one small file behind; the next holder's generation is one
 * higher. `lock` (one file, written by earlier versions) is honoured while its owner lives.
 */
import { promises as fsp, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { BatchError } from '../errors.js';

interface LockInfo {
  pid: number;
  host: string;
  since: string;
  /** the holder's process start time (Linux /proc), to tell a reused pid from the holder */
  start?: string | null;
}

/** Locks this process holds: a second runner in the same process must not share a job. */
const held = new Set<string>();

const GENERATION = /^lock\.(\d+)$/;
/** generations read before giving up: a chain this long means locks are being churned by a loop */
const MAX_ATTEMPTS = 50;

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. */
function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Is the process that wrote this lock still running? (Same host only; the caller checks.) */
function holderAlive(info: LockInfo): boolean {
  if (info.pid === process.pid) return false; // only `held` can say we hold it ourselves
  if (!alive(info.pid)) return false;
  const now = processStart(info.pid);
  return !(info.start && now && info.start !== now); // same pid, other process: the holder is gone
}

export interface JobLock {
  release(): Promise<void>;
}

/**
 * Takes the lock of the job whose directory is `dir` (which must exist).
 * @throws BatchError JOB_LOCKED naming the holder's pid (context `{ job, pid }`) when a live
 *   process holds it, or a process on another host (whose liveness cannot be checked).
 */
export async function acquireLock(dir: string, job: string): Promise<JobLock> {
  if (held.has(dir)) {
    throw new BatchError(
      'JOB_LOCKED',
      `job ${job} is already being run by this process (pid ${process.pid})`,
      { job, pid: process.pid },
    );
  }
  const me: LockInfo = {
    pid: process.pid,
    host: hostname(),
    since: new Date().toISOString(),
    start: processStart(process.pid),
  };
  const tmp = join(dir, `lock.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  await writeDurable(tmp, JSON.stringify(me));
  try {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const legacy = await readLock(join(dir, 'lock'));
      if (legacy) refuseIfLive(legacy, join(dir, 'lock'), job);
      const top = await highestGeneration(dir);
      /** the file judged stale, to check after the takeover that it is still that file */
      let judged: string | null = null;
      if (top > 0) {
        const path = join(dir, `lock.${top}`);
        judged = await identity(path);
        const holder = await readLock(path);
        // gone meanwhile (released): look again; unreadable (hand-made) counts as stale
        if (holder === null && !(await exists(path))) continue;
        if (holder) refuseIfLive(holder, path, job);
      }
      const path = join(dir, `lock.${top + 1}`);
      try {
        await fsp.link(tmp, path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue; // another process took it first
        throw err;
      }
      // A holder that released generation `top` (removing it) and then exited looks stale too,
      // and meanwhile another process may have seen `top - 1` dead and created `top` afresh: it
      // holds the lock. Only a file still in place since it was judged was truly left by a dead
      // process; otherwise step back and look again (a refusal at worst, never two holders).
      if (top > 0 && (await identity(join(dir, `lock.${top}`))) !== judged) {
        await fsp.rm(path, { force: true });
        continue;
      }
      held.add(dir);
      await removeDeadTemps(dir);
      return {
        async release() {
          if (!held.delete(dir)) return;
          await fsp.rm(path, { force: true });
        },
      };
    }
  } finally {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
  }
  throw new BatchError(
    'JOB_LOCKED',
    `could not take the lock of job ${job}: other processes keep taking and releasing it`,
    { job },
  );
}

function refuseIfLive(holder: LockInfo, path: string, job: string): void {
  if (holder.host !== hostname()) {
    throw new BatchError(
      'JOB_LOCKED',
      `job ${job} is locked by pid ${holder.pid} on host ${holder.host}; remove ${path} if that process is gone`,
      {
        job,
        pid: holder.pid,
      },
    );
  }
  if (holderAlive(holder)) {
    throw new BatchError(
      'JOB_LOCKED',
      `job ${job} is being run by another process (pid ${holder.pid}, since ${holder.since})`,
      { job, pid: holder.pid },
    );
  }
}

/** The pid running the job in `dir` on this host, or null when nobody holds its lock. */
export async function lockHolder(dir: string): Promise<number | null> {
  for (const path of [join(dir, 'lock'), join(dir, `lock.${await highestGeneration(dir)}`)]) {
    const info = await readLock(path);
    if (!info || info.host !== hostname()) continue;
    if (info.pid === process.pid ? held.has(dir) : holderAlive(info)) return info.pid;
  }
  return null;
}

async function highestGeneration(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  let top = 0;
  for (const name of names) {
    const m = GENERATION.exec(name);
    if (m) top = Math.max(top, Number(m[1]));
  }
  return top;
}

/** Temp files of processes killed while taking the lock; never a lock themselves, so safe to remove. */
async function removeDeadTemps(dir: string): Promise<void> {
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const pid = Number(/^lock\.tmp-(\d+)-/.exec(name)?.[1]);
    if (pid && pid !== process.pid && !alive(pid))
      await fsp.rm(join(dir, name), { force: true }).catch(() => undefined);
  }
}

async function writeDurable(path: string, data: string): Promise<void> {
  const fh = await fsp.open(path, 'wx', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function readLock(path: string): Promise<LockInfo | null> {
  try {
    const info = JSON.parse(await fsp.readFile(path, 'utf8')) as LockInfo;
    return info && typeof info.pid === 'number' ? info : null;
  } catch {
    return null;
  }
}

/**
 * What tells one lock file from another put in its place: inode and content (a freed inode
 * number is often reused at once, and a holder's content — pid, start time, since — is its own).
 * Null when it does not exist.
 */
async function identity(path: string): Promise<string | null> {
  try {
    const [st, text] = await Promise.all([fsp.stat(path), fsp.readFile(path, 'utf8')]);
    return `${st.ino}:${text}`;
  } catch {
    return null;
  }
}

async function exists(path: string): Promise<boolean> {
  return fsp.access(path).then(
    () => true,
    () => false,
  );
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
