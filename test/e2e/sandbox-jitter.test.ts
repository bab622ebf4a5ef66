import { afterEach, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { KEY, runCli, startCli } from './helpers.js';

/** `recharge-batch sandbox --arrival-jitter`: the CLI wiring of the sandbox's arrivalJitterMs (SPEC §6). */
let children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'close');
    }
  }
  children = [];
});

describe('sandbox --arrival-jitter', () => {
  it('is listed in sandbox --help', async () => {
    const r = await runCli(['sandbox', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--arrival-jitter\s+delay each request a random 0\.\.this before it arrives/);
  });

  it('a bad value is one clear line and exit 2, nothing served', async () => {
    const r = await runCli(['sandbox', '--port', '0', '--arrival-jitter', 'fast']);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      'error: --arrival-jitter "fast" is not a duration (a number with ms, s, m, h or d): write it like --arrival-jitter 15s',
    );
    expect(r.stdout).not.toContain('listening');
  });

  it('serves with jitter: every request still arrives, is counted once and answered', async () => {
    const { child } = startCli([
      'sandbox',
      '--port',
      '0',
      '--api-key',
      KEY,
      '--arrival-jitter',
      '40ms',
      '--rate-limit',
      '3/min',
      '--window',
      'sliding',
    ]);
    children.push(child);
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on('close', () => reject(new Error(`sandbox exited: ${out}`)));
    });
    const auth = { Authorization: `Bearer ${KEY}` };
    const statuses = await Promise.all(
      Array.from({ length: 5 }, () => fetch(`${url}/balance`, { headers: auth }).then((r) => r.status)),
    );
    // whatever order the jitter let them arrive in, the limit took 3 and refused 2
    expect(statuses.filter((s) => s === 200)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(2);
    const stats = await fetch(`${new URL(url).origin}/__sandbox/stats`, { headers: auth }).then((r) =>
      r.json(),
    );
    expect(stats).toMatchObject({ requests: 5, rateLimited: 2 });
  });
});
