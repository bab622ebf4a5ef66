/**
 * The same field faults as test/e2e/hostile.test.ts, as the sandbox's options a user rehearses
 * with (`sandbox --help`): the built CLI against the sandbox, judged by the sandbox's ledger.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { KEY, apiEnv, fastArgs, readCsv, runCli, tempDir, writeBatch } from './helpers.js';

let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.close();
  sb = undefined;
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('rehearsing field faults against the sandbox', () => {
  it('sandbox --help lists the fault options', async () => {
    const r = await runCli(['sandbox', '--help']);
    expect(r.code).toBe(0);
    for (const opt of [
      '--fault-no-status',
      '--fault-encoding',
      '--fault-reset-format',
      '--fault-retry-after-format',
      '--fault-clock-skew',
      '--fault-rate-limited',
      '--fault-retry-after',
      '--fault-echo-key',
      '--fault-success-false',
      '--status-words',
    ]) {
      expect(r.stdout).toContain(opt);
    }
  });

  it('gzip answers without status, its own status words, echoed keys, epoch-ms resets from a skewed clock: every id kept, nobody paid twice, no key on disk', async () => {
    sb = await startSandbox({
      apiKey: KEY,
      rateLimit: '6000/min',
      completeAfterMs: 100,
      failRate: 0.3,
      balance: 1_000_000,
      seed: 5,
      faults: {
        encoding: 'gzip',
        noStatus: true,
        statusWords: { processing: 'QUEUED', completed: 'SUCCESS', failed: 'declined' },
        echoKey: true,
        resetFormat: 'epoch-ms',
        clockSkewMs: 3_600_000,
      },
    });
    const dir = tempDir('rb-rehearse-');
    const { path } = writeBatch(dir, 20);
    const state = join(dir, 'state');
    const r = await runCli(['run', path, ...fastArgs(state)], apiEnv(sb.url));
    expect([0, 1], r.stderr).toContain(r.code);
    const results = readCsv(join(dir, 'batch.results.csv'));
    const ledger = new Map(sb.ledger().map((e) => [e.transaction_id, e]));
    expect(ledger.size).toBe(20);
    expect(new Set(sb.ledger().map((e) => e.mobile_number)).size).toBe(20);
    for (const row of results) {
      const entry = ledger.get(row.transaction_id!);
      expect(entry, `row ${row.row} keeps its transaction id`).toBeDefined();
      expect(row.status).toBe(entry!.status);
    }
    for (const f of [...filesUnder(state), ...filesUnder(dir).filter((f) => f.endsWith('.csv'))])
      expect(readFileSync(f, 'utf8'), f).not.toContain(KEY);
    expect(r.stdout + r.stderr).not.toContain(KEY);
  });
});
