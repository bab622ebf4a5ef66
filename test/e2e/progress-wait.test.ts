/**
 * SPEC §5 additions: while the API has asked us to wait, the progress line says so and until
 * when, instead of an ETA. A real pseudo-terminal (util-linux `script`); the API asks for an
 * hour, so the line is there for as long as the test looks, and a SIGTERM ends the run.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, KEY, apiEnv, tempDir, writeBatch } from './helpers.js';
import { startHostile, type Hostile } from '../support/hostile.js';

let server: Hostile | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('progress while the API makes us wait', () => {
  it('the status line shows "waiting for the API until HH:MM:SS"; SIGTERM then stops the run (exit 4)', async () => {
    server = await startHostile({
      key: KEY,
      recharge: () => ({
        status: 429,
        body: { success: false, error: { code: 'RATE_LIMIT_EXCEEDED', message: 'later' } },
        headers: { 'retry-after': '3600' },
      }),
    });
    const dir = tempDir();
    const { path } = writeBatch(dir, 3);
    const args = [
      'run',
      path,
      '--state-dir',
      join(dir, 'state'),
      '--rate-limit',
      '6000/min',
      '--max-wait',
      '2h',
    ];
    const cmd = [process.execPath, CLI, ...args].map((a) => `'${a}'`).join(' ');
    const p = spawn('script', ['-qefc', `stty cols 120 rows 24; exec ${cmd}`, '/dev/null'], {
      env: { ...process.env, ...apiEnv(server.url) },
    });
    let text = '';
    const seen = new Promise<void>((resolve) =>
      p.stdout.on('data', (d: Buffer) => {
        text += d.toString();
        if (/waiting for the API until \d\d:\d\d:\d\d/.test(text)) resolve();
      }),
    );
    const closed = new Promise<number | null>((resolve) => p.on('close', (code) => resolve(code)));
    await seen;
    // the CLI is the child of `script` (exec'd by its shell): signal exactly that process
    const child = Number(
      readFileSync(`/proc/${p.pid}/task/${p.pid}/children`, 'utf8').trim().split(/\s+/)[0],
    );
    expect(child).toBeGreaterThan(0);
    process.kill(child, 'SIGTERM');
    expect(await closed).toBe(4);
    expect(server.ledger).toHaveLength(0);
    expect(text).not.toContain(KEY);
  }, 60_000);
});
