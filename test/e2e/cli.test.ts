/** The built CLI's contract: help, exit codes, balance/operators, validate on real and broken files. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { CLI, KEY, apiEnv, readCsv, runCli, tempDir } from './helpers.js';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ apiKey: KEY, rateLimit: '6000/min' });
});
afterAll(async () => {
  await sb.close();
});

const noKeyAnywhere = (r: { stdout: string; stderr: string }) => {
  expect(r.stdout).not.toContain(KEY);
  expect(r.stderr).not.toContain(KEY);
};

describe('recharge-batch CLI', () => {
  it('--help lists every command of the specification and the exit codes', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of [
      'run <csv>',
      'validate <csv>',
      'resume <job>',
      'retry <job>',
      'status <job>',
      'jobs',
      'report <job>',
      'balance',
      'operators',
      'sandbox',
      'demo',
    ]) {
      expect(r.stdout).toContain(cmd);
    }
    expect(r.stdout).toContain('Exit codes');
    expect(r.stdout).not.toContain('not available yet');
    const sub = await runCli(['run', '--help']);
    expect(sub.code).toBe(0);
    expect(sub.stdout).toContain('--reference-dedup');
  });

  it('balance --json and operators --json print the API data; the key appears nowhere', async () => {
    const b = await runCli(['balance', '--json'], apiEnv(sb.url));
    expect(b.code).toBe(0);
    expect(JSON.parse(b.stdout)).toEqual({ balance: sb.balance(), currency: 'BDT' });
    const o = await runCli(['operators', '--json'], apiEnv(sb.url));
    expect(o.code).toBe(0);
    expect(JSON.parse(o.stdout).map((x: { code: string }) => x.code)).toEqual([
      'GP',
      'ROBI',
      'BL',
      'TT',
      'AT',
    ]);
    const human = await runCli(['operators'], apiEnv(sb.url));
    expect(human.stdout).toMatch(/Teletalk\s+TT\s+10–500/);
    noKeyAnywhere(b);
    noKeyAnywhere(o);
  });

  it('a wrong key exits 3 with one line, and does not print the key it was given', async () => {
    const wrong = 'sk_wrong_but_secret_123';
    const r = await runCli(['balance'], { ALSAMIFLEXI_API_KEY: wrong, ALSAMIFLEXI_BASE_URL: sb.url });
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('API key rejected');
    expect(r.stdout + r.stderr).not.toContain(wrong);
    // even --debug (stack traces) and --api-key on the command line keep it out
    const d = await runCli(['operators', '--debug', '--api-key', wrong, '--base-url', sb.url]);
    expect(d.code).toBe(3);
    expect(d.stdout + d.stderr).not.toContain(wrong);
  });

  it('an unreachable base URL exits 3 within the request timeout', async () => {
    const started = Date.now();
    const r = await runCli(['balance', '--request-timeout', '2s'], {
      ALSAMIFLEXI_API_KEY: KEY,
      ALSAMIFLEXI_BASE_URL: 'http://127.0.0.1:9/api/v1',
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('cannot reach');
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it.each([
    [['balance', '--bogus'], 'unknown option --bogus (see --help)'],
    [['run'], 'run needs the CSV file, e.g. `recharge-batch run payroll.csv`'],
    [['status'], "status needs a job name (or the job's input CSV): see `recharge-batch jobs`"],
    [['frobnicate'], '"frobnicate" is not a command'],
    [['stauts', 'x'], '"stauts" is not a command: did you mean status? (see --help)'],
    [[], 'name a command, e.g. `recharge-batch validate payroll.csv` (see --help)'],
    [['validate'], 'validate needs the CSV file, e.g. `recharge-batch validate payroll.csv`'],
    [['watch'], 'watch needs the folder to watch, e.g. `recharge-batch watch /srv/payroll/incoming`'],
    [['resume'], "resume needs a job name (or the job's input CSV): see `recharge-batch jobs`"],
    [['retry'], "retry needs a job name (or the job's input CSV): see `recharge-batch jobs`"],
    [['report'], "report needs a job name (or the job's input CSV): see `recharge-batch jobs`"],
    [['balance', '--poll-evry', '1m'], 'unknown option --poll-evry: did you mean --poll-every? (see --help)'],
    [['sandbox', '--fail-rte', '0.1'], 'unknown option --fail-rte: did you mean --fail-rate? (see --help)'],
    [['operatrs'], '"operatrs" is not a command: did you mean operators? (see --help)'],
    [
      ['balance', '--request-timeout', '5'],
      '--request-timeout "5" has no unit (ms, s, m, h or d): write it like --request-timeout 5s',
    ],
    [
      ['resume', 'some-job', '--concurrency', 'abc'],
      '--concurrency "abc" is not a number: write it like --concurrency 4',
    ],
    [['run', 'payroll.csv', '--concurrency'], '--concurrency needs a value'],
    // a forgotten value was taken as '' and ignored: the default results path, job name, rate
    [['run', 'payroll.csv', '--out'], '--out needs a value'],
    [['run', 'payroll.csv', '--job'], '--job needs a value'],
    [['validate', 'payroll.csv', '--rate-limit'], '--rate-limit needs a value'],
    [['balance', '--plan', 'platinum'], '--plan "platinum" is not a plan (starter, business or enterprise)'],
    [['balance', '--rate-limit', 'fast'], '--rate-limit "fast" is not a rate (N/s, N/min or N/h)'],
    [['resume', 'some-job', '--poll-after', 'soon'], '--poll-after "soon" is not a duration'],
  ])('usage errors exit 2 with one line: %j', async (args, text) => {
    const r = await runCli([...(args as string[]), '--state-dir', tempDir()], apiEnv(sb.url));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(text);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.split('--help').length).toBeLessThanOrEqual(2); // pointed at once, not "(see --help) (see --help)"
    expect(r.stderr).not.toMatch(/Not enough non-option|NaN|Unknown argument/);
  });

  it('a reader that closes the pipe early (| head) ends nothing badly: no stack trace, same exit code', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [CLI, 'operators'], {
      env: { PATH: process.env.PATH ?? '', ...apiEnv(sb.url) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy(); // like `head -0`: the first write meets a closed pipe
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    expect(code).toBe(0);
    expect(stderr).not.toContain('EPIPE');
  });

  it('--debug shows the stack and the error it came from; without it, one line', async () => {
    const missing = join(tempDir(), 'night.json');
    const plain = await runCli(['jobs', '--config', missing]);
    expect(plain.code).toBe(2);
    expect(plain.stderr.trim().split('\n')).toEqual([
      `error: --config ${missing}: there is no such file; check the name and folder, or leave --config out`,
    ]);
    const debug = await runCli(['jobs', '--config', missing, '--debug']);
    expect(debug.code).toBe(2);
    expect(debug.stderr).toMatch(/^error: --config .*: there is no such file/);
    expect(debug.stderr).toMatch(/^BatchError: --config .*\n\s+at /m);
    expect(debug.stderr).toMatch(/^caused by: Error: ENOENT: no such file or directory/m);
  });

  it('reads options from env and a --config file, the flag winning', async () => {
    const dir = tempDir();
    const cfg = join(dir, 'cfg.json');
    writeFileSync(cfg, JSON.stringify({ plan: 'platinum' }));
    const bad = await runCli(['balance', '--config', cfg], apiEnv(sb.url));
    expect(bad.code).toBe(2);
    // named by the file and its key; the file's value is never quoted back (SPEC §5 additions)
    expect(bad.stderr.trim()).toBe(
      `error: --config ${cfg}: "plan" is not a plan (starter, business or enterprise): write it like "plan": "business"`,
    );
    const flagWins = await runCli(['balance', '--config', cfg, '--plan', 'business'], apiEnv(sb.url));
    expect(flagWins.code).toBe(0);
    const envWins = await runCli(['balance', '--config', cfg], {
      ...apiEnv(sb.url),
      RECHARGE_BATCH_PLAN: 'starter',
    });
    expect(envWins.code).toBe(0);
    writeFileSync(cfg, JSON.stringify({ 'api-key': 'x' }));
    expect((await runCli(['balance', '--config', cfg], apiEnv(sb.url))).code).toBe(2);
  });
});

describe('validate', () => {
  it('judges the quirks fixture row by row and writes the report; exit 1 for invalid rows', async () => {
    const dir = tempDir();
    const out = join(dir, 'report.csv');
    const r = await runCli(['validate', 'fixtures/quirks.csv', '--out', out, '--json'], apiEnv(sb.url));
    expect(r.code).toBe(1);
    const summary = JSON.parse(r.stdout);
    expect(summary.counts.invalid).toBeGreaterThan(0);
    const expected = JSON.parse(readFileSync('fixtures/quirks.expected.json', 'utf8')) as Record<
      string,
      { status: string; code?: string; number?: string; amount?: number }
    >;
    const rows = readCsv(out);
    expect(rows).toHaveLength(Object.keys(expected).length);
    for (const [row, e] of Object.entries(expected)) {
      const got = rows[Number(row) - 1]!;
      expect(got.status, `row ${row}`).toBe(e.status);
      if (e.code) expect(got.error_code, `row ${row}`).toBe(e.code);
      if (e.number) expect(got.normalized_number, `row ${row}`).toBe(e.number);
      if (e.amount !== undefined) expect(got.amount, `row ${row}`).toBe(String(e.amount));
    }
  });

  it('a clean payroll file is all valid (exit 0), offline with --operators', async () => {
    const r = await runCli(['validate', 'fixtures/payroll.csv', '--operators', 'fixtures/operators.json']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('120 valid');
  });

  it.each([
    ['missing file', (d: string) => join(d, 'nope.csv')],
    ['a directory', (d: string) => (mkdirSync(join(d, 'dir.csv')), join(d, 'dir.csv'))],
    ['an empty file', (d: string) => (writeFileSync(join(d, 'e.csv'), ''), join(d, 'e.csv'))],
    ['header only', (d: string) => (writeFileSync(join(d, 'h.csv'), 'mobile,amount\n'), join(d, 'h.csv'))],
    [
      'PNG bytes',
      (d: string) => (
        writeFileSync(
          join(d, 'p.csv'),
          Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
        ),
        join(d, 'p.csv')
      ),
    ],
    [
      'a renamed .xlsx',
      (d: string) => (
        writeFileSync(join(d, 'x.csv'), Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(40, 1)])),
        join(d, 'x.csv')
      ),
    ],
    [
      'an unterminated quote',
      (d: string) => (
        writeFileSync(join(d, 'q.csv'), 'mobile,amount\n01712345678,100\n"01812345678,100\n'),
        join(d, 'q.csv')
      ),
    ],
    [
      'no number column',
      (d: string) => (writeFileSync(join(d, 'n.csv'), 'name,amount\nA,100\n'), join(d, 'n.csv')),
    ],
  ])('%s: exit 2, one line, no stack trace, nothing sent (validate and run)', async (_what, make) => {
    const dir = tempDir();
    const path = make(dir);
    const before = sb.stats().recharges;
    for (const cmd of ['validate', 'run']) {
      const r = await runCli([cmd, path, '--state-dir', join(dir, 'state')], apiEnv(sb.url));
      expect(r.code, `${cmd}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(sb.stats().recharges).toBe(before);
  });
});

describe('demo', () => {
  it('runs the sample payroll batch against an in-process sandbox: exit 0, names the completed rows and the results file', async () => {
    const r = await runCli(['demo']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/120 rows completed/);
    const m = /results written to (.+\.results\.csv)/.exec(r.stdout);
    expect(m).not.toBeNull();
    const results = readCsv(m![1]!);
    expect(results).toHaveLength(120);
    expect(results.every((x) => x.status === 'completed' && /^TXN/.test(x.transaction_id!))).toBe(true);
    expect(Object.keys(results[0]!).slice(0, 2)).toEqual(['Employee ID', 'Name']);
    // nothing on stderr a user would read as trouble (a MaxListenersExceededWarning did show)
    expect(r.stderr).not.toMatch(/Warning/);
  });
});
