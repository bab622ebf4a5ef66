/** `sandbox` (the local API simulator, SPEC §9) and `demo` (a sample batch against it). */
import { copyFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSandbox } from '../sandbox/index.js';
import { parseStatusWords, type FaultEncoding, type Faults } from '../sandbox/faults.js';
import { AlsamiflexiClient } from '../api/client.js';
import { RateLimiter } from '../limit/limiter.js';
import { runJob } from '../run.js';
import { JobEvents } from '../job/events.js';
import { parseDuration, parseRate } from '../util/units.js';
import type { Io } from './context.js';
import { exitCodeForResult } from './exit.js';
import { jsonSummary } from './jobs.js';

export interface SandboxArgs {
  port: number;
  host: string;
  apiKey?: string;
  balance: number;
  rateLimit: string;
  window: 'fixed' | 'sliding';
  completeAfter: string;
  failRate: number;
  errorRate: number;
  dropRate: number;
  latency: string;
  /** e.g. '40ms': each request reaches the API a random 0..this late (SPEC §6 jitter) */
  arrivalJitter: string;
  seed: number;
  dedup: 'replay' | 'reject' | 'off';
  webhookUrl?: string;
  webhookDuplicates?: number;
  /** durations: a forged early "completed" event after each commit; a late redelivery */
  webhookForge?: string;
  webhookLate?: string;
  rateLimitHeaders: boolean;
  /** --fault-* and --status-words, as given */
  faults: {
    noStatus: boolean;
    encoding: FaultEncoding | null;
    resetFormat: Faults['resetFormat'];
    retryAfterFormat: Faults['retryAfterFormat'];
    clockSkew: string;
    rateLimited: string[];
    retryAfter?: string;
    echoKey: boolean;
    successFalseRate: number;
    statusWords?: string;
  };
}

/** The sandbox's faults from their command-line form. */
function faultOptions(f: SandboxArgs['faults']): Partial<Faults> {
  return {
    noStatus: f.noStatus,
    encoding: f.encoding,
    resetFormat: f.resetFormat,
    retryAfterFormat: f.retryAfterFormat,
    clockSkewMs: parseDuration(f.clockSkew, '--fault-clock-skew'),
    rateLimited: f.rateLimited as Faults['rateLimited'],
    retryAfterMs: f.retryAfter !== undefined ? parseDuration(f.retryAfter, '--fault-retry-after') : null,
    echoKey: f.echoKey,
    successFalseRate: f.successFalseRate,
    statusWords: f.statusWords ? parseStatusWords(f.statusWords) : {},
  };
}

export async function sandboxCommand(a: SandboxArgs, io: Io, signal: AbortSignal): Promise<number> {
  const key = a.apiKey ?? 'sandbox-key';
  const sb = await startSandbox({
    port: a.port,
    host: a.host,
    apiKey: key,
    balance: a.balance,
    rateLimit:
      a.rateLimit === 'off' || a.rateLimit === 'none' ? null : parseRate(a.rateLimit, '--rate-limit'),
    rateLimitWindow: a.window,
    rateLimitHeaders: a.rateLimitHeaders,
    completeAfterMs: parseDuration(a.completeAfter, '--complete-after'),
    failRate: a.failRate,
    errorRate: a.errorRate,
    dropRate: a.dropRate,
    latencyMs: parseDuration(a.latency, '--latency'),
    arrivalJitterMs: parseDuration(a.arrivalJitter, '--arrival-jitter'),
    seed: a.seed,
    dedup: a.dedup,
    webhookUrl: a.webhookUrl,
    faults: faultOptions(a.faults),
    webhookFaults: {
      duplicates: a.webhookDuplicates ?? 0,
      ...(a.webhookForge ? { forgeAfterMs: parseDuration(a.webhookForge, '--webhook-forge') } : {}),
      ...(a.webhookLate ? { lateMs: parseDuration(a.webhookLate, '--webhook-late') } : {}),
    },
  });
  io.out(`sandbox listening on ${sb.url}`);
  io.out(
    a.apiKey
      ? 'accepting the API key you gave'
      : `accepting API key "${key}" (set ALSAMIFLEXI_API_KEY or --api-key to choose one)`,
  );
  io.out(`try: ALSAMIFLEXI_BASE_URL=${sb.url} recharge-batch balance`);
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  await sb.close();
  io.err('sandbox stopped');
  return 0;
}

/** Where the packaged fixtures live, from dist/cli/ or src/cli/. */
function fixture(name: string): string {
  return fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));
}

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
