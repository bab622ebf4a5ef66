/**
 * The watched folder with a FakeClock and a stand-in job runner: when a file counts as settled,
 * where each outcome puts it, what is never picked up, and how a signal ends the watch.
 */
import { describe, expect, it } from 'vitest';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { FakeClock } from '../../src/clock.js';
import { BatchError } from '../../src/errors.js';
import { ROW_STATUSES, type RowStatus } from '../../src/job/rows.js';
import type { JobResult, RunJobOptions } from '../../src/run.js';
import { isCandidate, watchFolder } from '../../src/watch.js';

async function until(cond: () => boolean) {
  // a cap, not a timing: the condition is what the test waits for
  for (let i = 0; i < 20_000 && !cond(); i++) await new Promise((r) => setTimeout(r, 1));
}

function counts(patch: Partial<Record<RowStatus, number>>): Record<RowStatus, number> {
  return { ...(Object.fromEntries(ROW_STATUSES.map((s) => [s, 0])) as Record<RowStatus, number>), ...patch };
}

/** A stand-in for runJob: writes the results CSVs beside the input like the engine does. */
function fakeRun(
  outcome: (csv: string, opts: RunJobOptions) => Promise<Partial<JobResult>> | Partial<JobResult>,
) {
  const calls: string[] = [];
  const run = async (opts: RunJobOptions): Promise<JobResult> => {
    calls.push(basename(opts.csv));
    const base = basename(opts.csv, '.csv');
    const results = join(dirname(opts.csv), `${base}.results.csv`);
    const failed = join(dirname(opts.csv), `${base}.failed.csv`);
    const o = await outcome(opts.csv, opts);
    writeFileSync(results, 'row,status\n');
    writeFileSync(failed, 'error_code\n');
    const repeats = { earlierJobs: [], unsettled: 0, warnings: [] };
    return {
      job: base,
      dir: '/state/' + base,
      counts: counts({ completed: 1 }),
      amounts: counts({}),
      results,
      failed,
      unknown: null,
      inputChanged: null,
      stopped: null,
      resumed: false,
      repeats,
      ...o,
    };
  };
  return { run, calls };
}

function folder(): string {
  return mkdtempSync(join(tmpdir(), 'rb-watch-'));
}

describe('watchFolder', () => {
  it('takes a file only once its size and time have not changed for --settle, by the injected clock', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'a.csv'), 'number,amount\n');
    const clock = new FakeClock(0);
    const { run, calls } = fakeRun(() => ({}));
    const ac = new AbortController();
    const watching = watchFolder({
      dir,
      settleMs: 5000,
      scanEveryMs: 1000,
      clock,
      signal: ac.signal,
      runJob: run,
      stateDir: '/unused',
      client: null as never,
    });
    const tick = async (ms: number) => {
      await clock.advance(ms);
      await until(() => clock.pending > 0);
    };
    await until(() => clock.pending > 0); // first look at t=0
    await tick(1000);
    await tick(1000);
    await tick(1000);
    appendFileSync(join(dir, 'a.csv'), '01712345678,100\n'); // still being written at t=3s
    await tick(1000); // seen changed at t=4s
    await tick(1000);
    await tick(1000);
    await tick(1000);
    await tick(1000); // t=8s: unchanged for 4s only
    expect(calls).toEqual([]);
    await tick(1000); // t=9s: unchanged for 5s
    expect(calls).toEqual(['a.csv']);
    expect(existsSync(join(dir, 'done', 'a.csv'))).toBe(true);
    ac.abort();
    await expect(watching).resolves.toMatchObject({ code: 0 });
  });

  it('--once: done/ with results beside, rejected/ with the one line, exit 4 and a locked job stay; worst code; outputs and hidden files ignored', async () => {
    const dir = folder();
    for (const name of [
      'good.csv',
      'broken.csv',
      'short.csv',
      'locked.csv',
      'old.results.csv',
      'old.failed.csv',
      '.~lock.good.csv',
      'notes.txt',
    ]) {
      writeFileSync(join(dir, name), `${name}\n`);
    }
    mkdirSync(join(dir, 'folder.csv'));
    mkdirSync(join(dir, 'done'));
    writeFileSync(join(dir, 'done', 'good.csv'), 'an earlier good.csv\n');
    const { run, calls } = fakeRun((csv) => {
      const name = basename(csv);
      if (name === 'broken.csv')
        throw new BatchError(
          'CSV_PARSE',
          `${csv}: line 3: a quote opened here is never closed; nothing was sent`,
        );
      if (name === 'locked.csv')
        throw new BatchError('JOB_LOCKED', 'job locked-1 is being run by process 4242');
      if (name === 'short.csv')
        return {
          stopped: { code: 'INSUFFICIENT_BALANCE', message: 'balance short' },
          counts: counts({ pending: 3 }),
        };
      return { counts: counts({ completed: 2, failed: 1 }) };
    });
    const seen: string[] = [];
    const r = await watchFolder({
      dir,
      once: true,
      settleMs: 0,
      clock: new FakeClock(0),
      runJob: run,
      onFile: (o) => seen.push(`${basename(o.file)}:${o.code}:${o.movedTo}`),
      stateDir: '/unused',
      client: null as never,
    });
    expect(calls.sort()).toEqual(['broken.csv', 'good.csv', 'locked.csv', 'short.csv']);
    expect(seen.sort()).toEqual([
      'broken.csv:2:rejected',
      'good.csv:1:done',
      'locked.csv:4:null',
      'short.csv:4:null',
    ]);
    expect(r.code).toBe(4);
    // done: a free stem, results and failed CSVs beside it; the earlier good.csv untouched
    expect(readdirSync(join(dir, 'done')).sort()).toEqual([
      'good-2.csv',
      'good-2.failed.csv',
      'good-2.results.csv',
      'good.csv',
    ]);
    expect(readFileSync(join(dir, 'done', 'good.csv'), 'utf8')).toBe('an earlier good.csv\n');
    expect(readFileSync(join(dir, 'done', 'good-2.csv'), 'utf8')).toBe('good.csv\n');
    // rejected: the input and its one line
    expect(readdirSync(join(dir, 'rejected')).sort()).toEqual(['broken.csv', 'broken.error.txt']);
    expect(readFileSync(join(dir, 'rejected', 'broken.error.txt'), 'utf8')).toMatch(
      /^.*line 3: a quote opened here is never closed; nothing was sent\n$/,
    );
    // stayed: resumed on the next run; the tool's own outputs and hidden files were never taken
    expect(existsSync(join(dir, 'short.csv'))).toBe(true);
    expect(existsSync(join(dir, 'locked.csv'))).toBe(true);
    expect(existsSync(join(dir, 'old.results.csv'))).toBe(true);
  });

  it('a signal while a job runs: the job stops resumably, the file stays, exit 4; while idle: exit 0', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'a.csv'), 'x\n');
    const ac = new AbortController();
    const { run } = fakeRun(async (_csv, opts) => {
      ac.abort();
      expect(opts.signal?.aborted).toBe(true); // the job is given the watcher's signal
      return { stopped: { code: 'INTERRUPTED', message: 'interrupted' }, counts: counts({ pending: 1 }) };
    });
    const r = await watchFolder({
      dir,
      settleMs: 0,
      clock: new FakeClock(0),
      signal: ac.signal,
      runJob: run,
      stateDir: '/unused',
      client: null as never,
    });
    expect(r.code).toBe(4);
    expect(existsSync(join(dir, 'a.csv'))).toBe(true);

    const idle = new AbortController();
    const clock = new FakeClock(0);
    const watching = watchFolder({
      dir: folder(),
      settleMs: 0,
      clock,
      signal: idle.signal,
      runJob: run,
      stateDir: '/unused',
      client: null as never,
    });
    await until(() => clock.pending > 0);
    idle.abort();
    await expect(watching).resolves.toEqual({ code: 0, files: [] });
  });

  it('a missing folder is one error', async () => {
    await expect(
      watchFolder({ dir: join(folder(), 'nope'), once: true, stateDir: '/unused', client: null as never }),
    ).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
  });

  it("picks *.csv only, never the tool's own outputs", () => {
    expect(['a.csv', 'B.CSV', 'pay roll.csv'].every(isCandidate)).toBe(true);
    expect(
      ['a.results.csv', 'a.failed.csv', 'a.unknown.csv', '.a.csv', '~$a.csv', 'a.csv.part', 'a.txt'].some(
        isCandidate,
      ),
    ).toBe(false);
  });
});
