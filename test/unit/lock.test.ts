import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLock, lockHolder } from '../../src/job/lock.js';

const dir = () => mkdtempSync(join(tmpdir(), 'rb-lock-'));

describe('job lock', () => {
  it('is exclusive while the holder lives, and names its pid', async () => {
    const d = dir();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      writeFileSync(join(d, 'lock.3'), JSON.stringify({ pid: child.pid, host: hostname(), since: 'x' }));
      await expect(acquireLock(d, 'payroll')).rejects.toMatchObject({ code: 'JOB_LOCKED', context: { pid: child.pid } });
      // the single lock file of earlier versions is honoured too
      const legacy = dir();
      writeFileSync(join(legacy, 'lock'), JSON.stringify({ pid: child.pid, host: hostname(), since: 'x' }));
      await expect(acquireLock(legacy, 'payroll')).rejects.toMatchObject({ code: 'JOB_LOCKED', context: { pid: child.pid } });
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
      writeFileSync(join(d, 'lock.1'), JSON.stringify({ pid: child.pid, host: hostname(), since: 'x', start: '1' }));
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
      writeFileSync(join(d, 'lock.1'), JSON.stringify({ pid: child.pid, host: hostname(), since: 'x', start: '1' }));
      expect(await lockHolder(d)).toBeNull();
    } finally {
      child.kill('SIGKILL');
    }
    const lock = await acquireLock(d, 'payroll');
    expect(await lockHolder(d)).toBe(process.pid);
    await lock.release();
  });
});
