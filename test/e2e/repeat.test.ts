/**
 * Nobody paid twice across jobs (SPEC §5a): the ways a clerk runs the same payments again —
 * a fixed file, an Excel re-save, another folder, a fed-back file, a rehearsal, two jobs at
 * once under kill -9 — each judged by the sandbox's ledger, with reference dedup off.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32, startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.js';
import { KEY, apiEnv, fastArgs, readCsv, runCli, startCli, tempDir } from './helpers.js';
import { registryPath } from '../../src/job/registry.js';
import { accountId } from '../../src/api/account.js';

let sandboxes: Sandbox[] = [];
afterEach(async () => {
  await Promise.all(sandboxes.map((s) => s.close()));
  sandboxes = [];
});

async function sandbox(opts: Partial<SandboxOptions> = {}): Promise<Sandbox> {
  const s = await startSandbox({
    apiKey: KEY,
    rateLimit: '6000/min',
    completeAfterMs: 100,
    balance: 1_000_000,
    ...opts,
  });
  sandboxes.push(s);
  return s;
}

interface Payee {
  number: string;
  amount: number;
}

/** `count` payees with distinct numbers, amounts 10–500 (no Teletalk). */
function payees(count: number, from = 0): Payee[] {
  const prefixes = ['017', '013', '018', '019', '014', '016'];
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    return {
      number: `${prefixes[i % 6]}${String(20_000_000 + i * 7919).slice(-8)}`,
      amount: 10 + ((i * 37) % 49) * 10,
    };
  });
}

function writePayees(
  dir: string,
  name: string,
  rows: Payee[],
  opts: { bom?: boolean; crlf?: boolean; numberOf?: (p: Payee, i: number) => string } = {},
): string {
  const nl = opts.crlf ? '\r\n' : '\n';
  const lines = [
    'Employee ID,Name,Mobile Number,Amount (BDT)',
    ...rows.map((p, i) => `E${i + 1},Employee ${i + 1},${opts.numberOf?.(p, i) ?? p.number},${p.amount}`),
  ];
  const path = join(dir, name);
  writeFileSync(path, (opts.bom ? '\uFEFF' : '') + lines.join(nl) + nl);
  return path;
}

/** Ledger entries per number+amount that took money (not failed by the operator). */
function paidTimes(s: Sandbox): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of s.ledger())
    if (e.status !== 'failed')
      m.set(`${e.mobile_number}:${e.amount}`, (m.get(`${e.mobile_number}:${e.amount}`) ?? 0) + 1);
  return m;
}

const key = (p: Payee) => `${p.number}:${p.amount}`;
const json = (stdout: string) =>
  JSON.parse(stdout) as {
    job: string;
    counts: Record<string, number>;
    exit_code: number;
    repeats: { earlier_jobs: string[] };
  };

describe('across jobs (SPEC §5a)', () => {
  it('(a) stopped by a short balance, one typo fixed, run again: paid rows skipped, the fixed row paid once, nobody twice', async () => {
    const dir = tempDir();
    const state = join(dir, 'state');
    const people = payees(10);
    const typo = 3; // row 4's number lost a digit
    const first = writePayees(dir, 'payroll.csv', people, {
      numberOf: (p, i) => (i === typo ? p.number.slice(0, 10) : p.number),
    });
    const paidFirst = [0, 1, 2, 4]; // the balance covers these four
    const s = await sandbox({ balance: paidFirst.reduce((a, i) => a + people[i]!.amount, 0) });
    const r1 = await runCli(
      ['run', first, ...fastArgs(state), '--allow-partial', '--concurrency', '1', '--json'],
      apiEnv(s.url),
    );
    expect(r1.code).toBe(4);
    expect([...paidTimes(s).keys()].sort()).toEqual(paidFirst.map((i) => key(people[i]!)).sort());

    s.setBalance(1_000_000);
    const fixed = writePayees(dir, 'payroll.csv', people);
    const r2 = await runCli(['run', fixed, ...fastArgs(state), '--json'], apiEnv(s.url));
    const out = json(r2.stdout);
    expect(out.job).not.toBe(json(r1.stdout).job);
    expect(out.counts).toMatchObject({ completed: 6, skipped: 4 });
    expect(out.repeats.earlier_jobs).toEqual([json(r1.stdout).job]);
    expect(r2.code).toBe(0); // skipped rows of completed transactions are a success
    const results = readCsv(join(dir, 'payroll.results.csv'));
    for (const i of paidFirst) {
      expect(results[i]).toMatchObject({ status: 'skipped', error_code: 'ALREADY_PAID' });
      expect(results[i]!.error_message).toContain(json(r1.stdout).job);
    }
    expect(results[typo]!.status).toBe('completed');
    const times = paidTimes(s);
    for (const p of people) expect(times.get(key(p)), key(p)).toBe(1);

    // the first job, resumed (its file is the edited one now), sends nothing either
    const before = s.ledger().length;
    await runCli(['resume', json(r1.stdout).job, ...fastArgs(state)], apiEnv(s.url));
    expect(s.ledger()).toHaveLength(before);
  });

  it('(b, e) a finished file re-saved with BOM and CRLF pays nothing; --allow-repeat pays exactly once more', async () => {
    const s = await sandbox();
    const dir = tempDir();
    const state = join(dir, 'state');
    const people = payees(8);
    const path = writePayees(dir, 'bonus.csv', people);
    expect((await runCli(['run', path, ...fastArgs(state)], apiEnv(s.url))).code).toBe(0);
    writePayees(dir, 'bonus.csv', people, { bom: true, crlf: true });
    const again = await runCli(['run', path, ...fastArgs(state), '--json'], apiEnv(s.url));
    expect(again.code).toBe(0);
    expect(json(again.stdout).counts).toMatchObject({ skipped: 8, completed: 0 });
    for (const p of people) expect(paidTimes(s).get(key(p))).toBe(1);

    const repeat = await runCli(
      ['run', path, ...fastArgs(state), '--job', 'bonus-second', '--allow-repeat', '--json'],
      apiEnv(s.url),
    );
    expect(repeat.code).toBe(0);
    expect(json(repeat.stdout).counts.completed).toBe(8);
    for (const p of people) expect(paidTimes(s).get(key(p))).toBe(2);
    // and a third run without it pays nothing more
    const third = await runCli(
      ['run', path, ...fastArgs(state), '--job', 'bonus-third', '--json'],
      apiEnv(s.url),
    );
    expect(json(third.stdout).counts.skipped).toBe(8);
    for (const p of people) expect(paidTimes(s).get(key(p))).toBe(2);
    // the same number with another amount is paid, and warned about in the summary
    const raised = { ...people[0]!, amount: people[0]!.amount + 10 };
    const other = await runCli(
      ['run', writePayees(dir, 'raise.csv', [raised]), ...fastArgs(state), '--json'],
      apiEnv(s.url),
    );
    expect(other.code).toBe(0);
    expect(paidTimes(s).get(key(raised))).toBe(1);
    const warnings = (JSON.parse(other.stdout) as { repeats: { warnings: string[] } }).repeats.warnings;
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(people[0]!.number);
  });

  it('(c) the same file from another folder, state dir from XDG_STATE_HOME: nothing paid again, nothing written in the folders', async () => {
    const s = await sandbox();
    const root = tempDir();
    const [a, b] = [join(root, 'a'), join(root, 'b')];
    mkdirSync(a);
    mkdirSync(b);
    const people = payees(5);
    writePayees(a, 'pay.csv', people);
    writePayees(b, 'pay.csv', people);
    const env = { ...apiEnv(s.url), XDG_STATE_HOME: join(root, 'xdg') };
    const args = ['--rate-limit', '6000/min', '--poll-after', '150ms', '--poll-every', '150ms', '--quiet'];
    expect((await runCli(['run', 'pay.csv', ...args], env, a)).code).toBe(0);
    const second = await runCli(['run', 'pay.csv', ...args], env, b);
    expect(second.code).toBe(2); // the same file's finished job, found in the shared state dir
    expect(second.stderr).toMatch(/pay-[0-9a-f]{8}/);
    for (const p of people) expect(paidTimes(s).get(key(p))).toBe(1);
    expect(existsSync(join(root, 'xdg', 'recharge-batch', 'registry'))).toBe(true);
    expect(existsSync(join(a, '.recharge-batch')) || existsSync(join(b, '.recharge-batch'))).toBe(false);
    // an edited copy in the other folder: a new job, its rows skipped — and left out of the
    // balance pre-check: a balance for the one new row is enough
    const added = payees(1, 50);
    writePayees(b, 'pay.csv', [...people, ...added]);
    s.setBalance(added[0]!.amount);
    const edited = await runCli(['run', 'pay.csv', ...args, '--json'], env, b);
    expect(json(edited.stdout).counts).toMatchObject({ skipped: 5, completed: 1 });
    for (const p of people) expect(paidTimes(s).get(key(p))).toBe(1);
  });

  it('(c) jobs left in ./.recharge-batch: one line says how to keep using them', async () => {
    const s = await sandbox();
    const dir = tempDir();
    writePayees(dir, 'old.csv', payees(2));
    const env = { ...apiEnv(s.url), XDG_STATE_HOME: join(dir, 'xdg') };
    expect(
      (
        await runCli(
          ['run', 'old.csv', '--state-dir', './.recharge-batch', '--quiet', '--poll-after', '100ms'],
          env,
          dir,
        )
      ).code,
    ).toBe(0);
    const jobs = await runCli(['jobs'], env, dir);
    expect(jobs.code).toBe(0);
    const notes = jobs.stderr.split('\n').filter((l) => l.includes('--state-dir ./.recharge-batch'));
    expect(notes).toHaveLength(1);
    expect(jobs.stdout).toContain('no jobs');
  });

  it('Ctrl-C, one row added, run again: rows claimed but not sent were released, so they are paid, not held back as MAYBE_PAID', async () => {
    const s = await sandbox({ rateLimit: '600/min' });
    const dir = tempDir();
    const state = join(dir, 'state');
    const people = payees(30);
    const path = writePayees(dir, 'stop.csv', people);
    const run = startCli(['run', path, ...fastArgs(state, '300/min')], apiEnv(s.url));
    for (let i = 0; i < 200 && s.ledger().length < 3; i++) await new Promise((r) => setTimeout(r, 50));
    run.child.kill('SIGINT');
    expect((await run.done).code).toBe(4);
    const paidBefore = s.ledger().length;
    expect(paidBefore).toBeLessThan(30);
    writePayees(dir, 'stop.csv', [...people, ...payees(1, 60)]);
    const again = await runCli(['run', path, ...fastArgs(state), '--json'], apiEnv(s.url));
    // only what was really sent is held back, as paid (exit 1 while the stopped job's last
    // transactions are still processing: it stopped polling them)
    expect([0, 1]).toContain(again.code);
    const skipped = readCsv(join(dir, 'stop.results.csv')).filter((r) => r.status === 'skipped');
    expect(skipped.map((r) => r.error_code)).toEqual(skipped.map(() => 'ALREADY_PAID'));
    expect(json(again.stdout).counts).toMatchObject({ skipped: paidBefore, completed: 31 - paidBefore });
    for (const p of [...people, ...payees(1, 60)]) expect(paidTimes(s).get(key(p)), key(p)).toBe(1);
  });

  it('--repeat-window 30d blocks a payment made 20 days ago; the default 7 days lets it be paid', async () => {
    const s = await sandbox();
    const dir = tempDir();
    const state = join(dir, 'state');
    const [old, other] = payees(2);
    // what a job 20 days ago left in the account's registry: old's payment, completed
    const at = Date.now() - 20 * 86_400_000;
    const reg = registryPath(state, accountId(s.url, KEY));
    mkdirSync(join(state, 'registry'), { recursive: true, mode: 0o700 });
    writeFileSync(
      reg,
      JSON.stringify({
        t: 'i',
        c: 'earlier.0',
        n: old!.number,
        a: old!.amount,
        r: 'ref-old',
        j: 'payroll-0101',
        u: 'job-0101',
        w: 1,
        k: 1,
        at,
      }) +
        '\n' +
        JSON.stringify({ t: 'o', id: 'job-0101/1/1', s: 'completed', x: 'TXN-0101' }) +
        '\n',
      { mode: 0o600 },
    );
    const month = writePayees(dir, 'month.csv', [old!, other!]);
    const r1 = await runCli(
      ['run', month, ...fastArgs(state), '--repeat-window', '30d', '--json'],
      apiEnv(s.url),
    );
    expect(json(r1.stdout).counts).toMatchObject({ completed: 1, skipped: 1 });
    expect(readCsv(join(dir, 'month.results.csv'))[0]).toMatchObject({
      status: 'skipped',
      error_code: 'ALREADY_PAID',
    });
    expect([...paidTimes(s).keys()]).toEqual([key(other!)]);

    const week = writePayees(dir, 'week.csv', [old!]);
    const r2 = await runCli(['run', week, ...fastArgs(state), '--json'], apiEnv(s.url));
    expect(json(r2.stdout).counts).toMatchObject({ completed: 1 });
    expect(paidTimes(s).get(key(old!))).toBe(1);
  });

  it('(d) unknown rows fed back: skipped MAYBE_PAID, not paid again', async () => {
    const s = await sandbox({ dropRate: 0.25, seed: 11 });
    const dir = tempDir();
    const state = join(dir, 'state');
    const people = payees(20);
    const path = writePayees(dir, 'drop.csv', people);
    const first = await runCli(['run', path, ...fastArgs(state), '--json'], apiEnv(s.url));
    expect([1, 3]).toContain(first.code); // 3 if too many ambiguous answers in a row stop the run
    const results = readCsv(join(dir, 'drop.results.csv'));
    const unknown = results.filter((r) => r.status === 'unknown');
    expect(unknown.length).toBeGreaterThan(0);
    // the rows to look at, in the input's own columns, fed back as a new file
    const back = unknown.map((r) => people[Number(r.row) - 1]!);
    s.configure({ dropRate: 0 });
    const fed = writePayees(dir, 'drop-again.csv', back);
    const ledgerBefore = s.ledger().length;
    const again = await runCli(['run', fed, ...fastArgs(state), '--json'], apiEnv(s.url));
    expect(again.code).toBe(1); // maybe paid: to be checked, not a success
    expect(json(again.stdout).counts.skipped).toBe(back.length);
    expect(readCsv(join(dir, 'drop-again.results.csv')).map((r) => r.error_code)).toEqual(
      back.map(() => 'MAYBE_PAID'),
    );
    expect(s.ledger()).toHaveLength(ledgerBefore);
    for (const n of paidTimes(s).values()) expect(n).toBe(1);
  });

  it('(f) a rehearsal on one sandbox, then the "real" run on another base URL: separate jobs, each pays every row once', async () => {
    const rehearsal = await sandbox();
    const real = await sandbox();
    const dir = tempDir();
    const state = join(dir, 'state');
    const people = payees(6);
    const path = writePayees(dir, 'march.csv', people);
    const r1 = await runCli(['run', path, ...fastArgs(state), '--json'], apiEnv(rehearsal.url));
    expect(r1.code).toBe(0);
    const r2 = await runCli(['run', path, ...fastArgs(state), '--json'], apiEnv(real.url));
    expect(r2.code).toBe(0);
    expect(json(r2.stdout).job).not.toBe(json(r1.stdout).job);
    expect(json(r2.stdout).counts.completed).toBe(6);
    for (const sb of [rehearsal, real]) for (const p of people) expect(paidTimes(sb).get(key(p))).toBe(1);
    // the rehearsal's job cannot be continued against the real API
    const wrong = await runCli(['resume', json(r1.stdout).job, ...fastArgs(state)], apiEnv(real.url));
    expect(wrong.code).toBe(2);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrong.stderr).toContain('another account');
    const report = await runCli(['report', json(r1.stdout).job, '--state-dir', state], apiEnv(real.url));
    expect(report.code).toBe(2);
  });

  it('(g) kill -9 at random moments while two jobs with overlapping rows run on one state dir, then both resumed: nobody paid twice', async () => {
    const s = await sandbox({ rateLimit: '3000/min', completeAfterMs: 100 });
    const rnd = mulberry32(77);
    const dir = tempDir();
    const state = join(dir, 'state');
    const all = payees(90);
    const files = [
      writePayees(dir, 'north.csv', all.slice(0, 60)),
      writePayees(dir, 'south.csv', all.slice(30, 90)),
    ];
    const args = (f: string) => ['run', f, ...fastArgs(state, '3000/min'), '--concurrency', '4'];
    let killedWhileSending = 0;
    for (let k = 0; k < 5; k++) {
      const runs = files.map((f) => startCli(args(f), apiEnv(s.url)));
      const before = s.ledger().length;
      // a random moment once sending has begun (one in four lands in start-up)
      if (rnd() > 0.25)
        for (let w = 0; w < 10_000 && s.ledger().length <= before; w += 20)
          await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, rnd() * 500));
      for (const r of runs) r.child.kill('SIGKILL');
      const done = await Promise.all(runs.map((r) => r.done));
      if (s.ledger().length > before && done.some((d) => d.signal === 'SIGKILL')) killedWhileSending++;
    }
    for (const f of files) {
      let r = await runCli(args(f), apiEnv(s.url));
      for (let i = 0; i < 3 && r.code === 4; i++) r = await runCli(args(f), apiEnv(s.url));
      expect([0, 1]).toContain(r.code);
    }
    const times = paidTimes(s);
    for (const p of all) expect(times.get(key(p)) ?? 0, key(p)).toBeLessThanOrEqual(1);
    const rows = [...readCsv(join(dir, 'north.results.csv')), ...readCsv(join(dir, 'south.results.csv'))];
    for (const r of rows) expect(['completed', 'skipped', 'unknown']).toContain(r.status);
    // every overlapping payee was paid by one job or held back as maybe paid — never by both
    for (const p of all.slice(30, 60)) {
      const mine = rows.filter((r) => r.normalized_number === p.number);
      expect(mine.filter((r) => r.status === 'completed').length).toBeLessThanOrEqual(1);
    }
    expect(killedWhileSending).toBeGreaterThanOrEqual(2);
    const [registry] = readdirSync(join(state, 'registry'));
    expect(readFileSync(join(state, 'registry', registry!), 'utf8')).not.toContain(KEY);
  });
});
