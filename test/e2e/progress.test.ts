/**
 * SPEC §7, what the operator sees: on a terminal a redrawn status line (bar, done/total, counts,
 * rate, ETA); off a terminal at most one plain line every 10 s; with --quiet nothing.
 * The terminal is a real pseudo-terminal from util-linux `script`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { CLI, KEY, apiEnv, runCli, tempDir, writeBatch } from './helpers.js';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ apiKey: KEY, rateLimit: null, completeAfterMs: 300, balance: 1e9 });
});
afterAll(async () => {
  await sb.close();
});

const slowArgs = (state: string) => [
  '--state-dir',
  state,
  '--rate-limit',
  '600/min',
  '--poll-after',
  '300ms',
  '--poll-every',
  '200ms',
];

describe('progress output', () => {
  it('on a terminal: one status line redrawn in place with bar, done/total, counts, rate and ETA', async () => {
    const dir = tempDir();
    const { path } = writeBatch(dir, 20);
    const cmd = [process.execPath, CLI, 'run', path, ...slowArgs(join(dir, 'state'))]
      .map((a) => `'${a}'`)
      .join(' ');
    const out = await new Promise<string>((resolve) => {
      const p = spawn('script', ['-qefc', `stty cols 80 rows 24; exec ${cmd}`, '/dev/null'], {
        env: { ...process.env, ...apiEnv(sb.url) },
      });
      let text = '';
      p.stdout.on('data', (d: Buffer) => (text += d.toString()));
      p.on('close', () => resolve(text));
    });
    const redraws = out.split('\r\x1b[2K').filter((s) => /\[[#.]{20}\] \d+\/20 done/.test(s));
    expect(redraws.length).toBeGreaterThan(3);
    // an 80-column terminal: the line is cut to fit, and the essentials come first
    expect(redraws[0]).toMatch(/^\[\.{20}\] 0\/20 done \| up to 600\/min \| ETA \d+s \| pending 20/);
    expect(redraws.at(-1)).toMatch(
      /^\[[#.]{20}\] \d+\/20 done \| (up to 600\/min|\d+\/min sent) \| ETA \S+ \| completed \d+/,
    );
    expect(redraws.every((l) => l.split('\r')[0]!.length <= 79)).toBe(true);
    expect(out).toContain('20 rows — 20 completed');
    expect(out).not.toContain(KEY);
  });

  it("watch shows the rate as given, like run: up to 600/min, not the limiter's 588 (its 2 % margin)", async () => {
    const dir = tempDir();
    const inbox = join(dir, 'incoming');
    mkdirSync(inbox);
    writeBatch(inbox, 3);
    const r = await runCli(
      ['watch', inbox, '--once', '--settle', '0', ...slowArgs(join(dir, 'state'))],
      apiEnv(sb.url),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^batch-[0-9a-f]{8} \[\.{20}\] 0\/3 done \| up to 600\/min \| /m);
  });

  it('off a terminal: a plain line at most every 10 s, and nothing at all with --quiet', async () => {
    const dir = tempDir();
    const { path } = writeBatch(dir, 20);
    const r = await runCli(['run', path, ...slowArgs(join(dir, 'state'))], apiEnv(sb.url));
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('\r');
    expect(r.stderr).not.toContain('\x1b[');
    // the start line and the first progress line at once (with an ETA from the limiter's pace);
    // later lines, if the machine is slow enough for any, are the same plain kind
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^starting job batch-[0-9a-f]{8}: 20 rows to send$/);
    expect(lines[1]).toMatch(
      /^batch-[0-9a-f]{8} \[\.{20}\] 0\/20 done \| up to 600\/min \| ETA \d+s \| pending 20$/,
    );
    for (const l of lines.slice(2)) expect(l).toMatch(/^batch-[0-9a-f]{8} \[[#.]{20}\] \d+\/20 done \| /);
    const dir2 = tempDir();
    const quiet = await runCli(
      ['run', writeBatch(dir2, 5).path, ...slowArgs(join(dir2, 'state')), '--quiet'],
      apiEnv(sb.url),
    );
    expect(quiet.code).toBe(0);
    expect(quiet.stdout + quiet.stderr).toBe('');
  });
});
