/** `demo` (SPEC §2): an in-process sandbox and the `fixtures/` payroll batch run against it. */
import { copyFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSandbox } from '../sandbox/index.js';
import { AlsamiflexiClient } from '../api/client.js';
import { RateLimiter } from '../limit/limiter.js';
import { runJob } from '../run.js';
import { JobEvents } from '../job/events.js';
import { parseRate } from '../util/units.js';
import type { Io } from './context.js';
import { COMMON, type Command } from './command.js';
import { exitCodeForResult } from '../exit.js';
import { jsonSummary } from './summary.js';

export const demo: Command = {
  command: 'demo',
  describe: 'start an in-process sandbox and run the sample payroll batch against it',
  uses: ['json', 'quiet', ...COMMON],
  run: (_a, o, cli) => demoCommand({ json: o.json, quiet: o.quiet }, cli.io, cli.stopSignal()),
};

/** Where the packaged fixtures live, from dist/cli/ or src/cli/. */
function fixture(name: string): string {
  return fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));
}

/** Runs the fixtures' payroll batch against an in-process sandbox. @returns the job's exit code */
export async function demoCommand(
  opts: { json: boolean; quiet: boolean },
  io: Io,
  signal: AbortSignal,
): Promise<number> {
  const key = 'demo-key';
  const dir = await mkdtemp(join(tmpdir(), 'recharge-batch-demo-'));
  const csv = join(dir, 'payroll.csv');
  await copyFile(fixture('payroll.csv'), csv);
  const sb = await startSandbox({
    port: 0,
    apiKey: key,
    balance: 500_000,
    rateLimit: '1200/min',
    completeAfterMs: 400,
    seed: 7,
  });
  const limiter = new RateLimiter({ rate: parseRate('1200/min'), concurrency: 8 });
  const client = new AlsamiflexiClient({
    apiKey: key,
    baseUrl: sb.url,
    scheduler: limiter,
    requestTimeoutMs: 10_000,
  });
  const events = new JobEvents();
  if (!opts.quiet && !opts.json) {
    io.out(`demo: a sandbox API on ${sb.url} (1200 requests/min, transactions complete after 0.4 s)`);
    io.out(`demo: running the payroll batch ${csv}`);
    let done = 0;
    events.on('row:final', ({ row }) => {
      done++;
      if (done <= 3 || done % 25 === 0)
        io.out(`  row ${row.row}: ${row.number} ${row.amount} BDT → ${row.status} (${row.txn ?? '-'})`);
    });
  }
  try {
    const result = await runJob({
      csv,
      stateDir: join(dir, 'state'),
      client,
      concurrency: 8,
      pollAfterMs: 500,
      pollEveryMs: 300,
      pollTimeoutMs: 60_000,
      pollShareIntervalMs: limiter.interval,
      events,
      signal,
    });
    const code = exitCodeForResult(result);
    if (opts.json) {
      io.out(JSON.stringify(jsonSummary(result, code)));
    } else if (!opts.quiet) {
      const c = result.counts;
      io.out(
        `demo: job ${result.job} — ${c.completed} rows completed (${result.amounts.completed.toLocaleString('en-US')} BDT), ${c.failed} failed, ${c.unknown} unknown`,
      );
      io.out(`demo: results written to ${result.results}`);
      io.out(`demo: the sandbox's ledger holds ${sb.ledger().length} transactions, one per completed row`);
    }
    return code;
  } finally {
    await limiter.stop().catch(() => undefined);
    await client.close();
    await sb.close();
  }
}
