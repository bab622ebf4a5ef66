/** SPEC §8: a Node service embeds the engine through the package's public entry point. */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe("import { … } from 'recharge-batch'", () => {
  it('runs a batch against the sandbox with nothing but the public API', () => {
    const script = `
      import { runJob, validateCsv, AlsamiflexiClient, RateLimiter, startSandbox, DEFAULT_OPERATORS } from 'recharge-batch';
      import { mkdtempSync, writeFileSync } from 'node:fs';
      import { tmpdir } from 'node:os';
      import { join } from 'node:path';
      const dir = mkdtempSync(join(tmpdir(), 'rb-lib-'));
      const csv = join(dir, 'pay.csv');
      writeFileSync(csv, 'name,mobile,amount\\nA,01712345678,100\\nB,01812345678,50\\nC,123,10\\n');
      const summary = await validateCsv(csv, { operators: DEFAULT_OPERATORS });
      const sb = await startSandbox({ apiKey: 'lib-key', completeAfterMs: 50, rateLimit: '600/min' });
      const limiter = new RateLimiter({ rate: { limit: 600, windowMs: 60000 }, concurrency: 2 });
      const client = new AlsamiflexiClient({ apiKey: 'lib-key', baseUrl: sb.url, scheduler: limiter });
      const result = await runJob({ csv, stateDir: join(dir, 'state'), client, pollAfterMs: 60, pollEveryMs: 50 });
      await limiter.stop(); await client.close(); await sb.close();
      console.log(JSON.stringify({ valid: summary.valid, invalid: summary.invalid, counts: result.counts, ledger: sb.ledger().length }));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(out.valid).toBe(2);
    expect(out.invalid).toBe(1);
    expect(out.counts.completed).toBe(2);
    expect(out.counts.invalid).toBe(1);
    expect(out.ledger).toBe(2);
  });
});
