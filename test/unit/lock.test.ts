import { describe, expect, it, vi } from 'vitest';
import { spawn } from 'node:child_process';
import {
  mkdtempSync,
  readFileSync,
  readdirSync,
  writeFileSync,
  existsSync,
  promises as fsp,
  rmSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLock, lockHolder } from '../../src/job/lock.js';

const dir = () => mkdtempSync(join(tmpdir(), 'rb-lock-'));

describe('job lock', () => {
  it('never takes over a generation that was released and taken again while it was judged stale', async () => {
    // B held lock.2, released it (removing the file) and exited; meanwhile F saw lock.1 dead and
    // took lock.2 afresh. A process that read B's lock.2 before the release judges it stale
    // (B is gone): creating lock.3 then would make two holders. It must look again instead.
    const d = dir();
    const dead = async () => {
      const c = spawn(process.execPath, ['-e', '0']);
      await new Promise((r) => c.on('exit', r));
      return c.pid!;
    };
    const [a, b] = [await dead(), await dead()];
    const f = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      writeFileSync(join(d, 'lock.1'), JSON.stringify({ pid: a, host: hostname(), since: 'x' }));
      writeFileSync(join(d, 'lock.2'), JSON.stringify({ pid: b, host: hostname(), since: 'x' }));
      const link = fsp.link.bind(fsp);
      const spy = vi.spyOn(fsp, 'link').mockImplementationOnce(async (from, to) => {
        // between our judgement of B's lock.2 and our link of lock.3: B's release, F's takeover
        rmSync(join(d, 'lock.2'));
        writeFileSync(join(d, 'lock.2'), JSON.stringify({ pid: f.pid, host: hostname(), since: 'y' }));
        return link(from, to);
      });
      await expect(acquireLock(d, 'payroll')).rejects.toMatchObject({
        code: 'JOB_LOCKED',
        context: { pid: f.pid },
      });
      spy.mockRestore();
      expect(existsSync(join(d, 'lock.3'))).toBe(false);
      expect(await lockHolder(d)).toBe(f.pid);
    } finally {
      f.kill('SIGKILL');
    }
  });

  it('is exclusive while the holder lives, and names its pid', async () => {
    const d = dir();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      writeFileSync(join(d, 'lock.3'), JSON.stringify({ pid: child.pid, host: hostname(), since: 'x' }));
      await expect(acquireLock(d, 'payroll')).rejects.toMatchObject({
        code: 'JOB_LOCKED',
        context: { pid: child.pid },
      });
      // the single lock file of earlier versions is honoured too
      const legacy = dir();
      writeFileSync(join(legacy, 'lock'), JSON.stringify({ pid: child.pid, host: hostname(), since: 'x' }));
      await expect(acquireLock(legacy, 'payroll')).rejects.toMatchObject({
        code: 'JOB_LOCKED',
        context: { pid: child.pid },
      });
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('takes over silently a lock whose process is gone (kill -9, reboot)', async () => {
    const d = dir();
    const child = spawn(process.execPath, ['-e', '0']);
    const pid = child.pid!;
    await new Promise((r) => child.on('exit', r));
    writeFileSync(join(d, 'lock.1'), JSON.stringify({ pid, host: hostname(), since: 'x' }));
    writeFileSync(join(d, `lock.tmp-${pid}-abc`), 'killed while taking the lock');
    const lock = await acquireLock(d, 'payroll');
    // the stale file is never removed by a takeover: the next generation is created beside it
    expect(JSON.parse(readFileSync(join(d, 'lock.2'), 'utf8')).pid).toBe(process.pid);
    expect(await lockHolder(d)).toBe(process.pid);
    await lock.release();
    expect(existsSync(join(d, 'lock.2'))).toBe(false);
    expect(await lockHolder(d)).toBeNull();
    expect(readdirSync(d).sort()).toEqual(['lock.1']); // no temp file left behind
  });

  it('refuses a second acquisition, even by the same process, until released', async () => {
    const d = dir();
    const lock = await acquireLock(d, 'payroll');
    // same pid: a second handle would let two runners share the journal
    await expect(acquireLock(d, 'payroll')).rejects.toMatchObject({ code: 'JOB_LOCKED' });
    await lock.release();
    const again = await acquireLock(d, 'payroll');
    await again.release();
  });

  it('takes over a lock whose pid now belongs to another process (pid reuse after a reboot)', async () => {
    const d = dir();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      writeFileSync(
        join(d, 'lock.1'),
        JSON.stringify({ pid: child.pid, host: hostname(), since: 'x', start: '1' }),
      );
      const lock = await acquireLock(d, 'payroll');
      expect(JSON.parse(readFileSync(join(d, 'lock.2'), 'utf8')).pid).toBe(process.pid);
      await lock.release();
      // our own pid left by an earlier incarnation of this pid (e.g. pid 1 in a container)
      writeFileSync(join(d, 'lock.2'), JSON.stringify({ pid: process.pid, host: hostname(), since: 'x' }));
      const mine = await acquireLock(d, 'payroll');
      await mine.release();
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('lockHolder', () => {
  it('names a live holder, and nobody for a dead or reused pid', async () => {
    const d = dir();
    expect(await lockHolder(d)).toBeNull();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      writeFileSync(join(d, 'lock.1'), JSON.stringify({ pid: child.pid, host: hostname(), since: 'x' }));
      expect(await lockHolder(d)).toBe(child.pid);
      writeFileSync(
        join(d, 'lock.1'),
        JSON.stringify({ pid: child.pid, host: hostname(), since: 'x', start: '1' }),
      );
      expect(await lockHolder(d)).toBeNull();
    } finally {
      child.kill('SIGKILL');
    }
    const lock = await acquireLock(d, 'payroll');
    expect(await lockHolder(d)).toBe(process.pid);
    await lock.release();
  });
});
