/**
 * What a new user hit on a first try of the built CLI: a config file shared by every command,
 * a stray extra argument, a mistyped number, a missing file without a key, a key pasted with a
 * line break, and `--json` losing the base-URL hint. Each is one clear line and the right exit
 * code, with nothing sent (judged by the sandbox's own request count and ledger).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { KEY, apiEnv, fastArgs, runCli, tempDir, writeBatch } from './helpers.js';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ apiKey: KEY, rateLimit: '6000/min', completeAfterMs: 100 });
});
afterAll(async () => {
  await sb.close();
});

const oneLine = (stderr: string) => expect(stderr.trim().split('\n')).toHaveLength(1);

describe('a --config file shared by every command', () => {
  it("holds each command's own options: watch reads its settle, the others ignore it", async () => {
    const dir = tempDir();
    const cfg = join(dir, 'shared.json');
    writeFileSync(cfg, JSON.stringify({ settle: '10ms', once: true, port: 8181, plan: 'business' }));
    const inbox = join(dir, 'in');
    mkdirSync(inbox);
    writeBatch(inbox, 2, 'june.csv');
    const before = sb.ledger().length;
    // `once` from the file: without it watch would never exit; `settle` is echoed in its first line
    const w = await runCli(
      ['watch', inbox, '--config', cfg, ...fastArgs(join(dir, 'state')).filter((a) => a !== '--quiet')],
      apiEnv(sb.url),
    );
    expect(w.stderr).toContain('a file is taken once it has not changed for 10 ms');
    expect(w.code).toBe(0);
    expect(sb.ledger().length).toBe(before + 2);
    // a command line value wins over the file's
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const flag = await runCli(
      ['watch', empty, '--settle', '7ms', '--config', cfg, '--state-dir', join(dir, 'state')],
      apiEnv(sb.url),
    );
    expect(flag.code).toBe(0);
    expect(flag.stderr).toContain('a file is taken once it has not changed for 7 ms');
    // the other commands take the file as it is
    const v = await runCli(['validate', join(inbox, 'done', 'june.csv'), '--config', cfg], apiEnv(sb.url));
    expect(v.code).toBe(0);
    const j = await runCli(['jobs', '--config', cfg, '--state-dir', join(dir, 'state')]);
    expect(j.code).toBe(0);
  });

  it('still refuses a key no command knows, naming the key and the file', async () => {
    const dir = tempDir();
    const cfg = join(dir, 'night.json');
    writeFileSync(cfg, JSON.stringify({ settle: '5s', setle: '5s' }));
    const r = await runCli(['jobs', '--config', cfg, '--state-dir', dir]);
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toContain('"setle"');
    expect(r.stderr).toContain(cfg);
  });

  it("refuses an own option's value of the wrong kind, naming the key and the file, never quoting it", async () => {
    const dir = tempDir();
    const cfg = join(dir, 'sb.json');
    writeFileSync(cfg, JSON.stringify({ port: 'secret-abc' }));
    const r = await runCli(['sandbox', '--config', cfg]);
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toContain(`--config ${cfg}: "port" is not a whole number from 0 to 65535`);
    expect(r.stderr).toContain('0 to 65535');
    expect(r.stderr).not.toContain('secret-abc');
  });
});

describe('an own option of the wrong kind in the file', () => {
  it.each([
    [{ settle: 5 }, '"settle" has no unit (ms, s, m, h or d): write it like "settle": "5s"'],
    [{ once: 'maybe' }, '"once" is not true or false: write it like "once": true'],
  ])('%j: watch refuses it naming the key and the file; --help still answers', async (content, text) => {
    const dir = tempDir();
    const cfg = join(dir, 'watch.json');
    writeFileSync(cfg, JSON.stringify(content));
    const r = await runCli(['watch', dir, '--config', cfg], apiEnv(sb.url));
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toContain(`--config ${cfg}: ${text}`);
    const help = await runCli(['watch', '--help', '--config', cfg]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--settle');
  });
});

describe('a stray extra argument', () => {
  it.each([
    [['validate', 'a.csv', 'extra.csv'], 'validate takes one CSV file; got 2: a.csv extra.csv'],
    [['run', '--out', 'r.csv', 'a.csv', 'b c.csv'], 'run takes one CSV file; got 2: a.csv "b c.csv"'],
    [['status', 'job-1', 'job-2'], "status takes one job name (or the job's input CSV); got 2: job-1 job-2"],
    [['watch', 'in', '--once', 'more'], 'watch takes one folder; got 2: in more'],
    [['jobs', 'x.csv'], 'jobs takes no file or name; got 1: x.csv'],
    [
      ['--config', 'night.json', 'validate', 'a.csv', 'b.csv'],
      'validate takes one CSV file; got 2: a.csv b.csv',
    ],
  ])('%j is one plain line, exit 2, nothing sent', async (args, line) => {
    const requests = sb.stats().requests;
    const r = await runCli(args, apiEnv(sb.url));
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`error: ${line}`);
    expect(sb.stats().requests).toBe(requests);
  });
});

describe('a yes/no option before the command (a cron line)', () => {
  it('--quiet, --json, --debug, --no-bom before the command word act as after it', async () => {
    const extra = await runCli(['--quiet', 'validate', 'a.csv', 'extra.csv'], apiEnv(sb.url));
    expect(extra.code).toBe(2);
    expect(extra.stderr.trim()).toBe('error: validate takes one CSV file; got 2: a.csv extra.csv');
    const state = join(tempDir(), 'state');
    const jobs = await runCli(['--json', '--debug', 'jobs', '--state-dir', state]);
    expect(jobs.code).toBe(0);
    expect(JSON.parse(jobs.stdout)).toEqual(
      JSON.parse((await runCli(['jobs', '--json', '--state-dir', state])).stdout),
    );
    const dir = tempDir();
    const { path } = writeBatch(dir, 2);
    const before = sb.ledger().length;
    const run = await runCli(
      ['--quiet', '--no-bom', 'run', path, ...fastArgs(join(dir, 'state'))],
      apiEnv(sb.url),
    );
    expect(run.code).toBe(0);
    expect(sb.ledger().length).toBe(before + 2);
  });
});

describe("sandbox's numbers", () => {
  it.each([
    [['--port', 'abc'], '--port "abc" is not a whole number from 0 to 65535'],
    [['--drop-rate', '2'], '--drop-rate "2" is not a number from 0 to 1: write it like --drop-rate 0.05'],
    [['--fail-rate', '-0.5'], '--fail-rate "-0.5" is not a number from 0 to 1'],
    [['--balance', 'lots'], '--balance "lots" is not a number ≥ 0'],
    [['--webhook-duplicates', '1.5'], '--webhook-duplicates "1.5" is not a whole number from 0 to 100'],
  ])('%j names the option as typed, the value and the range', async (args, text) => {
    const r = await runCli(['sandbox', ...args]);
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toContain(text);
    expect(r.stderr).not.toMatch(/NaN|dropRate|failRate/);
  });
});

describe('the input file is heard before the key', () => {
  it.each([['run'], ['validate']])('%s of a missing file without a key: the file, exit 2', async (cmd) => {
    const dir = tempDir();
    const r = await runCli([cmd, join(dir, 'missing.csv'), '--state-dir', dir]);
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toContain('missing.csv does not exist');
    expect(r.stderr).not.toContain('API key');
  });

  it('status/resume/retry of a job that does not exist, and watch of a missing folder: not the key', async () => {
    const dir = tempDir();
    for (const args of [
      ['resume', 'nope'],
      ['retry', 'nope'],
      ['status', 'nope'],
      ['watch', join(dir, 'in')],
    ]) {
      const r = await runCli([...args, '--state-dir', dir]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).not.toContain('API key');
      expect(r.stderr).toMatch(/no job named nope|no such folder/);
    }
  });
});

describe('an API key that cannot be sent', () => {
  it.each([
    ['a line break', 'test-key\n-7f3a9c1e5b'],
    ['the character U+0001', 'test-key\u0001-7f3a9c1e5b'],
  ])('holding %s is one line giving its position, exit 2, nothing sent', async (what, key) => {
    const dir = tempDir();
    const { path } = writeBatch(dir, 2);
    const requests = sb.stats().requests;
    for (const args of [['balance'], ['run', path, ...fastArgs(join(dir, 'state'))]]) {
      const r = await runCli(args, { ALSAMIFLEXI_API_KEY: key, ALSAMIFLEXI_BASE_URL: sb.url });
      expect(r.code).toBe(2);
      oneLine(r.stderr);
      expect(r.stderr).toContain(
        `the API key contains a character that cannot be sent (${what} at character 9`,
      );
      expect(r.stderr).not.toContain('reach');
      expect(r.stderr + r.stdout).not.toContain('test-key');
    }
    expect(sb.stats().requests).toBe(requests);
  });
});

describe('--json keeps the hint of the human line', () => {
  it('a base URL without /api/v1: the JSON error carries the same hint', async () => {
    const dir = tempDir();
    const { path } = writeBatch(dir, 2);
    const base = sb.url.replace(/\/api\/v1$/, '');
    const env = { ALSAMIFLEXI_API_KEY: KEY, ALSAMIFLEXI_BASE_URL: base };
    const human = await runCli(['run', path, ...fastArgs(join(dir, 'state'))], env);
    const json = await runCli(['run', path, ...fastArgs(join(dir, 'state')), '--json'], env);
    expect(human.code).toBe(3);
    expect(json.code).toBe(3);
    const hint = `--base-url should end in /api/v1 (it is ${base})`;
    expect(human.stderr).toContain(hint);
    const out = JSON.parse(json.stdout) as { error: { hint?: string } };
    expect(out.error.hint).toContain(hint);
  });

  it('nothing listening at the base URL: both say to check the network and the base URL', async () => {
    const dir = tempDir();
    const { path } = writeBatch(dir, 2);
    const base = 'http://127.0.0.1:1/api/v1'; // port 1: nothing listens there
    const env = { ALSAMIFLEXI_API_KEY: KEY, ALSAMIFLEXI_BASE_URL: base };
    const args = ['run', path, ...fastArgs(join(dir, 'state'))];
    const human = await runCli(args, env);
    const json = await runCli([...args, '--json'], env);
    expect(human.code).toBe(3);
    expect(json.code).toBe(3);
    const hint = `check the network and the base URL (it is ${base}; --base-url or ALSAMIFLEXI_BASE_URL)`;
    expect(human.stderr.trim().split('\n')).toHaveLength(1);
    expect(human.stderr).toContain(hint);
    const out = JSON.parse(json.stdout) as { error: { code: string; hint?: string } };
    expect(out.error).toMatchObject({ code: 'API_UNREACHABLE', hint });
  });
});

describe('an API that does not answer in time at start-up', () => {
  it('exit 3, one line, nothing sent, and the hint says what to check or to allow longer', async () => {
    const slow = await startSandbox({ apiKey: KEY, rateLimit: null, latencyMs: 5_000 });
    try {
      const dir = tempDir();
      const { path } = writeBatch(dir, 2);
      const args = ['run', path, '--state-dir', join(dir, 'state'), '--request-timeout', '100ms'];
      const human = await runCli(args, apiEnv(slow.url));
      expect(human.code).toBe(3);
      expect(human.stderr.trim().split('\n')).toHaveLength(1);
      expect(human.stderr).toContain('within 100 ms');
      expect(human.stderr).toContain(
        `check the network and the base URL (it is ${slow.url}; --base-url or ALSAMIFLEXI_BASE_URL), or give the API longer with --request-timeout`,
      );
      expect(slow.ledger()).toHaveLength(0);
    } finally {
      await slow.close();
    }
  });
});

describe('each output named by its kind', () => {
  it('report --help names the unknown CSV it writes; an unknown CSV fed to run is called one', async () => {
    const help = await runCli(['report', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/results CSV, the failed CSV and \(when rows are unknown\) the unknown CSV/);
    const dir = tempDir();
    const path = join(dir, 'june.unknown.csv');
    writeFileSync(
      path,
      'Name,Mobile,row,normalized_number,amount,reference,transaction_id,error_code,error_message,submitted_at\n' +
        'A,01711111111,1,01711111111,100,r1,TX1,NO_ANSWER,no answer,2026-01-01T00:00:00Z\n',
    );
    const paid = sb.ledger().length;
    const r = await runCli(['run', path, ...fastArgs(join(dir, 'state'))], apiEnv(sb.url));
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toContain('is an unknown CSV written by recharge-batch');
    expect(r.stderr).not.toContain('results');
    expect(sb.ledger()).toHaveLength(paid);
  });
});

describe('status of a stopped job', () => {
  it('gives the ETA at the rate the job ran at, not the default plan status is given', async () => {
    const poor = await startSandbox({ apiKey: KEY, rateLimit: '6000/min', balance: 10 });
    try {
      const dir = tempDir();
      const { path } = writeBatch(dir, 10);
      const state = join(dir, 'state');
      // 6000/min and a 150 ms first poll; the balance is short, so it stops with every row pending
      const r = await runCli(['run', path, ...fastArgs(state), '--json'], apiEnv(poor.url));
      expect(r.code).toBe(4);
      expect(poor.ledger()).toHaveLength(0);
      const { job } = JSON.parse(r.stdout) as { job: string };
      // status with no rate at all: the starter plan (60/min, 15s) would say 35 s for 10 rows
      const s = await runCli(['status', job, '--state-dir', state, '--json']);
      expect(s.code).toBe(0);
      const { eta_seconds, counts } = JSON.parse(s.stdout) as {
        eta_seconds: number;
        counts: { pending: number };
      };
      expect(counts.pending).toBe(10);
      // 10 rows × 2 requests at 6000/min (+2 %) + the 150 ms first poll: under a second
      expect(eta_seconds).toBe(1);
      const human = await runCli(['status', job, '--state-dir', state]);
      expect(human.stdout).toContain('ETA about 1s at the rate it last ran at');
    } finally {
      await poor.close();
    }
  });

  it('says why its last run stopped (for a cron script: status --json `stop`), and no more once a run finishes it', async () => {
    const poor = await startSandbox({ apiKey: KEY, rateLimit: null, balance: 10 });
    try {
      const dir = tempDir();
      const { path } = writeBatch(dir, 3);
      const state = join(dir, 'state');
      const r = await runCli(['run', path, ...fastArgs(state), '--json'], apiEnv(poor.url));
      expect(r.code).toBe(4);
      const { job } = JSON.parse(r.stdout) as { job: string };
      const s = await runCli(['status', job, '--state-dir', state, '--json']);
      const { state: st, stop } = JSON.parse(s.stdout) as {
        state: string;
        stop: { code: string; message: string; at: string } | null;
      };
      expect(st).toBe('stopped');
      expect(stop?.code).toBe('INSUFFICIENT_BALANCE');
      expect(stop?.message).toContain('top up');
      expect(Number.isNaN(Date.parse(stop!.at))).toBe(false);
      const human = await runCli(['status', job, '--state-dir', state]);
      expect(human.stdout).toMatch(/^ {2}last run stopped at \S+: .*top up.* \[INSUFFICIENT_BALANCE\]$/m);

      poor.setBalance(1_000_000);
      const resumed = await runCli(['resume', job, ...fastArgs(state)], apiEnv(poor.url));
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(poor.ledger()).toHaveLength(3);
      const after = JSON.parse((await runCli(['status', job, '--state-dir', state, '--json'])).stdout) as {
        state: string;
        stop: unknown;
      };
      expect(after).toMatchObject({ state: 'finished', stop: null });
      expect((await runCli(['status', job, '--state-dir', state])).stdout).not.toContain('last run stopped');
    } finally {
      await poor.close();
    }
  });
});
