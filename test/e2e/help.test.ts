/** Each command's --help lists the options it uses and no others (SPEC §2), its own first. */
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands.js';
import { OPTIONS } from '../../src/config.js';
import { runCli, tempDir } from './helpers.js';

/** The long options a help text lists, in order (`--help`/`--version` aside). */
function listed(help: string): string[] {
  // an option starts a line indented a little; a wrapped description is indented further
  return [...help.matchAll(/^ {2,6}(?:-\w, )?--([\w-]+)/gm)]
    .map((m) => m[1]!)
    .filter((n) => n !== 'help' && n !== 'version');
}

describe('--help of each command', () => {
  it.each(COMMANDS.map((c) => [c.command.split(' ')[0]!, c.uses] as const))(
    '%s lists the shared options it uses, and no other shared option',
    async (name, uses) => {
      const r = await runCli([name, '--help']);
      expect(r.code).toBe(0);
      const shared = r.stdout.slice(r.stdout.indexOf('Options (flag > environment'));
      expect([...listed(shared)].sort()).toEqual([...uses].sort());
      // and no shared option it does not use, in any group
      const unused = Object.keys(OPTIONS).filter((n) => !(uses as readonly string[]).includes(n));
      const own = r.stdout.slice(0, r.stdout.indexOf('Options (flag > environment'));
      // (sandbox's own --rate-limit is the limit it enforces, not the client's)
      expect(listed(own).filter((n) => unused.includes(n))).toEqual(name === 'sandbox' ? ['rate-limit'] : []);
    },
  );

  it.each(COMMANDS.filter((c) => c.command.includes('<')).map((c) => [c.command] as const))(
    '%s shows its positional, as run <csv> does',
    async (form) => {
      const [name, positional] = [form.split(' ')[0]!, /<(\w+)>/.exec(form)![1]!];
      const r = await runCli([name, '--help']);
      expect(r.code).toBe(0);
      const section = r.stdout.slice(r.stdout.indexOf('Positionals:'));
      expect(r.stdout).toContain('Positionals:');
      expect(section).toMatch(new RegExp(`^  ${positional}  \\S`, 'm'));
    },
  );

  it('balance has no --poll-every, validate no --concurrency, status no --api-key', async () => {
    expect(listed((await runCli(['balance', '--help'])).stdout)).not.toContain('poll-every');
    const validate = listed((await runCli(['validate', '--help'])).stdout);
    expect(validate).not.toContain('concurrency');
    expect(validate).toEqual(expect.arrayContaining(['operators', 'map', 'out', 'api-key']));
    expect(listed((await runCli(['status', '--help'])).stdout)).not.toContain('api-key');
    expect(listed((await runCli(['run', '--help'])).stdout)).toEqual(
      expect.arrayContaining(['concurrency', 'poll-every', 'reference-dedup', 'job', 'map']),
    );
  });

  it('sandbox shows its own options first, then the shared ones it uses (the key)', async () => {
    const r = await runCli(['sandbox', '--help']);
    const own = r.stdout.indexOf('Options of sandbox:');
    const shared = r.stdout.indexOf('Options (flag > environment');
    expect(own).toBeGreaterThan(-1);
    expect(shared).toBeGreaterThan(own);
    const ownPart = listed(r.stdout.slice(own, shared));
    expect(ownPart.slice(0, 3)).toEqual(['port', 'host', 'balance']);
    expect(ownPart).toContain('fault-echo-key');
    expect(listed(r.stdout.slice(shared))).toEqual(['api-key', 'config', 'debug']);
  });

  it('retry and watch list their own options first too', async () => {
    const retry = (await runCli(['retry', '--help'])).stdout;
    expect(retry.indexOf('--include-unknown')).toBeLessThan(retry.indexOf('--api-key'));
    const watch = (await runCli(['watch', '--help'])).stdout;
    expect(listed(watch).slice(0, 2)).toEqual(['once', 'settle']);
    expect(listed(watch)).not.toContain('job'); // refused there: each file gets its own
  });
});

describe('a shared option a command does not use', () => {
  it('is accepted and ignored on the command line, and in the environment or a config file', async () => {
    const home = tempDir();
    const ignored = await runCli(
      ['jobs', '--poll-every', 'soon', '--concurrency', '0', '--plan', 'platinum'],
      {
        HOME: home,
      },
    );
    expect(ignored.code).toBe(0);
    expect(ignored.stdout).toContain('no jobs in');
    const env = await runCli(['jobs'], {
      HOME: home,
      RECHARGE_BATCH_PLAN: 'platinum',
      RECHARGE_BATCH_POLL_AFTER: '5',
    });
    expect(env.code).toBe(0);
    // the same value is refused by a command that uses it
    const used = await runCli(['status', 'x'], { HOME: home, RECHARGE_BATCH_POLL_AFTER: '5' });
    expect(used.code).toBe(2);
    expect(used.stderr.trim()).toBe(
      'error: RECHARGE_BATCH_POLL_AFTER="5" has no unit (ms, s, m, h or d): write it like RECHARGE_BATCH_POLL_AFTER=5s',
    );
  });
});
