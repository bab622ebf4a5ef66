/**
 * A config file's mistakes, as a cron engineer meets them (SPEC §2, §5 additions): a bad value
 * names the file and the key as written there, with the same line shape as a flag or a variable,
 * never quoting the file's value; a file from RECHARGE_BATCH_CONFIG is called that; numbers and
 * yes/no written as text are read the same for every option; a file cannot name another. Each
 * refusal is one line, exit 2, nothing sent (the sandbox's request count and ledger).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { KEY, apiEnv, fastArgs, runCli, startCli, tempDir, writeBatch } from './helpers.js';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ apiKey: KEY, rateLimit: '6000/min', completeAfterMs: 50 });
});
afterAll(async () => {
  await sb.close();
});

function config(content: unknown, name = 'recharge-batch.json'): string {
  const path = join(tempDir(), name);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

/** Runs the command, and checks it refused with one line and sent nothing. */
async function refused(args: string[], env: Record<string, string> = {}): Promise<string> {
  const requests = sb.stats().requests;
  const r = await runCli(args, { ...apiEnv(sb.url), ...env });
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(sb.stats().requests).toBe(requests);
  return r.stderr.trim();
}

describe('a bad value in a config file', () => {
  it('"window": "bogus" (a sandbox choice) names the file and the key; the sandbox does not start', async () => {
    const cfg = config({ window: 'bogus' });
    const { child, done } = startCli(['sandbox', '--port', '0', '--config', cfg]);
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('listening')) child.kill('SIGKILL');
    });
    const r = await done;
    expect(r.stdout).toBe('');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      `error: --config ${cfg}: "window" is not one of fixed, sliding: write it like "window": "fixed"`,
    );
  });

  it.each([
    [
      { 'rate-limit': 'fast' },
      '"rate-limit" is not a rate (N/s, N/min or N/h): write it like "rate-limit": "60/min"',
    ],
    [{ 'request-timeout': 'soon' }, '"request-timeout" is not a duration (a number with ms, s, m, h or d)'],
    [{ 'max-wait': 300 }, '"max-wait" has no unit (ms, s, m, h or d): write it like "max-wait": "5m"'],
    [
      { plan: 'gold' },
      '"plan" is not a plan (starter, business or enterprise): write it like "plan": "business"',
    ],
    [{ redis: ['x'] }, '"redis" is not text'],
  ])('%j: balance names the file and the key, never the value, sends nothing', async (content, text) => {
    const cfg = config(content);
    const line = await refused(['balance', '--config', cfg]);
    expect(line).toContain(`error: --config ${cfg}: ${text}`);
    for (const v of Object.values(content).flat()) expect(line).not.toContain(`"${String(v)}"`);
  });

  it('has the same shape as the flag and the variable with that value', async () => {
    const dir = tempDir();
    const { path } = writeBatch(dir, 2);
    const cfg = config({ concurrency: 'lots' });
    const args = ['run', path, '--state-dir', join(dir, 'state')];
    expect(await refused([...args, '--concurrency', 'lots'])).toBe(
      'error: --concurrency "lots" is not a number: write it like --concurrency 4',
    );
    expect(await refused(args, { RECHARGE_BATCH_CONCURRENCY: 'lots' })).toBe(
      'error: RECHARGE_BATCH_CONCURRENCY="lots" is not a number: write it like RECHARGE_BATCH_CONCURRENCY=4',
    );
    expect(await refused([...args, '--config', cfg])).toBe(
      `error: --config ${cfg}: "concurrency" is not a number: write it like "concurrency": 4`,
    );
  });
});

describe('a value checked later (the webhook address) is named in the file too', () => {
  it('"webhook-listen": "nope" on run: the file and the key, before anything is sent', async () => {
    const dir = tempDir();
    const { path } = writeBatch(dir, 2);
    const cfg = config({ 'webhook-listen': 'nope' });
    expect(await refused(['run', path, '--state-dir', join(dir, 'state'), '--config', cfg])).toBe(
      `error: --config ${cfg}: "webhook-listen" is not HOST:PORT: write it like "webhook-listen": "0.0.0.0:8081"`,
    );
  });
});

describe('a config file from RECHARGE_BATCH_CONFIG', () => {
  it('is named as that, not as --config, with the way out that fits it', async () => {
    const cfg = config({ plan: 'gold' });
    expect(await refused(['balance'], { RECHARGE_BATCH_CONFIG: cfg })).toBe(
      `error: the config file ${cfg} (from RECHARGE_BATCH_CONFIG): "plan" is not a plan (starter, business or enterprise): write it like "plan": "business"`,
    );
    const missing = join(tempDir(), 'gone.json');
    expect(await refused(['balance'], { RECHARGE_BATCH_CONFIG: missing })).toBe(
      `error: the config file ${missing} (from RECHARGE_BATCH_CONFIG): there is no such file; check the name and folder, or unset RECHARGE_BATCH_CONFIG`,
    );
    // a command's own option too (the sandbox stops itself if it wrongly starts)
    const sbFile = config({ balance: 'lots' });
    const { child, done } = startCli(['sandbox', '--port', '0'], { RECHARGE_BATCH_CONFIG: sbFile });
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('listening')) child.kill('SIGKILL');
    });
    const own = await done;
    expect(own.code).toBe(2);
    expect(own.stderr.trim()).toBe(
      `error: the config file ${sbFile} (from RECHARGE_BATCH_CONFIG): "balance" is not a number ≥ 0: write it like "balance": 50000`,
    );
  });
});

describe('numbers and yes/no written as text', () => {
  it('are read for every option alike: "once": "true" as "concurrency": "2" and "port": "8081"', async () => {
    const dir = tempDir();
    const inbox = join(dir, 'in');
    mkdirSync(inbox);
    writeBatch(inbox, 2, 'june.csv');
    const cfg = config({ once: 'true', settle: '10ms', concurrency: '2', 'allow-partial': 'no' });
    const before = sb.ledger().length;
    const w = await runCli(
      ['watch', inbox, '--config', cfg, ...fastArgs(join(dir, 'state'))],
      apiEnv(sb.url),
    );
    expect(w.stderr).toBe('');
    expect(w.code).toBe(0);
    expect(sb.ledger().length).toBe(before + 2);
  });

  it('text that is not one is refused with the same advice, for a shared and an own option', async () => {
    const dir = tempDir();
    const shared = config({ 'allow-partial': 'maybe' });
    expect(await refused(['watch', dir, '--once', '--config', shared])).toBe(
      `error: --config ${shared}: "allow-partial" is not true or false: write it like "allow-partial": true`,
    );
    const own = config({ once: 'maybe' });
    expect(await refused(['watch', dir, '--config', own])).toBe(
      `error: --config ${own}: "once" is not true or false: write it like "once": true`,
    );
  });
});

describe('a "config" key in a config file', () => {
  it('is refused: a file cannot name another one', async () => {
    const cfg = config({ config: 'other.json', plan: 'business' });
    expect(await refused(['jobs', '--config', cfg])).toBe(
      `error: --config ${cfg}: "config" cannot name another config file; put its options in this one, or leave that key out`,
    );
  });
});
