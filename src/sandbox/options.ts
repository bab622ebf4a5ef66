/** The sandbox's options, their defaults and checks, and the faults that can change at run time. */
import type { Operator } from '../api/types.js';
import type { Clock } from '../clock.js';
import { BatchError } from '../errors.js';
import type { Rate } from '../util/units.js';
import type { RateLimitWindow } from './ratelimit.js';
import { NO_FAULTS, checkFaults, type Faults } from './faults.js';
import { checkWebhookFaults, type WebhookFaults } from './webhook.js';

export type DedupMode = 'replay' | 'reject' | 'off';

export interface SandboxOptions {
  /** default 0 (ephemeral) */
  port?: number;
  /** default '127.0.0.1' */
  host?: string;
  /** the Bearer token accepted */
  apiKey: string;
  /** default 50000 (BDT) */
  balance?: number;
  /** default '60/min'; null = unlimited. Strings are parsed with parseRate (`60/min`, `20/s`). */
  rateLimit?: string | Rate | null;
  /** default 'fixed' */
  rateLimitWindow?: RateLimitWindow;
  /** default true; false = no X-RateLimit-* headers (429 + Retry-After are still sent) */
  rateLimitHeaders?: boolean;
  /** default 3000: a transaction is `processing` for this long, then `completed`/`failed` */
  completeAfterMs?: number;
  /** 0..1, default 0: fraction of committed transactions that end `failed` (and are refunded) */
  failRate?: number;
  /** 0..1, default 0: fraction of authed, non-429 requests answered 500 INTERNAL_ERROR; nothing is committed */
  errorRate?: number;
  /** 0..1, default 0: fraction of committed POST /recharge whose socket is destroyed with no answer */
  dropRate?: number;
  /** default 0: delay (through the clock) before answering each API request */
  latencyMs?: number;
  /**
   * default 0: each API request reaches the API (its log entry, the rate limit) a random
   * 0..arrivalJitterMs ms late, uniform and seeded, like a jittery network (SPEC §6)
   */
  arrivalJitterMs?: number;
  /** default 1: seeds the PRNG that draws every fault and failure */
  seed?: number;
  /**
   * default 'off'. replay: a POST whose reference was already committed returns the original
   * transaction (200, no new charge); reject: 400 DUPLICATE_REFERENCE; off: a new, separately
   * charged transaction.
   */
  dedup?: DedupMode;
  /** default DEFAULT_OPERATORS */
  operators?: Operator[];
  /** POST the documented webhook payload here on every final transaction state */
  webhookUrl?: string;
  /** default none: duplicate, forged early and late webhook deliveries (see WebhookFaults) */
  webhookFaults?: WebhookFaults;
  /** default systemClock; all time (windows, transitions, timestamps, latency) goes through it */
  clock?: Clock;
  /** default none: what real APIs do beyond the doc, to rehearse against (faults.ts) */
  faults?: Partial<Faults>;
}

export type ConfigPatch = Partial<
  Pick<
    SandboxOptions,
    'failRate' | 'errorRate' | 'dropRate' | 'latencyMs' | 'dedup' | 'rateLimit' | 'completeAfterMs' | 'faults'
  >
>;

/** The fault settings `configure()` may change while the sandbox runs. */
export interface RuntimeConfig {
  failRate: number;
  errorRate: number;
  dropRate: number;
  latencyMs: number;
  dedup: DedupMode;
  completeAfterMs: number;
  faults: Faults;
}

function usage(message: string): BatchError {
  return new BatchError('USAGE', `sandbox: ${message}`);
}

function checkFraction(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw usage(`${name} must be a number from 0 to 1, got ${String(value)}`);
  }
  return value;
}

function checkMs(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw usage(`${name} must be a number of milliseconds ≥ 0, got ${String(value)}`);
  }
  return value;
}

function checkDedup(value: unknown): DedupMode {
  if (value !== 'replay' && value !== 'reject' && value !== 'off') {
    throw usage(`dedup must be 'replay', 'reject' or 'off', got ${String(value)}`);
  }
  return value;
}

export function checkBalance(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw usage(`balance must be a number ≥ 0, got ${String(value)}`);
  }
  return value;
}

/** Applies the given keys of `patch` (except rateLimit, which the server handles) to `config`. */
export function applyPatch(config: RuntimeConfig, patch: ConfigPatch): void {
  // check everything first so that a bad patch changes nothing
  const next: RuntimeConfig = { ...config };
  if (patch.failRate !== undefined) next.failRate = checkFraction('failRate', patch.failRate);
  if (patch.errorRate !== undefined) next.errorRate = checkFraction('errorRate', patch.errorRate);
  if (patch.dropRate !== undefined) next.dropRate = checkFraction('dropRate', patch.dropRate);
  if (patch.latencyMs !== undefined) next.latencyMs = checkMs('latencyMs', patch.latencyMs);
  if (patch.completeAfterMs !== undefined)
    next.completeAfterMs = checkMs('completeAfterMs', patch.completeAfterMs);
  if (patch.dedup !== undefined) next.dedup = checkDedup(patch.dedup);
  if (patch.faults !== undefined) next.faults = { ...config.faults, ...checkFaults(patch.faults) };
  Object.assign(config, next);
}

export function initialConfig(opts: SandboxOptions): RuntimeConfig {
  const config: RuntimeConfig = {
    failRate: 0,
    errorRate: 0,
    dropRate: 0,
    latencyMs: 0,
    dedup: 'off',
    completeAfterMs: 3000,
    faults: structuredClone(NO_FAULTS),
  };
  applyPatch(config, opts);
  return config;
}

export function checkOptions(opts: SandboxOptions): void {
  if (typeof opts.apiKey !== 'string' || opts.apiKey.length === 0) throw usage('apiKey is required');
  if (opts.port !== undefined && (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535)) {
    throw usage(`port must be an integer from 0 to 65535, got ${String(opts.port)}`);
  }
  if (opts.balance !== undefined) checkBalance(opts.balance);
  if (opts.arrivalJitterMs !== undefined) checkMs('arrivalJitterMs', opts.arrivalJitterMs);
  if (
    opts.rateLimitWindow !== undefined &&
    opts.rateLimitWindow !== 'fixed' &&
    opts.rateLimitWindow !== 'sliding'
  ) {
    throw usage(`rateLimitWindow must be 'fixed' or 'sliding', got ${String(opts.rateLimitWindow)}`);
  }
  if (opts.seed !== undefined && !Number.isFinite(opts.seed))
    throw usage(`seed must be a number, got ${String(opts.seed)}`);
  if (opts.operators !== undefined && (!Array.isArray(opts.operators) || opts.operators.length === 0)) {
    throw usage('operators must be a non-empty array');
  }
  if (opts.webhookUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(opts.webhookUrl);
    } catch {
      throw usage(`webhookUrl is not a URL: ${opts.webhookUrl}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usage('webhookUrl must be http(s)');
  }
  const badFaults = opts.webhookFaults ? checkWebhookFaults(opts.webhookFaults) : null;
  if (badFaults) throw usage(badFaults);
}
