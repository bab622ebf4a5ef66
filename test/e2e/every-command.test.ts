/**
 * One rule on every command, as a new user meets it: an API key that cannot be sent is refused
 * with the same line whatever the command (sandbox included); `--` ends the options, so a file
 * whose name starts with `--` can be named; every `--json` object carries `exit_code`. Money is
 * judged by the sandbox's ledger and request count.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { KEY, apiEnv, fastArgs, runCli, startCli, tempDir, writeBatch } from './helpers.js';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ apiKey: KEY, rateLimit: '6000/min', completeAfterMs: 50 });
});
afterAll(async () => {
  await sb.close();
});

const OPERATORS = join(process.cwd(), 'fixtures/operators.json');

describe('an API key that cannot be sent', () => {
  const keyCommands = COMMANDS.filter((c) => c.uses.includes('api-key') && c.command !== 'sandbox');
  const line = (what: string, at: number, of: number) =>
    `error: the API key contains a character that cannot be sent (${what} at character ${at} of ${of}); set ALSAMIFLEXI_API_KEY again without it — nothing was sent`;

  it.each([
    ['a line break', 'abc\ndef', line('a line break', 4, 7)],
    ['a non-Latin-1 character', 'abc\u2019def', line('the character U+2019', 4, 7)],
  ])(
    'holding %s: every command that takes a key says so first, exit 2, nothing sent',
    async (_, key, text) => {
      expect(keyCommands.map((c) => c.command.split(' ')[0]).sort()).toEqual(
        ['balance', 'operators', 'report', 'resume', 'retry', 'run', 'validate', 'watch'].sort(),
      );
      const dir = tempDir();
      const { path } = writeBatch(dir, 2);
      const requests = sb.stats().requests;
      const paid = sb.ledger().length;
      for (const c of keyCommands) {
        const name = c.command.split(' ')[0]!;
        const positional = c.command.includes('<csv>') ? [path] : c.command.includes('<dir>') ? [dir] : [];
        const job = c.command.includes('<job>') ? ['no-such-job'] : [];
        const r = await runCli([name, ...positional, ...job, '--state-dir', join(dir, 'state')], {
          ...apiEnv(sb.url),
          ALSAMIFLEXI_API_KEY: key,
        });
        expect([name, r.code, r.stderr.trim()]).toEqual([name, 2, text]);
      }
      expect(sb.stats().requests).toBe(requests);
      expect(sb.ledger()).toHaveLength(paid);
    },
  );

  it('report of a real job with such a key: the key line, not "another account"', async () => {
    const dir = tempDir();
    const { path } = writeBatch(dir, 2);
    const state = join(dir, 'state');
    const ran = await runCli(['run', path, ...fastArgs(state), '--json'], apiEnv(sb.url));
    expect(ran.code).toBe(0);
    const job = (JSON.parse(ran.stdout) as { job: string }).job;
    const r = await runCli(['report', job, '--state-dir', state], {
      ...apiEnv(sb.url),
      ALSAMIFLEXI_API_KEY: `${KEY}\u00a0\u200b`,
    });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(line('the character U+200B', KEY.length + 2, KEY.length + 2));
    expect(r.stderr).not.toContain('account');
  });

  it('sandbox --api-key with one refuses to start, with the same line', async () => {
    const { child, done } = startCli(['sandbox', '--port', '0', '--api-key', 'abc\ndef']);
    // if it wrongly starts it says so on stdout: stop it then, and the assertions below fail
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('listening')) child.kill('SIGKILL');
    });
    const r = await done;
    expect(r.stdout).toBe('');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(line('a line break', 4, 7));
  });
});

describe('-- ends the options', () => {
  it('run -- --weird.csv pays the file named --weird.csv, once', async () => {
    const dir = tempDir();
    writeBatch(dir, 3, '--weird.csv');
    const before = sb.ledger().length;
    const r = await runCli(
      ['run', ...fastArgs(join(dir, 'state')), '--json', '--', '--weird.csv'],
      apiEnv(sb.url),
      dir,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(sb.ledger().length).toBe(before + 3);
    expect((JSON.parse(r.stdout) as { results: string }).results).toBe(join(dir, '--weird.results.csv'));
  });

  it.each([
    [['validate', '--operators', OPERATORS, '--', '--weird.csv']],
    [['validate', '--', '--weird.csv']],
    [['--debug', 'validate', '--operators', OPERATORS, '--', '--weird.csv']],
    [['--operators', OPERATORS, '--', 'validate', '--weird.csv']],
  ])('%j validates --weird.csv', async (args) => {
    const dir = tempDir();
    writeBatch(dir, 2, '--weird.csv');
    const r = await runCli(args, { RECHARGE_BATCH_OPERATORS: OPERATORS }, dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2 rows, 2 valid, 0 invalid');
  });

  it('what follows -- is never an option: --json there is a second file, not JSON output', async () => {
    const requests = sb.stats().requests;
    const r = await runCli(['validate', '--', 'a.csv', '--json'], apiEnv(sb.url));
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('error: validate takes one CSV file; got 2: a.csv --json');
    expect(r.stdout).toBe('');
    const help = await runCli(['run', '--', '--help'], apiEnv(sb.url), tempDir());
    expect(help.code).toBe(2);
    expect(help.stderr).toContain('--help');
    expect(help.stdout).toBe('');
    expect(sb.stats().requests).toBe(requests);
  });

  it('-- with no command after it is a usage error, never a silent exit 0', async () => {
    const r = await runCli(['--', '--weird.csv'], apiEnv(sb.url));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('name a command');
  });
});

describe('--json of every command that summarises a job carries exit_code', () => {
  it('run, status, report and jobs', async () => {
    const dir = tempDir();
    const { path } = writeBatch(dir, 2);
    const state = join(dir, 'state');
    const before = sb.ledger().length;
    const run = await runCli(['run', path, ...fastArgs(state), '--json'], apiEnv(sb.url));
    expect(sb.ledger().length).toBe(before + 2);
    const job = (JSON.parse(run.stdout) as { job: string }).job;
    for (const args of [['status', job], ['report', job], ['jobs']]) {
      const r = await runCli([...args, '--state-dir', state, '--json'], apiEnv(sb.url));
      expect([args[0], r.code, (JSON.parse(r.stdout) as { exit_code?: number }).exit_code]).toEqual([
        args[0],
        0,
        0,
      ]);
    }
    expect((JSON.parse(run.stdout) as { exit_code: number }).exit_code).toBe(0);
    // nothing paid again by reading the job back
    expect(sb.ledger().length).toBe(before + 2);
  });
});
