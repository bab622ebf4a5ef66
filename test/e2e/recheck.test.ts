/**
 * Two jobs of the same payees at once (SPEC §5a, field finding): job B meets job A's payments
 * before they have an answer and skips its rows as MAYBE_PAID. Once A has finished, `resume B`
 * looks them up again: A's completed payments are recorded as paid (exit 0), A's failed ones are
 * paid by B. Money is judged by the sandbox's ledger through its admin route.
 *
 * What keeps A's payments unanswered while B runs is no race: the sandbox answers every POST
 * /recharge 429, so A waits and resends (SPEC §5: a 429 does nothing) with every row claimed and
 * none answered, for as long as the fault stands (--max-wait is 5 minutes); the fault is lifted
 * after B has run. A is not stopped with SIGSTOP: a request of A's in flight at that moment would
 * find its --request-timeout passed when continued and become `unknown`.
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
} from './helpers.js';
import { registryPath } from '../../src/job/registry.js';
import { accountId } from '../../src/api/account.js';
import type { Sandbox } from '../../src/sandbox/index.js';

const sandbox = sandboxPerTest();

/** job A's process: a test that fails while A is stopped must not leave it behind */
let held: ChildProcess | null = null;
afterEach(() => {
  if (held && held.exitCode === null && held.signalCode === null) held.kill('SIGKILL');
  held = null;
});

const PAYEES = ['01711000001', '01811000002', '01911000003', '01611000004', '01411000005', '01311000006'];
const AMOUNT = (i: number) => 100 + 10 * i;

const admin = sandboxAdmin;

const ledger = adminLedger;

/** Charges per number, by the ledger's final status. */
async function charges(s: Sandbox, status: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const e of await ledger(s))
    if (e.status === status) out.set(e.mobile_number, (out.get(e.mobile_number) ?? 0) + 1);
  return out;
}

/** Waits (bounded) until the registry holds an intent of job `job` for every payee. */
async function claimedBy(state: string, url: string, job: string): Promise<void> {
  const path = registryPath(state, accountId(url, KEY));
  for (let waited = 0; waited < 60_000; waited += 20) {
    const lines = existsSync(path) ? readFileSync(path, 'utf8').split('\n') : [];
    if (lines.filter((l) => l.includes('"t":"i"') && l.includes(`"j":"${job}"`)).length >= PAYEES.length)
      return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`job ${job} never claimed its rows`);
}

/**
 * Job A runs and is held (every POST answered 429) with every payment claimed and none answered;
 * job B of the same file runs meanwhile. Returns A (to be continued) and B's first result.
 */
async function contend(s: Sandbox) {
  const dir = tempDir('rb-recheck-');
  const state = join(dir, 'state');
  const csv = join(dir, 'pay.csv');
  writeFileSync(
    csv,
    ['Name,Mobile,Amount', ...PAYEES.map((n, i) => `P${i + 1},${n},${AMOUNT(i)}`)].join('\n') + '\n',
  );
  const args = (job: string) => [
    ...fastArgs(state),
    '--job',
    job,
    '--out',
    join(dir, `${job}.results.csv`),
    '--json',
  ];
  await admin(s, 'configure', { faults: { rateLimited: ['recharge'], retryAfterMs: 200 } });
  const a = startCli(['run', csv, ...args('job-a')], apiEnv(s.url));
  held = a.child;
  await claimedBy(state, s.url, 'job-a');
  const b = await runCli(['run', csv, ...args('job-b')], apiEnv(s.url));
  const bResults = readCsv(join(dir, 'job-b.results.csv'));
  return { a, b, bResults, state, args, dir, csv };
}

describe('skipped rows looked up again on resume', () => {
  it("A's payments complete after B skipped them as MAYBE_PAID: resume B records them paid, exit 0, everyone paid once", async () => {
    const s = await sandbox();
    const { a, b, bResults, state, args, dir, csv } = await contend(s);
    expect(b.code).toBe(1);
    expect(bResults.map((r) => [r.status, r.error_code])).toEqual(
      PAYEES.map(() => ['skipped', 'MAYBE_PAID']),
    );
    expect(await ledger(s)).toHaveLength(0);
    // status says the skipped rows are not known to be paid, and what settles them
    const st = await runCli(['status', 'job-b', '--state-dir', state], {});
    expect(st.stdout).toContain(
      "6 skipped rows are not known to be paid (another job's payment of the same number and amount had no final answer): `recharge-batch resume job-b` looks them up again once that job has finished",
    );

    await admin(s, 'configure', { faults: { rateLimited: [] } });
    const aDone = await a.done;
    expect(aDone.code, aDone.stderr).toBe(0);

    // report is read-only: it tells what a resume would change, and the results stay as they were
    const report = await runCli(['report', 'job-b', '--state-dir', state], {});
    expect(report.code).toBe(0);
    expect(report.stdout).toContain('6 skipped rows: the earlier payment has since completed');
    expect(readCsv(join(dir, 'job-b.results.csv')).map((r) => r.error_code)).toEqual(
      PAYEES.map(() => 'MAYBE_PAID'),
    );

    // B has finished (every row skipped): running its file again says where the way is
    const again = await runCli(['run', csv, ...args('job-b')], apiEnv(s.url));
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("6 rows skipped as maybe paid are looked up again by 'resume job-b'");

    const resumed = await runCli(['resume', 'job-b', ...args('job-b')], apiEnv(s.url));
    expect(resumed.code, resumed.stderr).toBe(0);
    const summary = JSON.parse(resumed.stdout) as {
      counts: Record<string, number>;
      repeats: { unsettled: number };
    };
    expect(summary.counts.skipped).toBe(6);
    expect(summary.repeats.unsettled).toBe(0);
    const settled = await runCli(['status', 'job-b', '--state-dir', state, '--json'], {});
    expect(JSON.parse(settled.stdout)).toMatchObject({ unsettled_skipped: 0, counts: { skipped: 6 } });
    const after = readCsv(join(dir, 'job-b.results.csv'));
    expect(after.map((r) => [r.status, r.error_code])).toEqual(PAYEES.map(() => ['skipped', 'ALREADY_PAID']));
    for (const r of after)
      expect(r.error_message).toMatch(/already paid by job job-a row \d \(transaction \S+, completed/);

    const paid = await charges(s, 'completed');
    for (const n of PAYEES) expect(paid.get(n), n).toBe(1);
    expect(await ledger(s)).toHaveLength(PAYEES.length);
  });

  it("A's payments fail after B skipped them: resume B pays each row once", async () => {
    const s = await sandbox();
    const { a, b, args, dir } = await contend(s);
    expect(b.code).toBe(1);

    await admin(s, 'configure', { failRate: 1, faults: { rateLimited: [] } });
    const aDone = await a.done;
    expect(aDone.code, aDone.stderr).toBe(1); // every row failed
    expect(await charges(s, 'completed')).toEqual(new Map());

    await admin(s, 'configure', { failRate: 0 });
    const resumed = await runCli(['resume', 'job-b', ...args('job-b')], apiEnv(s.url));
    expect(resumed.code, resumed.stderr).toBe(0);
    const after = readCsv(join(dir, 'job-b.results.csv'));
    expect(after.map((r) => r.status)).toEqual(PAYEES.map(() => 'completed'));

    const paid = await charges(s, 'completed');
    const failed = await charges(s, 'failed');
    for (const [i, n] of PAYEES.entries()) {
      expect(paid.get(n), n).toBe(1);
      expect(failed.get(n), n).toBe(1);
      expect(
        (await ledger(s)).filter((e) => e.mobile_number === n && e.status === 'completed')[0]!.amount,
      ).toBe(AMOUNT(i));
    }
    // driven again, nothing more is sent
    const again = await runCli(['resume', 'job-b', ...args('job-b')], apiEnv(s.url));
    expect(again.code).toBe(0);
    expect(await ledger(s)).toHaveLength(2 * PAYEES.length);
  });
});
