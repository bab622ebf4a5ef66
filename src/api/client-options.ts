/**
 * What an `AlsamiflexiClient` can be told, each with its unit and default (the CLI's
 * options table feeds these; SPEC §2, §5, §6).
 */
import type { Dispatcher } from 'undici';
import type { Clock } from '../clock.js';
import type { RequestScheduler } from './headers.js';

export interface ClientOptions {
  /**
   * The Bearer token; surrounding whitespace (a trailing newline) is dropped. Default: the
   * environment's `ALSAMIFLEXI_API_KEY` (SPEC §2); none at all throws USAGE.
   */
  apiKey?: string;
  /** Default: the environment's `ALSAMIFLEXI_BASE_URL`, else `DEFAULT_BASE_URL` (production, types.ts) (SPEC §2). */
  baseUrl?: string;
  /** undici dispatcher (an Agent, or a MockAgent in tests). Default: a keep-alive Agent. */
  dispatcher?: Dispatcher;
  /** ms one request may take to connect, to its headers, to its body (each); default 30 s (`--request-timeout`). */
  requestTimeoutMs?: number;
  /** The shared rate limiter (SPEC §6). Default: none, every request is sent at once. */
  scheduler?: RequestScheduler;
  /** Default: the system clock; tests pass a FakeClock. */
  clock?: Clock;
  /** Retries for GETs after a network error, timeout or 5xx; default 4. */
  getRetries?: number;
  /** ms: a GET's n-th retry waits a jittered share of min(max, base × 2ⁿ); defaults 500 ms and 15 s. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** ms to wait after a 429 without usable Retry-After / reset headers; default 1 s. */
  rateLimitedWaitMs?: number;
  /**
   * --max-wait (ms, default 5 min): the longest single wait a 429 may ask for, and the most
   * time one request may spend answered 429 (SPEC §5 additions).
   */
  maxWaitMs?: number;
  /** Aborting it ends every wait of every request at once (a stop signal). */
  signal?: AbortSignal;
  /** [0, 1) source for backoff jitter; default Math.random (tests pin it). */
  random?: () => number;
}
