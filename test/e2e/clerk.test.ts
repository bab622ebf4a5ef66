/**
 * Messages for a payroll clerk (issue 11): every refusal is one line in plain words naming the
 * thing to fix and the next step, with the right exit code; a job can be named by its CSV.
 * Money is judged by the sandbox's ledger.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { KEY, apiEnv, fastArgs, runCli, tempDir, writeBatch } from './helpers.js';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ apiKey: KEY, rateLimit: '6000/min', completeAfterMs: 50 });
});
afterAll(async () => {
  await sb.close();
});

const oneLine = (r: { stderr: string }) => expect(r.stderr.trim().split('\n')).toHaveLength(1);

describe('config file and options', () => {
  it('--config naming no file: one line without ENOENT, exit 2', async () => {
    const r = await runCli(['balance', '--config', 'nope.json'], apiEnv(sb.url), tempDir());
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      'error: --config nope.json: there is no such file; check the name and folder, or leave --config out',
    );
  });

  it('a broken or wrongly typed config file is named with the place to fix, never quoting its content', async () => {
    const dir = tempDir();
    const cfg = join(dir, 'cfg.json');
    writeFileSync(cfg, '{\n  "plan": "business",\n  "concurrency": sk_live_secret\n}\n');
    const broken = await runCli(['balance', '--config', cfg], apiEnv(sb.url));
    expect(broken.code).toBe(2);
    oneLine(broken);
    expect(broken.stderr).toMatch(
      /is not valid JSON( \(line 3, column \d+\))?: check the quotes, commas and braces/,
    );
    expect(broken.stderr).toContain(`--config ${cfg}`);
    expect(broken.stderr).not.toContain('sk_live_secret');
    writeFileSync(cfg, JSON.stringify({ concurrency: 'sk_live_secret' }));
    // (resume uses --concurrency; balance, which does not, ignores the key)
    const typed = await runCli(['resume', 'night-job', '--config', cfg, '--state-dir', dir], apiEnv(sb.url));
    expect(typed.code).toBe(2);
    expect(typed.stderr.trim()).toBe(
      `error: --config ${cfg}: "concurrency" is not a number: write it like "concurrency": 4`,
    );
  });

  it('a map object in the config file is read as the --map pairs', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'pay.csv'), 'Staff,Cell,Taka Due\nA,01712345678,100\n');
    writeFileSync(join(dir, 'cfg.json'), JSON.stringify({ map: { number: 'Cell', amount: 'Taka Due' } }));
    const r = await runCli(
      [
        'validate',
        'pay.csv',
        '--config',
        'cfg.json',
        '--operators',
        join(process.cwd(), 'fixtures/operators.json'),
      ],
      {},
      dir,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('1 row, 1 valid, 0 invalid');
    writeFileSync(join(dir, 'cfg.json'), JSON.stringify({ map: 42 }));
    const bad = await runCli(
      [
        'validate',
        'pay.csv',
        '--config',
        'cfg.json',
        '--operators',
        join(process.cwd(), 'fixtures/operators.json'),
      ],
      {},
      dir,
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      '"map" is not ROLE=Column pairs: write it like "map": {"number": "Mobile No"}',
    );
    expect(bad.stderr).not.toContain('[object Object]');
  });

  it('validate without a key points at --operators for an offline check', async () => {
    const r = await runCli(['validate', 'fixtures/payroll.csv']);
    expect(r.code).toBe(2);
    oneLine(r);
    expect(r.stderr).toContain('no API key');
    expect(r.stderr).toContain('--operators');
  });

  it('a base URL without /api/v1 ("No such endpoint") gets the hint, exit 3', async () => {
    const base = sb.url.replace(/\/api\/v1$/, '');
    const r = await runCli(['balance'], { ALSAMIFLEXI_API_KEY: KEY, ALSAMIFLEXI_BASE_URL: base });
    expect(r.code).toBe(3);
    oneLine(r);
    expect(r.stderr).toContain(
      `--base-url should end in /api/v1 (it is ${base}); set ALSAMIFLEXI_BASE_URL=${base}/api/v1`,
    );
  });
});

describe('a job named by its input file', () => {
  it('status, report and resume accept the CSV; several jobs for it exit 2 listing them; nothing sent twice', async () => {
    const dir = tempDir();
    const state = join(dir, 'state');
    const { path } = writeBatch(dir, 3, 'allowance.csv');
    const run = await runCli(['run', 'allowance.csv', ...fastArgs(state)], apiEnv(sb.url), dir);
    expect(run.code, run.stderr).toBe(0);
    const charged = sb.ledger().length;

    const status = await runCli(['status', 'allowance.csv', '--state-dir', state, '--json'], {}, dir);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      state: 'finished',
      input: path,
      counts: { completed: 3 },
    });
    const report = await runCli(['report', path, '--state-dir', state], {}, tempDir());
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toContain(join(dir, 'allowance.results.csv'));
    const resume = await runCli(['resume', 'allowance.csv', '--state-dir', state], apiEnv(sb.url), dir);
    expect(resume.code).toBe(0); // found, and nothing left to do in it
    expect(resume.stderr.trim()).toMatch(
      /^nothing to resume in job allowance-[0-9a-f]{8}: it has finished — every row completed$/,
    );

    // the same file paid again on purpose under another name: the file now names two jobs
    expect(
      (
        await runCli(
          ['run', 'allowance.csv', ...fastArgs(state), '--job', 'allowance-again', '--allow-repeat'],
          apiEnv(sb.url),
          dir,
        )
      ).code,
    ).toBe(0);
    const two = await runCli(['status', 'allowance.csv', '--state-dir', state], {}, dir);
    expect(two.code).toBe(2);
    oneLine(two);
    // oldest first, each with its file and time, and the command to type
    expect(two.stderr).toMatch(
      /allowance\.csv has 2 jobs: allowance-[0-9a-f]{8} \(.*\); allowance-again \(.*\) — name one of them, e\.g\. `recharge-batch status allowance-again`$/m,
    );
    const none = await runCli(['status', 'other.csv', '--state-dir', state], {}, dir);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('see `recharge-batch jobs`');
    expect(sb.ledger().length).toBe(charged + 3);
  });
});

describe('retry or resume with nothing to do', () => {
  it("says so plainly, sends nothing and exits with the job's own code", async () => {
    const dir = tempDir();
    const state = join(dir, 'state');
    writeFileSync(join(dir, 'mixed.csv'), 'Mobile,Amount\n01712345670,100\n12345,100\n');
    const ok = writeBatch(dir, 2, 'ok.csv');
    expect((await runCli(['run', ok.path, ...fastArgs(state)], apiEnv(sb.url))).code).toBe(0);
    expect((await runCli(['run', join(dir, 'mixed.csv'), ...fastArgs(state)], apiEnv(sb.url))).code).toBe(1);
    const before = sb.stats().recharges;

    // as after a crash between the last journal record and the results: they are written again
    rmSync(join(dir, 'ok.results.csv'));
    const clean = await runCli(['retry', 'ok.csv', '--state-dir', state], apiEnv(sb.url), dir);
    expect(clean.code).toBe(0);
    expect(existsSync(join(dir, 'ok.results.csv'))).toBe(true);
    expect(clean.stderr.trim()).toMatch(
      /^nothing to retry in job ok-[0-9a-f]{8}: no failed rows — every row completed$/,
    );
    const mixed = await runCli(['retry', 'mixed.csv', '--state-dir', state], apiEnv(sb.url), dir);
    expect(mixed.code).toBe(1);
    expect(mixed.stderr.trim()).toMatch(
      /^nothing to retry in job mixed-[0-9a-f]{8}: no failed rows; 1 invalid row to correct in the failed CSV and run again$/,
    );
    expect(mixed.stderr).not.toMatch(/resuming|0 rows to send/);
    // resume of that finished job: the same one way back for its rows, never `retry` besides
    const finished = await runCli(['resume', 'mixed.csv', '--state-dir', state], apiEnv(sb.url), dir);
    expect(finished.stderr.trim()).toMatch(
      /^nothing to resume in job mixed-[0-9a-f]{8}: it has finished; 1 invalid row to correct in the failed CSV and run again$/,
    );
    expect(sb.stats().recharges).toBe(before);
  });
});

describe("a clerk's session", () => {
  it('run → the summary names the failed CSV as the next step → fixed and fed back: every row paid once', async () => {
    const dir = tempDir();
    const state = join(dir, 'state');
    writeFileSync(
      join(dir, 'allowance.csv'),
      'Employee ID,Mobile Number,Amount (BDT)\nE1,01712345678,500\nE2,0191234567,300\nE3,01812345679,"1,200"\n',
    );
    const args = [
      '--state-dir',
      state,
      '--rate-limit',
      '6000/min',
      '--poll-after',
      '150ms',
      '--poll-every',
      '150ms',
    ];
    const run = await runCli(['run', 'allowance.csv', ...args], apiEnv(sb.url), dir);
    expect(run.code).toBe(1);
    const failed = join(dir, 'allowance.failed.csv');
    expect(run.stdout).toContain('3 rows — 1 completed, 2 invalid (not sent)');
    expect(run.stdout.trim().split('\n').at(-1)).toBe(
      `next: open ${failed}: its error_message says why each of the 2 rows was not paid; correct what is wrong, then run that file: \`recharge-batch run ${failed}\``,
    );
    expect(run.stderr.split('\n')[0]).toMatch(
      /^starting job allowance-[0-9a-f]{8}: 1 row to send, 2 invalid rows not sent$/,
    );
    // the clerk corrects the two rows in the failed CSV and feeds it back
    writeFileSync(
      failed,
      '\uFEFFEmployee ID,Mobile Number,Amount (BDT),error_code,error_message\nE2,01912345670,300,,\nE3,01812345679,1000,,\n',
    );
    const again = await runCli(['run', failed, ...args], apiEnv(sb.url), dir);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trim().split('\n').at(-1)).toBe('next: nothing — every row is done');
    const paid = sb
      .ledger()
      .filter((e) => ['01712345678', '01912345670', '01812345679'].includes(e.mobile_number));
    expect(paid.map((e) => [e.mobile_number, e.amount]).sort()).toEqual([
      ['01712345678', 500],
      ['01812345679', 1000],
      ['01912345670', 300],
    ]);
  });
});
