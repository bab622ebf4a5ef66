/**
 * The README's Library example runs as written (issue: it used to call production, having no
 * base URL): its ```ts block is run by Node against the sandbox, with the key and base URL in the
 * environment and its state dir moved into a temp folder. Money is judged by the sandbox's ledger.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { KEY, readCsv, tempDir } from './helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const block = /## Library\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];

let sb: Sandbox | undefined;
afterAll(async () => {
  await sb?.close();
});

describe("the README's Library example", () => {
  it('names the base URL and a state dir', () => {
    expect(block).toBeDefined();
    expect(block).toContain('baseUrl');
    expect(block).toContain('ALSAMIFLEXI_BASE_URL');
    expect(block).toMatch(/stateDir: '\/[^']+'/);
  });

  it('runs as written against the sandbox: every row paid once, results written', async () => {
    sb = await startSandbox({ apiKey: KEY, completeAfterMs: 0, rateLimit: null });
    const dir = tempDir('rb-readme-lib-');
    // the service's folder: its payroll.csv, and recharge-batch installed (a link to this package)
    writeFileSync(
      join(dir, 'payroll.csv'),
      'Name,Mobile Number,Amount (BDT)\nAsha,01712345678,100\nBabul,01812345679,250\nChaity,01912345670,50\n',
    );
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(root, join(dir, 'node_modules', 'recharge-batch'), 'dir');
    const stateDir = /stateDir: '([^']+)'/.exec(block!)![1]!;
    writeFileSync(join(dir, 'example.mjs'), block!.replaceAll(stateDir, join(dir, 'state')));

    const env = {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      ALSAMIFLEXI_API_KEY: KEY,
      ALSAMIFLEXI_BASE_URL: sb.url,
    };
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['example.mjs'], {
        cwd: dir,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('completed: 3');
    expect(r.stdout).toContain(join(dir, 'payroll.results.csv'));
    expect(sb.ledger().map((e) => [e.mobile_number, e.amount])).toEqual([
      ['01712345678', 100],
      ['01812345679', 250],
      ['01912345670', 50],
    ]);
    expect(readCsv(join(dir, 'payroll.results.csv')).map((x) => x.status)).toEqual([
      'completed',
      'completed',
      'completed',
    ]);
    expect(existsSync(join(dir, 'state'))).toBe(true);
  });
});
