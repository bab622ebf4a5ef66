/** `sandbox` (SPEC §9): the local API simulator, with the faults of real APIs to rehearse against. */
import { startSandbox } from '../sandbox/index.js';
import { parseStatusWords, type FaultEncoding, type Faults } from '../sandbox/faults.js';
import type { Io } from './context.js';
import { COMMON, type Command } from './command.js';
import { sandboxOptions, type SandboxFlags } from './sandbox-options.js';
import { ownDuration, ownRate } from './own-options.js';

export const sandbox: Command<SandboxFlags> = {
  command: 'sandbox',
  describe: 'start the local API simulator',
  uses: ['api-key', ...COMMON],
  builder: sandboxOptions,
  run: (a, o, cli) =>
    sandboxCommand(
      {
        port: a.port,
        host: a.host,
        apiKey: o.apiKey,
        balance: a.balance,
        rateLimit: a['rate-limit'],
        window: a.window,
        completeAfter: a['complete-after'],
        failRate: a['fail-rate'],
        errorRate: a['error-rate'],
        dropRate: a['drop-rate'],
        latency: a.latency,
        arrivalJitter: a['arrival-jitter'],
        seed: a.seed,
        dedup: a.dedup,
        webhookUrl: a['webhook-url'],
        webhookDuplicates: a['webhook-duplicates'],
        webhookForge: a['webhook-forge'],
        webhookLate: a['webhook-late'],
        rateLimitHeaders: a['rate-limit-headers'],
        faults: {
          noStatus: a['fault-no-status'],
          encoding: a['fault-encoding'] ?? null,
          resetFormat: a['fault-reset-format'],
          retryAfterFormat: a['fault-retry-after-format'],
          clockSkew: a['fault-clock-skew'],
          rateLimited: a['fault-rate-limited'] ?? [],
          retryAfter: a['fault-retry-after'],
          echoKey: a['fault-echo-key'],
          successFalseRate: a['fault-success-false'],
          statusWords: a['status-words'],
        },
      },
      cli.io,
      cli.stopSignal(),
    ),
};

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
    clockSkewMs: ownDuration('fault-clock-skew', f.clockSkew),
    rateLimited: f.rateLimited as Faults['rateLimited'],
    retryAfterMs: f.retryAfter !== undefined ? ownDuration('fault-retry-after', f.retryAfter) : null,
    echoKey: f.echoKey,
    successFalseRate: f.successFalseRate,
    statusWords: f.statusWords ? parseStatusWords(f.statusWords) : {},
  };
}

/**
 * Serves the simulated API (SPEC §9) until the stop signal; durations are text with a unit.
 * @throws BatchError USAGE for a bad duration or rate (before anything listens)
 */
export async function sandboxCommand(a: SandboxArgs, io: Io, signal: AbortSignal): Promise<number> {
  const key = a.apiKey ?? 'sandbox-key';
  const sb = await startSandbox({
    port: a.port,
    host: a.host,
    apiKey: key,
    balance: a.balance,
    rateLimit: a.rateLimit === 'off' || a.rateLimit === 'none' ? null : ownRate('rate-limit', a.rateLimit),
    rateLimitWindow: a.window,
    rateLimitHeaders: a.rateLimitHeaders,
    completeAfterMs: ownDuration('complete-after', a.completeAfter),
    failRate: a.failRate,
    errorRate: a.errorRate,
    dropRate: a.dropRate,
    latencyMs: ownDuration('latency', a.latency),
    arrivalJitterMs: ownDuration('arrival-jitter', a.arrivalJitter),
    seed: a.seed,
    dedup: a.dedup,
    webhookUrl: a.webhookUrl,
    faults: faultOptions(a.faults),
    webhookFaults: {
      duplicates: a.webhookDuplicates ?? 0,
      ...(a.webhookForge ? { forgeAfterMs: ownDuration('webhook-forge', a.webhookForge) } : {}),
      ...(a.webhookLate ? { lateMs: ownDuration('webhook-late', a.webhookLate) } : {}),
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
