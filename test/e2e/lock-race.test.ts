/**
 * SPEC §5a "Locks": with any number of processes started at the same instant, exactly one
 * holds a job's lock, also when they all take over a stale one at once. Real processes (the
 * built lock module), each waiting for the same wall-clock instant before it tries, round
 * after round; the assertion is a count, never a duration.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { KEY, apiEnv, fastArgs, readCsv, startCli, tempDir, writeBatch } from './helpers.js';

const LOCK_MODULE = pathToFileURL(fileURLToPath(new URL('../../dist/job/lock.js', import.meta.url))).href;
const WORKER = fileURLToPath(new URL('../support/lock-worker.mjs', import.meta.url));
const CONTENDERS = 5;
const ROUNDS = 40; // per case: 2 × 40 rounds × 5 contenders = 400 synchronized acquisitions

interface Answer {
  ok: boolean;
  code?: string;
  pid: number;
}

class Contender {
  readonly child: ChildProcess;
  readonly #lines: Interface;
  readonly #waiting: ((line: string) => void)[] = [];

  constructor() {
    this.child = spawn(process.execPath, [WORKER], {
      env: { ...process.env, LOCK_MODULE },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.#lines = createInterface({ input: this.child.stdout! });
    this.#lines.on('line', (line) => this.#waiting.shift()?.(line));
  }

  #ask(command: string): Promise<string> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      this.child.stdin!.write(command + '\n');
    });
  }

  async tryLock(dir: string, at: number): Promise<Answer> {
    return JSON.parse(await this.#ask(JSON.stringify({ dir, at }))) as Answer;
  }

  async release(): Promise<void> {
    await this.#ask('release');
  }
}

const contenders: Contender[] = [];
let sb: Sandbox | undefined;
afterAll(async () => {
  for (const c of contenders) c.child.kill('SIGKILL');
  await sb?.close();
});

/** Every contender tries the lock of `dir` at the same instant; returns their answers. */
async function round(dir: string): Promise<Answer[]> {
  // far enough ahead for the command to reach every process even on a busy machine; a late
  // one only starts late, which makes the round less of a race but never a wrong one
  const at = Date.now() + 30;
  return Promise.all(contenders.map((c) => c.tryLock(dir, at)));
}

describe('job lock under contention', () => {
  it('exactly one of several processes started at the same instant holds the lock, fresh or taken over from a dead holder', async () => {
    for (let i = 0; i < CONTENDERS; i++) contenders.push(new Contender());
    const base = tempDir('rb-lock-race-');

    // a genuine stale lock: taken by a process that was then killed with -9
    const crashedDir = join(base, 'crashed');
    mkdirSync(crashedDir);
    const victim = new Contender();
    expect((await victim.tryLock(crashedDir, Date.now())).ok).toBe(true);
    victim.child.kill('SIGKILL');
    await new Promise((r) => victim.child.once('exit', r));
    const [staleFile] = readdirSync(crashedDir);
    expect(staleFile).toBe('lock.1');

    const cases: [string, (dir: string) => void][] = [
      ['fresh', () => undefined],
      // one dead holder, and a chain of two (crashed twice in a row)
      ['stale', (dir) => copyFileSync(join(crashedDir, staleFile!), join(dir, 'lock.1'))],
    ];
    for (const [name, seed] of cases) {
      for (let r = 0; r < ROUNDS; r++) {
        const dir = join(base, `${name}-${r}`);
        mkdirSync(dir);
        seed(dir);
        if (name === 'stale' && r % 2 === 1) copyFileSync(join(crashedDir, staleFile!), join(dir, 'lock.2'));
        const answers = await round(dir);
        const holders = answers.filter((a) => a.ok);
        expect(holders, `${name} round ${r}: ${JSON.stringify(answers)}`).toHaveLength(1);
        for (const a of answers.filter((x) => !x.ok)) expect(a.code).toBe('JOB_LOCKED');
        // the winner releases: its generation file goes, nothing else does
        const winner = contenders.find((c) => c.child.pid === holders[0]!.pid)!;
        await winner.release();
        expect(readdirSync(dir).sort()).toEqual(
          name === 'fresh' ? [] : r % 2 === 1 ? ['lock.1', 'lock.2'] : ['lock.1'],
        );
      }
    }
  }, 120_000);
});

describe('resume of a crashed job', () => {
  it('4 resumes started at the same instant after a kill -9: one runs the job, nobody is paid twice', async () => {
    // the sandbox does not deduplicate references: two holders would charge every row twice
    sb = await startSandbox({ apiKey: KEY, rateLimit: '1200/min', completeAfterMs: 100, balance: 1_000_000 });
    const dir = tempDir('rb-lock-resume-');
    const { path, rows } = writeBatch(dir, 20);
    const state = join(dir, 'state');
    const crashed = startCli(['run', path, ...fastArgs(state, '1200/min')], apiEnv(sb.url));
    let exited = false;
    void crashed.done.then(() => (exited = true));
    while (sb.ledger().length < 3 && !exited) await new Promise((r) => setTimeout(r, 10));
    crashed.child.kill('SIGKILL');
    expect((await crashed.done).signal, 'killed mid-run, not ended by itself').toBe('SIGKILL');
    const [job] = readdirSync(state);

    const preload = pathToFileURL(fileURLToPath(new URL('../support/start-at.mjs', import.meta.url))).href;
    // far enough ahead for all four to have started node; a late one only makes the race milder
    const env = {
      ...apiEnv(sb.url),
      NODE_OPTIONS: `--import=${preload}`,
      RB_START_AT: String(Date.now() + 1200),
    };
    const resumes = await Promise.all(
      [0, 1, 2, 3].map(() => startCli(['resume', job!, ...fastArgs(state, '1200/min')], env).done),
    );
    for (const r of resumes) {
      // the one that ran the job ends 0 (or 1 if a row was lost in the crash); the others were refused
      if (r.code === 2) expect(r.stderr).toMatch(/being run by another process \(pid \d+/);
      else expect([0, 1]).toContain(r.code);
    }
    const charges = new Map<string, number>();
    for (const e of sb.ledger()) charges.set(e.mobile_number, (charges.get(e.mobile_number) ?? 0) + 1);
    expect([...charges.values()].filter((n) => n > 1)).toEqual([]);
    const results = readCsv(join(dir, 'batch.results.csv'));
    expect(results.filter((r) => r.status === 'completed' || r.status === 'unknown')).toHaveLength(
      rows.length,
    );
  }, 60_000);
});
