/**
 * One process per job (SPEC §5). The lock is a file created exclusively (O_EXCL) holding the
 * owner's pid and host. A lock whose owner is gone (kill -9, reboot) is taken over silently:
 * the stale file is renamed away (atomic; only one contender can win a given file) and the
 * exclusive create is tried again.
 */
import { promises as fsp, constants, readFileSync } from 'node:fs';
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

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. */
function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Is the process that wrote this lock still running? */
function holderAlive(info: LockInfo): boolean {
  if (info.pid === process.pid) return false; // only `held` can say we hold it ourselves
  if (!alive(info.pid)) return false;
  const now = processStart(info.pid);
  return !(info.start && now && info.start !== now); // same pid, other process: the holder is gone
}

export interface JobLock {
  release(): Promise<void>;
}

export async function acquireLock(dir: string, job: string): Promise<JobLock> {
  const path = join(dir, 'lock');
  const me: LockInfo = { pid: process.pid, host: hostname(), since: new Date().toISOString(), start: processStart(process.pid) };
  if (held.has(path)) {
    throw new BatchError('JOB_LOCKED', `job ${job} is already being run by this process (pid ${process.pid})`, { job, pid: process.pid });
  }
  for (let attempt = 0; attempt < 8; attempt++) {
    try {
      const fh = await fsp.open(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
      await fh.writeFile(JSON.stringify(me));
      await fh.sync();
      await fh.close();
      held.add(path);
      return {
        async release() {
          if (!held.delete(path)) return;
          const now = await readLock(path);
          if (now && now.pid === me.pid && now.host === me.host) await fsp.rm(path, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await readLock(path);
    if (!holder && attempt < 3) {
      // a contender may have created the file and not written it yet: look again shortly
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    if (holder && holder.host === me.host && holderAlive(holder)) {
      throw new BatchError('JOB_LOCKED', `job ${job} is being run by another process (pid ${holder.pid}, since ${holder.since})`, {
        job,
        pid: holder.pid,
      });
    }
    if (holder && holder.host !== me.host) {
      throw new BatchError('JOB_LOCKED', `job ${job} is locked by pid ${holder.pid} on host ${holder.host}; remove ${path} if that process is gone`, {
        job,
        pid: holder.pid,
      });
    }
    // stale (or unreadable half-written) lock: move it aside and try again
    await fsp.rename(path, `${path}.stale-${process.pid}-${attempt}`).catch(() => undefined);
    await fsp.rm(`${path}.stale-${process.pid}-${attempt}`, { force: true });
  }
  throw new BatchError('JOB_LOCKED', `could not take the lock of job ${job}`, { job });
}

/** The pid running the job in `dir` on this host, or null when nobody holds its lock. */
export async function lockHolder(dir: string): Promise<number | null> {
  const path = join(dir, 'lock');
  const info = await readLock(path);
  if (!info || info.host !== hostname()) return null;
  if (info.pid === process.pid) return held.has(path) ? info.pid : null;
  return holderAlive(info) ? info.pid : null;
}

async function readLock(path: string): Promise<LockInfo | null> {
  try {
    const info = JSON.parse(await fsp.readFile(path, 'utf8')) as LockInfo;
    return typeof info.pid === 'number' ? info : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
