/** Builds what commands need from the resolved options: the client behind the limiter, and output. */
import { AlsamiflexiClient } from '../api/client.js';
import { addSecret, mask } from '../api/mask.js';
import { resolve } from 'node:path';
import { BatchError } from '../errors.js';
import { checkSendableKey } from '../api/key.js';
import { listJobs } from '../job/job.js';
import { RateLimiter } from '../limit/limiter.js';
import { planRate, type ResolvedOptions } from '../config.js';

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

/**
 * The API key, trimmed. @throws BatchError USAGE (`missing`) when none was given, or when it
 * holds a character that cannot be sent (src/api/key.ts)
 */
export function apiKey(options: Pick<ResolvedOptions, 'apiKey'>, missing = NO_KEY): string {
  if (options.apiKey === undefined) throw new BatchError('USAGE', missing);
  checkSendableKey(options.apiKey);
  return options.apiKey;
}

/**
 * What to fix on the user's side for an API answer: a base URL without the `/api/v1` the API
 * doc gives (every endpoint answers "No such endpoint", 404), or an API that cannot be reached
 * at all (API_UNREACHABLE: the network, or a wrong address). Undefined when there is nothing
 * to add. The `--json` error and stop objects carry it as `hint` (README "What you see").
 */
export function apiHintText(
  err: { code?: unknown; message?: unknown; status?: unknown },
  baseUrl: string | undefined,
): string | undefined {
  if (baseUrl === undefined) return undefined;
  // nothing answered at all: the network, or an address that is not the API's
  if (err.code === 'API_UNREACHABLE')
    return `check the network and the base URL (it is ${baseUrl}; --base-url or ALSAMIFLEXI_BASE_URL)`;
  // connected, but no answer in time: the same checks, or a slow API that needs longer
  if (err.code === 'API_TIMEOUT')
    return `check the network and the base URL (it is ${baseUrl}; --base-url or ALSAMIFLEXI_BASE_URL), or give the API longer with --request-timeout`;
  const notFound = err.status === 404 || /No such endpoint|HTTP 404/i.test(String(err.message ?? ''));
  if (!notFound) return undefined;
  return /\/api\/v1\/?$/.test(baseUrl)
    ? `${baseUrl} does not serve the Alsamiflexi API: check --base-url (ALSAMIFLEXI_BASE_URL)`
    : `--base-url should end in /api/v1 (it is ${baseUrl}); set ALSAMIFLEXI_BASE_URL=${baseUrl.replace(/\/+$/, '')}/api/v1`;
}

/** {@link apiHintText} as one more clause of the human line; '' when there is nothing to add. */
export function apiHint(
  err: { code?: unknown; message?: unknown; status?: unknown },
  baseUrl: string | undefined,
): string {
  const hint = apiHintText(err, baseUrl);
  return hint ? ` — ${hint}` : '';
}

export interface ApiContext {
  client: AlsamiflexiClient;
  limiter: RateLimiter;
  close(): Promise<void>;
}

/**
 * The client behind the shared limiter (SPEC §6). `signal` (the command's stop signal) ends
 * every wait of every request at once (SPEC §5 additions, "Signals reach every wait").
 * @throws BatchError USAGE without a key, or for `--plan enterprise` without `--rate-limit`
 */
export function apiContext(options: ResolvedOptions, signal?: AbortSignal): ApiContext {
  const rate = planRate(options);
  const key = apiKey(options);
  addSecret(key);
  const limiter = new RateLimiter({
    rate,
    concurrency: options.concurrency,
    maxWaitMs: options.maxWaitMs,
    ...(options.redis ? { redis: { url: options.redis, apiKey: key } } : {}),
  });
  const client = new AlsamiflexiClient({
    apiKey: key,
    baseUrl: options.baseUrl,
    requestTimeoutMs: options.requestTimeoutMs,
    scheduler: limiter,
    maxWaitMs: options.maxWaitMs,
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
