/**
 * Typed client for the Alsamiflexi Pro API v1. Every request goes through an optional
 * scheduler (the shared rate limiter, SPEC §6); 429s wait and resend through it; GETs retry
 * network errors and 5xx with exponential backoff and jitter (SPEC §5). POST /recharge is
 * never retried here: its outcome rules belong to the runner, which sees an {@link ApiError}
 * whose `sent` flag says whether the request may have reached the server.
 *
 * The API key lives only in the Authorization header; it is never put into an error message.
 */
import { Agent, request, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { ApiError, BatchError } from '../errors.js';
import { systemClock, type Clock } from '../clock.js';
import {
  DEFAULT_BASE_URL,
  balanceSchema,
  errorBodySchema,
  operatorSchema,
  successBody,
  transactionSchema,
  type Balance,
  type Operator,
  type RechargeRequest,
  type Transaction,
} from './types.js';

/** What a request is for; the limiter may order them (polls must not starve, SPEC §6). */
export type RequestKind = 'meta' | 'submit' | 'poll';

/** The seam where the rate limiter plugs in. */
export interface RequestScheduler {
  schedule<T>(kind: RequestKind, fn: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Every response's status and headers, so the limiter can re-sync with the server. */
  observe?(status: number, headers: Record<string, string>): void;
  /** A 429 said: wait this long before anything else is sent. */
  backOff?(ms: number): void;
}

export interface ClientOptions {
  apiKey: string;
  baseUrl?: string;
  /** undici dispatcher (an Agent, or a MockAgent in tests). Default: a keep-alive Agent. */
  dispatcher?: Dispatcher;
  requestTimeoutMs?: number;
  scheduler?: RequestScheduler;
  clock?: Clock;
  /** Retries for GETs after a network error, timeout or 5xx. */
  getRetries?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Fallback wait after a 429 without usable Retry-After / reset headers. */
  rateLimitedWaitMs?: number;
  random?: () => number;
}

const passThrough: RequestScheduler = { schedule: (_kind, fn) => fn() };

/** Network error codes after which nothing can have reached the server. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export class AlsamiflexiClient {
  readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly timeoutMs: number;
  private readonly scheduler: RequestScheduler;
  private readonly clock: Clock;
  private readonly getRetries: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly rateLimitedWaitMs: number;
  private readonly random: () => number;

  constructor(opts: ClientOptions) {
    if (!opts.apiKey) throw new BatchError('USAGE', 'no API key: set ALSAMIFLEXI_API_KEY');
    this.apiKey = opts.apiKey;
    this.baseUrl = (opts.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
    try {
      new URL(this.baseUrl);
    } catch {
      throw new BatchError('USAGE', `invalid base URL "${this.baseUrl}"`);
    }
    this.timeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.ownsDispatcher = !opts.dispatcher;
    this.dispatcher = opts.dispatcher ?? new Agent({ connect: { timeout: this.timeoutMs }, keepAliveTimeout: 4_000 });
    this.scheduler = opts.scheduler ?? passThrough;
    this.clock = opts.clock ?? systemClock;
    this.getRetries = opts.getRetries ?? 4;
    this.backoffBaseMs = opts.backoffBaseMs ?? 500;
    this.backoffMaxMs = opts.backoffMaxMs ?? 15_000;
    this.rateLimitedWaitMs = opts.rateLimitedWaitMs ?? 1_000;
    this.random = opts.random ?? Math.random;
  }

  async getBalance(signal?: AbortSignal): Promise<Balance> {
    return this.get('/balance', balanceSchema, 'meta', signal);
  }

  async getOperators(signal?: AbortSignal): Promise<Operator[]> {
    return this.get('/operators', operatorSchema.array(), 'meta', signal);
  }

  async getTransaction(id: string, signal?: AbortSignal): Promise<Transaction> {
    return this.get(`/transaction/${encodeURIComponent(id)}`, transactionSchema, 'poll', signal);
  }

  /**
   * One POST /recharge, sent once (429s aside: a 429 means the server did nothing, so it is
   * resent). Throws ApiError for every other non-200 and for network failures.
   *
   * `queueSignal` abandons the request only while it waits in the limiter — once sent, a POST
   * is never aborted (an aborted POST would be ambiguous). `beforeSend` runs inside the
   * limiter slot right before the first send: the runner makes its intent durable there, so
   * a row waiting in the queue when the process dies was certainly never sent.
   */
  async recharge(body: RechargeRequest, opts: { queueSignal?: AbortSignal; beforeSend?: () => Promise<void> } = {}): Promise<Transaction> {
    let before = opts.beforeSend;
    const hook = before
      ? async () => {
          const fn = before;
          before = undefined;
          await fn?.();
        }
      : undefined;
    const answer = await this.send('POST', '/recharge', 'submit', body, opts.queueSignal, hook);
    return this.parse(answer, transactionSchema, '/recharge');
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  /**
   * GETs retry with backoff. Balance and operators (`meta`: what a command needs before it can
   * start) give up once the request timeout has passed, so an unreachable API is reported
   * within it; status polls keep their retries, to ride out a blip in the middle of a batch.
   */
  private async get<T extends z.ZodType>(path: string, schema: T, kind: RequestKind, signal?: AbortSignal): Promise<z.output<T>> {
    const deadline = kind === 'meta' ? this.clock.now() + this.timeoutMs : Infinity;
    for (let attempt = 0; ; attempt++) {
      try {
        const answer = await this.send('GET', path, kind, undefined, signal);
        return this.parse(answer, schema, path);
      } catch (err) {
        const retriable =
          err instanceof ApiError &&
          (err.code === 'API_UNREACHABLE' || err.code === 'API_TIMEOUT' || err.status >= 500) &&
          !signal?.aborted;
        if (!retriable || attempt >= this.getRetries) throw err;
        const cap = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** attempt);
        const wait = cap / 2 + (this.random() * cap) / 2;
        if (this.clock.now() + wait >= deadline) throw err;
        await this.clock.sleep(wait, signal);
      }
    }
  }

  /** Sends through the scheduler; a 429 backs the limiter off and resends. */
  private async send(
    method: 'GET' | 'POST',
    path: string,
    kind: RequestKind,
    body: unknown,
    signal?: AbortSignal,
    beforeSend?: () => Promise<void>,
  ): Promise<Answer> {
    // a POST's signal only guards the wait in the queue: once it is sent it runs to its answer
    const requestSignal = method === 'POST' ? undefined : signal;
    for (;;) {
      const answer = await this.scheduler.schedule(
        kind,
        async () => {
          await beforeSend?.();
          return this.once(method, path, body, requestSignal);
        },
        signal,
      );
      this.scheduler.observe?.(answer.status, answer.headers);
      if (answer.status !== 429) return answer;
      const wait = retryAfterMs(answer.headers, this.clock.now()) ?? this.rateLimitedWaitMs;
      if (this.scheduler.backOff) this.scheduler.backOff(wait);
      else await this.clock.sleep(wait, signal);
    }
  }

  private async once(method: 'GET' | 'POST', path: string, body: unknown, signal?: AbortSignal): Promise<Answer> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let res: Dispatcher.ResponseData;
    try {
      res = await request(this.baseUrl + path, {
        method,
        dispatcher: this.dispatcher,
        headers: {
          authorization: `Bearer ${this.apiKey}`,
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: combined,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
    } catch (err) {
      throw this.networkError(err, method, path, signal, timeout);
    }
    let text: string;
    try {
      text = await res.body.text();
    } catch (err) {
      throw this.networkError(err, method, path, signal, timeout);
    }
    const headers = flattenHeaders(res.headers);
    let parsed: unknown = undefined;
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    return { status: res.statusCode, headers, body: parsed };
  }

  private networkError(err: unknown, method: string, path: string, signal: AbortSignal | undefined, timeout: AbortSignal): ApiError {
    const code = errorCode(err);
    const where = `${method} ${path}`;
    if (signal?.aborted) {
      return new ApiError('INTERRUPTED', `${where} interrupted`, { sent: true, cause: err });
    }
    if (timeout.aborted || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
      return new ApiError('API_TIMEOUT', `${where}: no answer from ${this.host()} within ${this.timeoutMs} ms`, { sent: true, cause: err });
    }
    const sent = !NOT_SENT_CODES.has(code);
    const reason = code || (err instanceof Error ? err.message : String(err));
    return new ApiError('API_UNREACHABLE', `${where}: cannot reach ${this.host()} (${reason})`, { sent, cause: err });
  }

  private parse<T extends z.ZodType>(answer: Answer, schema: T, path: string): z.output<T> {
    if (answer.status === 200) {
      const ok = successBody(schema).safeParse(answer.body);
      if (ok.success) return (ok.data as { data: z.output<T> }).data;
      throw new ApiError('API_BAD_RESPONSE', `unusable answer from ${path}: ${summarizeIssue(ok.error)}`, {
        status: 200,
        headers: answer.headers,
      });
    }
    const err = errorBodySchema.safeParse(answer.body);
    const apiCode = err.success ? err.data.error.code : undefined;
    const message = err.success && err.data.error.message ? err.data.error.message : `HTTP ${answer.status}`;
    if (answer.status === 401) {
      throw new ApiError('API_UNAUTHORIZED', `API key rejected (401${apiCode ? ` ${apiCode}` : ''})`, {
        status: 401,
        apiCode,
        headers: answer.headers,
      });
    }
    if (answer.status === 402) {
      throw new ApiError('INSUFFICIENT_BALANCE', message, { status: 402, apiCode: apiCode ?? 'INSUFFICIENT_BALANCE', headers: answer.headers });
    }
    throw new ApiError('API_ERROR', `${path}: ${message}`, { status: answer.status, apiCode, headers: answer.headers });
  }

  private host(): string {
    return new URL(this.baseUrl).host;
  }
}

function flattenHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function errorCode(err: unknown): string {
  let e: unknown = err;
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return '';
}

function summarizeIssue(error: z.ZodError): string {
  const first = error.issues[0];
  return first ? `${first.path.join('.') || 'body'}: ${first.message}` : 'does not match the documented shape';
}

/**
 * How long a 429 (or an exhausted window) asks us to wait: `Retry-After` in seconds or as an
 * HTTP date, else a reset header (`X-RateLimit-Reset` / `RateLimit-Reset`) read as epoch
 * seconds when large, otherwise as seconds from now.
 */
export function retryAfterMs(headers: Record<string, string>, now: number): number | undefined {
  const ra = headers['retry-after'];
  if (ra !== undefined) {
    if (/^\s*\d+(\.\d+)?\s*$/.test(ra)) return Math.max(0, Number(ra) * 1000);
    const date = Date.parse(ra);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  const reset = headers['x-ratelimit-reset'] ?? headers['ratelimit-reset'];
  if (reset !== undefined && /^\s*\d+(\.\d+)?\s*$/.test(reset)) {
    const n = Number(reset);
    return n > 1_000_000_000 ? Math.max(0, n * 1000 - now) : n * 1000;
  }
  return undefined;
}
