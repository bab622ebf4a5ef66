/**
 * `--webhook-listen` with the sandbox sending the API doc's webhook events to the built CLI.
 * Polls are set to 60 s (the first one, with webhooks, at 120 s): a batch that finishes within
 * the test's timeout was finished by the events, and the GETs it cost are counted in the
 * sandbox's own request log.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.js';
import { KEY, apiEnv, readCsv, runCli, tempDir, writeBatch } from './helpers.js';

let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.close();
  sb = undefined;
});

/** A port nobody listens on right now, for the CLI's receiver (the sandbox must know it first). */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function withWebhooks(opts: Partial<SandboxOptions>) {
  const port = await freePort();
  sb = await startSandbox({
    apiKey: KEY,
    rateLimit: '6000/min',
    completeAfterMs: 500,
    balance: 1_000_000,
    webhookUrl: `http://127.0.0.1:${port}/webhooks/alsamiflexi`,
    ...opts,
  });
  const args = (state: string) => [
    '--state-dir',
    state,
    '--rate-limit',
    '6000/min',
    '--poll-after',
    '60s',
    '--poll-every',
    '60s',
    '--request-timeout',
    '5s',
    '--quiet',
    '--json',
    '--webhook-listen',
    `127.0.0.1:${port}`,
  ];
  return { sb, args };
}

/** Status GETs per transaction id, from the sandbox's request log. */
function getsPerTransaction(s: Sandbox): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of s.requestLog()) {
    const id = /\/transaction\/([^/]+)$/.exec(e.path)?.[1];
    if (e.method === 'GET' && id) m.set(decodeURIComponent(id), (m.get(decodeURIComponent(id)) ?? 0) + 1);
  }
  return m;
}

describe('webhooks', () => {
  it('a 40-row batch with duplicate and late deliveries finishes on the events: ≤ 1.1 GETs per row, none after final', async () => {
    const { sb: s, args } = await withWebhooks({ webhookFaults: { duplicates: 2, lateMs: 1000 } });
    const dir = tempDir();
    const { path } = writeBatch(dir, 40);
    const r = await runCli(['run', path, ...args(join(dir, 'state'))], apiEnv(s.url));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).counts.completed).toBe(40);
    const ledger = s.ledger();
    expect(ledger).toHaveLength(40);
    expect(ledger.every((e) => e.status === 'completed')).toBe(true);
    const gets = getsPerTransaction(s);
    const total = [...gets.values()].reduce((a, b) => a + b, 0);
    expect(total / 40).toBeLessThanOrEqual(1.1);
    // every event was delivered three times (and again later): the copies cost nothing
    for (const e of ledger) expect(gets.get(e.transaction_id) ?? 0, e.transaction_id).toBeLessThanOrEqual(1);
    const results = readCsv(join(dir, 'batch.results.csv'));
    expect(results.map((x) => x.status)).toEqual(Array(40).fill('completed'));
  });

  it('forged early "completed" events never complete a row: every status and completion time is the API\'s', async () => {
    // half the transactions fail; each gets a forged "completed" event while it is still processing
    const { sb: s, args } = await withWebhooks({
      completeAfterMs: 1500,
      failRate: 0.5,
      seed: 11,
      webhookFaults: { forgeAfterMs: 100, duplicates: 1, lateMs: 1000 },
    });
    const dir = tempDir();
    const { path } = writeBatch(dir, 20);
    const r = await runCli(['run', path, ...args(join(dir, 'state'))], apiEnv(s.url));
    expect(r.code).toBe(1);
    const ledger = new Map(s.ledger().map((e) => [e.transaction_id, e]));
    expect([...ledger.values()].filter((e) => e.status === 'failed').length).toBeGreaterThan(0);
    const results = readCsv(join(dir, 'batch.results.csv'));
    expect(results).toHaveLength(20);
    for (const row of results) {
      const e = ledger.get(row.transaction_id!)!;
      expect(row.status, `row ${row.row}`).toBe(e.status);
      // the forged event claims completion at commit + 100 ms; the API's time is 1.5 s later
      expect(row.completed_at, `row ${row.row}`).toBe(e.completed_at);
    }
  });

  it('watch --once serves the receiver for every job of the pass, and the audit log records them all', async () => {
    const { sb: s, args } = await withWebhooks({ webhookFaults: { duplicates: 1, lateMs: 1000 } });
    const dir = tempDir();
    const inbox = join(dir, 'incoming');
    mkdirSync(inbox);
    writeBatch(inbox, 10, 'a.csv', 1);
    writeBatch(inbox, 10, 'b.csv', 7);
    const log = join(dir, 'audit.jsonl');
    const r = await runCli(
      ['watch', inbox, '--once', '--settle', '0', '--log-file', log, ...args(join(dir, 'state'))],
      apiEnv(s.url),
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).files.map((f: { moved_to: string }) => f.moved_to)).toEqual(['done', 'done']);
    const ledger = s.ledger();
    expect(ledger).toHaveLength(20);
    const gets = [...getsPerTransaction(s).values()].reduce((a, b) => a + b, 0);
    expect(gets / 20).toBeLessThanOrEqual(1.1);
    const finals = readFileSync(log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { event: string; transaction_id: string; status: string })
      .filter((x) => x.event === 'row:final');
    expect(new Map(finals.map((f) => [f.transaction_id, f.status]))).toEqual(
      new Map(ledger.map((e) => [e.transaction_id, e.status])),
    );
  });

  it('the receiver address in use: exit 2, one line, nothing sent', async () => {
    const { sb: s, args } = await withWebhooks({});
    const blocker = createServer();
    const port = Number(args('x').at(-1)!.split(':')[1]);
    await new Promise<void>((res) => blocker.listen(port, '127.0.0.1', () => res()));
    try {
      const dir = tempDir();
      const { path } = writeBatch(dir, 3);
      const r = await runCli(['run', path, ...args(join(dir, 'state'))], apiEnv(s.url));
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/--webhook-listen .* cannot be used/);
      expect(s.stats().requests).toBe(0);
    } finally {
      await new Promise<void>((res) => blocker.close(() => res()));
    }
  });
});
