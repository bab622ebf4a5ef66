/**
 * What a finished job's `resume`/`retry` prints, and what a second Ctrl-C prints (SPEC §2, §5a,
 * README "Skipped rows are looked up again", "Running it unattended"). Money is judged by the
 * sandbox's ledger through its admin route, never by the tool's own summary.
 *
 * Job B skips rows as MAYBE_PAID while job A's payments are held unanswered: the sandbox answers
 * every POST /recharge 429 until the fault is lifted (as in recheck.test.ts; no SIGSTOP).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  adminLedger,
  apiEnv,
  fastArgs,
  KEY,
  readCsv,
  runCli,
  sandboxAdmin,
  sandboxPerTest,
  startCli,
  tempDir,
  writeBatch,
} from './helpers.js';
import { registryPath } from '../../src/job/registry.js';
import { jobPaths } from '../../src/job/job.js';
import { accountId } from '../../src/api/account.js';
import { FakeClock } from '../../src/clock.js';
import type { Sandbox } from '../../src/sandbox/index.js';

const sandbox = sandboxPerTest();

/** processes a failing test must not leave behind */
let children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children = [];
});

const PAYEES = ['01711000001', '01811000002', '01911000003', '01611000004'];
const AMOUNT = (i: number) => 100 + 10 * i;

const admin = sandboxAdmin;

const ledger = adminLedger;

/** Polls `ok` (bounded, not a measured wait) until it holds, or `child` has ended. */
async function until(what: string, ok: () => boolean, child?: ChildProcess): Promise<void> {
  for (let waited = 0; waited < 60_000; waited += 20) {
    if (ok()) return;
    if (child && child.exitCode !== null) throw new Error(`ended (exit ${child.exitCode}) before: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`never happened: ${what}`);
}

/** Job A claims every payee and is held unanswered (429); job B of the same file runs meanwhile. */
async function contend(s: Sandbox) {
  const dir = tempDir('rb-nothing-');
  const state = join(dir, 'state');
  const csv = join(dir, 'pay.csv');
  writeFileSync(
    csv,
    ['Name,Mobile,Amount', ...PAYEES.map((n, i) => `P${i + 1},${n},${AMOUNT(i)}`)].join('\n') + '\n',
  );
  const args = (job: string) => [...fastArgs(state), '--job', job, '--out', join(dir, `${job}.results.csv`)];
  await admin(s, 'configure', { faults: { rateLimited: ['recharge'], retryAfterMs: 200 } });
  const a = startCli(['run', csv, ...args('job-a'), '--json'], apiEnv(s.url));
  children.push(a.child);
  const registry = registryPath(state, accountId(s.url, KEY));
  const claims = () =>
    (existsSync(registry) ? readFileSync(registry, 'utf8').split('\n') : []).filter(
      (l) => l.includes('"t":"i"') && l.includes('"j":"job-a"'),
    ).length;
  await until('job A claims every row', () => claims() >= PAYEES.length);
  const b = await runCli(['run', csv, ...args('job-b'), '--json'], apiEnv(s.url));
  expect(b.code, b.stderr).toBe(1);
  expect(readCsv(join(dir, 'job-b.results.csv')).map((r) => r.error_code)).toEqual(
    PAYEES.map(() => 'MAYBE_PAID'),
  );
  return { a, state, dir, args };
}

/** A's payments fail (nothing charged), A finishes; B's skipped rows are then nobody's payment. */
async function failA(s: Sandbox, a: ReturnType<typeof startCli>): Promise<void> {
  await admin(s, 'configure', { failRate: 1, faults: { rateLimited: [] } });
  const done = await a.done;
  expect(done.code, done.stderr).toBe(1);
  await admin(s, 'configure', { failRate: 0 });
}

/** Every payee paid exactly once, and that payment is one of job B's transactions. */
async function paidOnceByB(s: Sandbox, bResults: string): Promise<void> {
  const completed = (await ledger(s)).filter((e) => e.status === 'completed');
  const bTxns = new Set(readCsv(bResults).map((r) => r.transaction_id));
  for (const [i, n] of PAYEES.entries()) {
    const paid = completed.filter((e) => e.mobile_number === n);
    expect(paid, n).toHaveLength(1);
    expect(paid[0]!.amount).toBe(AMOUNT(i));
    expect(bTxns.has(paid[0]!.transaction_id), n).toBe(true);
  }
  expect(completed).toHaveLength(PAYEES.length);
}

const TOTAL = PAYEES.reduce((sum, _, i) => sum + AMOUNT(i), 0);

describe('a finished job whose skipped rows a re-check reopens is not "nothing to do"', () => {
  it('resume --json: progress and the normal summary, counts and amount paid, each number paid once by B', async () => {
    const s = await sandbox();
    const { a, state, dir } = await contend(s);
    await failA(s, a);

    // not --quiet: the progress line shows what is sent
    const resumed = await runCli(
      ['resume', 'job-b', ...fastArgs(state).filter((x) => x !== '--quiet'), '--json'],
      apiEnv(s.url),
    );
    expect(resumed.code, resumed.stderr).toBe(0);
    const lines = resumed.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0]!) as Record<string, unknown> & {
      counts: Record<string, number>;
      amounts: Record<string, number>;
    };
    expect(summary.nothing_to_do).toBeUndefined();
    expect(summary.exit_code).toBe(0);
    expect(summary.counts.completed).toBe(PAYEES.length);
    expect(summary.counts.skipped).toBe(0);
    expect(summary.amounts.completed).toBe(TOTAL);
    expect(resumed.stderr).toContain(`resuming job job-b: ${PAYEES.length} rows to send`);
    expect(resumed.stderr).not.toContain('nothing to resume');
    await paidOnceByB(s, join(dir, 'job-b.results.csv'));

    // now it is finished with every row completed: that is nothing to do, and nothing is sent
    const again = await runCli(
      ['resume', 'job-b', ...fastArgs(state).filter((x) => x !== '--quiet')],
      apiEnv(s.url),
    );
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('nothing to resume in job job-b: it has finished — every row completed');
    expect(await ledger(s)).toHaveLength(2 * PAYEES.length); // A's failed ones and B's
  });

  it('retry (no failed rows): the human summary says the rows were recharged', async () => {
    const s = await sandbox();
    const { a, state, dir } = await contend(s);
    await failA(s, a);

    const retried = await runCli(
      ['retry', 'job-b', ...fastArgs(state).filter((x) => x !== '--quiet')],
      apiEnv(s.url),
    );
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stderr).not.toContain('nothing to retry');
    expect(retried.stdout).toContain(`job job-b: ${PAYEES.length} rows — ${PAYEES.length} completed`);
    expect(retried.stdout).toContain(`recharged: ${TOTAL.toLocaleString('en-US')}`);
    await paidOnceByB(s, join(dir, 'job-b.results.csv'));
  });
});

describe('"nothing to resume" says what is left', () => {
  it('skipped rows that cannot be looked up again (no earlier payment recorded) are named, not "every row completed"', async () => {
    const s = await sandbox();
    const { state } = await contend(s);
    // a journal written before skipped records named their earlier payment (pid/prow/patt)
    const journal = jobPaths(state, 'job-b').journal;
    const old = readFileSync(journal, 'utf8')
      .split('\n')
      .map((l) => (l.includes('"t":"skipped"') ? l.replace(/,"(pid|prow|patt)":("[^"]*"|\d+)/g, '') : l));
    expect(old.join('\n')).not.toContain('"prow"');
    writeFileSync(journal, old.join('\n'));

    const resumed = await runCli(
      ['resume', 'job-b', ...fastArgs(state).filter((x) => x !== '--quiet')],
      apiEnv(s.url),
    );
    expect(resumed.code).toBe(1);
    expect(resumed.stderr).toContain(
      `nothing to resume in job job-b: it has finished; ${PAYEES.length} rows skipped as maybe paid`,
    );
    expect(resumed.stderr).toContain('check them with Alsamiflexi');
    expect(resumed.stderr).not.toContain('every row completed');
    expect(await ledger(s)).toHaveLength(0); // A is still held, and B sent nothing
  });
});

describe('a second signal with --json', () => {
  it('exits 4 at once and still prints the one JSON object, INTERRUPTED', async () => {
    // the sandbox's own clock (set to now) stands still: a recharge sent once latency is on is never answered,
    // so the first SIGINT's clean stop waits for it (--request-timeout 10m) until the second one
    const clock = new FakeClock(Date.now());
    const s = await sandbox({ clock, completeAfterMs: 0 });
    const dir = tempDir('rb-second-');
    const { path } = writeBatch(dir, 40);
    const state = join(dir, 'state');
    // the fast options with a long --request-timeout, and progress shown (no --quiet)
    const args = ['--state-dir', state, '--rate-limit', '600/min', '--request-timeout', '10m', '--json'];
    const run = startCli(['run', path, ...args], apiEnv(s.url));
    children.push(run.child);
    let stderr = '';
    run.child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await until('the first progress line', () => stderr.includes('starting job'), run.child);
    const posts = (status: number) =>
      s.requestLog().filter((e) => e.method === 'POST' && e.status === status).length;
    // the balance check is answered first; then each recharge sent from now on is held
    await until('a recharge answered', () => posts(200) > 0, run.child);
    s.configure({ latencyMs: 3_600_000 });
    const held = () => posts(0);
    await until('a recharge held unanswered', () => held() > 0, run.child);

    run.child.kill('SIGINT');
    await until('the first signal said', () => stderr.includes('SIGINT: stopping'), run.child);
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(4);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]!) as { exit_code: number; error: { code: string; message: string } };
    expect(out.exit_code).toBe(4);
    expect(out.error.code).toBe('INTERRUPTED');
    expect(out.error.message).toContain('second SIGINT');
    expect(out.error.message).toContain('run the same command again to resume');
    expect(r.stderr).toContain('exited at once on a second SIGINT');
    expect(r.stdout + r.stderr).not.toContain(KEY);
  });
});
