/** Builds what commands need from the resolved options: the client behind the limiter, and output. */
import { AlsamiflexiClient } from '../api/client.js';
import { addSecret, mask } from '../api/mask.js';
import { resolve } from 'node:path';
import { BatchError } from '../errors.js';
import { listJobs } from '../job/job.js';
import { RateLimiter } from '../limit/limiter.js';
import { durationOption, resolveRate, type OptionName } from '../config.js';

export type Options = Record<OptionName, unknown>;

export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** rewrite the current status line (TTY only) */
  status?(line: string): void;
}

/**
 * Output that can never carry the API key or any Bearer token, whatever a message contains
 * (SPEC §5 additions): the key is registered trimmed, since a key with a trailing newline is
 * sent (and echoed) without it.
 */
export function redactingIo(secret: () => string | undefined): Io {
  const clean = (s: string) => {
    addSecret(secret());
    return mask(s);
  };
  let statusShown = false;
  const clearStatus = () => {
    if (statusShown) {
      process.stderr.write('\r\x1b[2K');
      statusShown = false;
    }
  };
  return {
    out: (line) => {
      clearStatus();
      process.stdout.write(clean(line) + '\n');
    },
    err: (line) => {
      clearStatus();
      process.stderr.write(clean(line) + '\n');
    },
    status: process.stderr.isTTY
      ? (line) => {
          process.stderr.write('\r\x1b[2K' + clean(line).slice(0, (process.stderr.columns || 100) - 1));
          statusShown = true;
        }
      : undefined,
  };
}

/** The line for a missing key; `validate` adds the way to check a file without one. */
export const NO_KEY = 'no API key: set ALSAMIFLEXI_API_KEY in the environment (or give --api-key)';

export function apiKey(options: Options, missing = NO_KEY): string {
  const key = options['api-key'];
  if (typeof key !== 'string' || key.trim() === '') {
    throw new BatchError('USAGE', missing);
  }
  return key.trim();
}

/**
 * One more clause for an API answer a user can fix on their side: a base URL without the
 * `/api/v1` the API doc gives (every endpoint answers "No such endpoint", 404). Returns '' when
 * there is nothing to add.
 */
export function apiHint(
  err: { code?: unknown; message?: unknown; status?: unknown },
  baseUrl: unknown,
): string {
  const notFound = err.status === 404 || /No such endpoint|HTTP 404/i.test(String(err.message ?? ''));
  if (!notFound || typeof baseUrl !== 'string') return '';
  return /\/api\/v1\/?$/.test(baseUrl)
    ? ` — ${baseUrl} does not serve the Alsamiflexi API: check --base-url (ALSAMIFLEXI_BASE_URL)`
    : ` — --base-url should end in /api/v1 (it is ${baseUrl}); set ALSAMIFLEXI_BASE_URL=${baseUrl.replace(/\/+$/, '')}/api/v1`;
}

export interface ApiContext {
  client: AlsamiflexiClient;
  limiter: RateLimiter;
  close(): Promise<void>;
}

/**
 * The client behind the shared limiter. `signal` (the command's stop signal) ends every wait
 * of every request at once (SPEC §5 additions, "Signals reach every wait").
 */
export function apiContext(options: Options, signal?: AbortSignal): ApiContext {
  const rate = resolveRate(options.plan, options['rate-limit']);
  const concurrency = Number(options.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new BatchError(
      'USAGE',
      `--concurrency ${String(options.concurrency)}: give a whole number of requests at once, at least 1 (e.g. --concurrency 4)`,
    );
  const key = apiKey(options);
  addSecret(key);
  const maxWaitMs = durationOption(options, 'max-wait');
  const limiter = new RateLimiter({
    rate,
    concurrency,
    maxWaitMs,
    ...(options.redis ? { redis: { url: String(options.redis), apiKey: key } } : {}),
  });
  const client = new AlsamiflexiClient({
    apiKey: key,
    baseUrl: String(options['base-url']),
    requestTimeoutMs: durationOption(options, 'request-timeout'),
    scheduler: limiter,
    maxWaitMs,
    signal,
  });
  return {
    client,
    limiter,
    async close() {
      await limiter.stop().catch(() => undefined);
      await client.close().catch(() => undefined);
    },
  };
}

let legacyNoticeShown = false;

/**
 * Jobs used to live in `./.recharge-batch` of the working folder. If that folder holds jobs and
 * the state dir in force is another one, say once (stderr) how to keep using them (SPEC §2).
 */
export async function legacyStateDirNotice(stateDir: string, io: Io, cwd = process.cwd()): Promise<void> {
  const legacy = resolve(cwd, '.recharge-batch');
  if (legacyNoticeShown || resolve(stateDir) === legacy) return;
  legacyNoticeShown = true;
  if ((await listJobs(legacy)).length === 0) return;
  io.err(
    `note: ${legacy} holds jobs of an earlier version; jobs now live in ${resolve(stateDir)} — to keep using the old ones, add --state-dir ./.recharge-batch`,
  );
}
