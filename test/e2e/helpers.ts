/** Shared pieces of the end-to-end tests: the built CLI as a child process, temp dirs, batches. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { afterEach, expect } from 'vitest';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.js';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
export const KEY = 'test-key-7f3a9c1e5b';

export function tempDir(prefix = 'rb-e2e-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

let home: string | undefined;
/** The HOME the CLI sees in tests (its default state dir is under it), one per test file. */
export function testHome(): string {
  return (home ??= tempDir('rb-home-'));
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function startCli(
  args: string[],
  env: Record<string, string> = {},
  cwd?: string,
): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd,
    // a home of its own: a command without --state-dir must never touch the real one
    env: { PATH: process.env.PATH ?? '', HOME: testHome(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((res) =>
    child.on('close', (code, signal) => res({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

export function runCli(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<CliResult> {
  return startCli(args, env, cwd).done;
}

const PREFIXES = ['017', '013', '018', '019', '014', '016'];

/** A payroll-like batch of `n` rows with unique numbers (no Teletalk, amounts 10–500). */
export function writeBatch(
  dir: string,
  n: number,
  name = 'batch.csv',
  seed = 1,
): { path: string; rows: { id: string; number: string; amount: number }[] } {
  let s = seed >>> 0;
  const rnd = () => (s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32;
  const rows = [];
  const lines = ['Employee ID,Name,Department,Mobile Number,Amount (BDT)'];
  for (let i = 0; i < n; i++) {
    const number = `${PREFIXES[i % PREFIXES.length]}${String(10_000_000 + i * 7919 + Math.floor(rnd() * 7)).slice(-8)}`;
    const amount = 10 + Math.floor(rnd() * 49) * 10;
    const id = `E${1000 + i}`;
    rows.push({ id, number, amount });
    lines.push(`${id},Employee ${i},${i % 3 === 0 ? '=Ops' : 'Sales'},${number},${amount}`);
  }
  const path = join(dir, name);
  writeFileSync(path, lines.join('\n') + '\n');
  return { path, rows };
}

export type CsvRow = Record<string, string>;

export function readCsv(path: string): CsvRow[] {
  return parse(readFileSync(path), { columns: true, bom: true }) as CsvRow[];
}

export function maybeReadCsv(path: string): CsvRow[] | null {
  return existsSync(path) ? readCsv(path) : null;
}

/** Options that make a real-time batch fast: a quick rate and short polls. */
export function fastArgs(stateDir: string, rate = '6000/min'): string[] {
  return [
    '--state-dir',
    stateDir,
    '--rate-limit',
    rate,
    '--poll-after',
    '150ms',
    '--poll-every',
    '150ms',
    '--request-timeout',
    '3s',
    '--quiet',
  ];
}

export function apiEnv(url: string): Record<string, string> {
  return { ALSAMIFLEXI_API_KEY: KEY, ALSAMIFLEXI_BASE_URL: url };
}

/**
 * Call at the top of a test file: returns `sandbox(opts)`, which starts a sandbox with the
 * test key, 6000/min, transactions final after `completeAfterMs` (default 100), a large balance
 * and `opts`; every sandbox a test started is closed after it.
 */
export function sandboxPerTest(
  defaults: Partial<SandboxOptions> = {},
): (opts?: Partial<SandboxOptions>) => Promise<Sandbox> {
  let started: Sandbox[] = [];
  afterEach(async () => {
    await Promise.all(started.map((s) => s.close()));
    started = [];
  });
  return async (opts = {}) => {
    const s = await startSandbox({
      apiKey: KEY,
      rateLimit: '6000/min',
      completeAfterMs: 100,
      balance: 1_000_000,
      ...defaults,
      ...opts,
    });
    started.push(s);
    return s;
  };
}

/** A charge in the sandbox's ledger, as its admin route gives it (README "Sandbox"). */
export interface LedgerEntry {
  transaction_id: string;
  mobile_number: string;
  amount: number;
  status: string;
}

/** Calls the sandbox's admin route `path` (GET, or POST with `body`); its answer must be 200. */
export async function sandboxAdmin(s: Sandbox, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${s.url.replace(/\/api\/v1\/?$/, '')}/__sandbox/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return res.json();
}

/** The sandbox's ledger through its admin route: money judged as the API saw it. */
export async function adminLedger(s: Sandbox): Promise<LedgerEntry[]> {
  return ((await sandboxAdmin(s, 'ledger')) as { ledger: LedgerEntry[] }).ledger;
}
