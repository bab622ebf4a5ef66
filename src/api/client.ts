/**
 * Typed client for the Alsamiflexi Pro API v1. Every request goes through an optional
 * scheduler (the shared rate limiter, SPEC §6); 429s wait and resend through it, within
 * --max-wait; GETs retry network errors and 5xx with exponential backoff and jitter (SPEC §5).
 * What an answer means is decided by the outcome table (outcome.ts); POST /recharge is never
 * retried here: `submit` hands its outcome to the runner.
 *
 * Every wait (the limiter's queue and gate, a 429's pause, a GET's backoff) ends at once when
 * the client's `signal` or the call's signal aborts (SPEC §5 additions, "Signals reach every
 * wait"); a POST already sent is never aborted: it runs to its answer or its timeout.
 *
 * The API key lives only in the Authorization header (transport.ts), sent trimmed; it is
 * registered with mask.ts, so no text from the API that echoes it is ever shown or stored.
 * The options, their units and defaults: client-options.ts.
 */
import { checkSendableKey } from './key.js';
import { linkSignals } from '../util/signals.js';
import type { z } from 'zod';
import { ApiError, BatchError } from '../errors.js';
import { systemClock, type Clock } from '../clock.js';
import { DEFAULTS } from '../defaults.js';
import { addSecret, mask } from './mask.js';
import {
  acceptedTransaction,
  getOutcome,
  maskTxn,
  networkOutcome,
  postOutcome,
  type Answer,
  type PostOutcome,
} from './outcome.js';
import { rateLimitOutcome } from './rate-limited.js';
import type { RequestKind, RequestScheduler } from './headers.js';
import { Transport } from './transport.js';
import type { ClientOptions } from './client-options.js';
import { accountId } from './account.js';
import { interrupted, onlyOnce } from './wire.js';
import {
  DEFAULT_BASE_URL,
  balanceSchema,
  operatorSchema,
  transactionSchema,
  type Balance,
  type Operator,
  type RechargeRequest,
  type Transaction,
} from './types.js';

export { retryAfterMs } from './headers.js';
export type { RequestKind, RequestScheduler } from './headers.js';
export type { ClientOptions } from './client-options.js';
export { clockTime, humanMs } from './wire.js';
export type { PostOutcome } from './outcome.js';

const passThrough: RequestScheduler = { schedule: (_kind, fn) => fn() };

/** How a POST /recharge waits and what runs right before it is sent (see `submit`). */
export interface SubmitOptions {
  /** abandons the request while it waits in the limiter's queue; never once it is sent */
  queueSignal?: AbortSignal;
  /** runs inside the limiter's slot right before the first send (the runner's durable intent) */
  beforeSend?: () => Promise<void>;
}

export class AlsamiflexiClient {
  readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly transport: Transport;
  private readonly timeoutMs: number;
  private readonly scheduler: RequestScheduler;
  private readonly clock: Clock;
  private readonly getRetries: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly rateLimitedWaitMs: number;
  readonly maxWaitMs: number;
  private readonly stopSignal: AbortSignal | undefined;
  private readonly random: () => number;

  constructor(opts: ClientOptions = {}) {
    // the library reads the same environment as the CLI, so an embedding service rehearsing
    // against a sandbox never reaches production by omission
    opts = {
      ...opts,
      apiKey: opts.apiKey ?? process.env.ALSAMIFLEXI_API_KEY,
      baseUrl: opts.baseUrl ?? (process.env.ALSAMIFLEXI_BASE_URL || undefined),
    };
    const key = opts.apiKey?.trim();
    if (!key) throw new BatchError('USAGE', 'no API key: set ALSAMIFLEXI_API_KEY');
    checkSendableKey(key);
    this.apiKey = key;
    addSecret(key);
    this.baseUrl = (opts.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
    try {
      new URL(this.baseUrl);
    } catch {
      throw new BatchError('USAGE', `invalid base URL "${mask(this.baseUrl)}"`);
    }
    this.timeoutMs = opts.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs;
    this.transport = new Transport(this.baseUrl, key, this.timeoutMs, opts.dispatcher);
    this.scheduler = opts.scheduler ?? passThrough;
    this.clock = opts.clock ?? systemClock;
    this.getRetries = opts.getRetries ?? 4;
    this.backoffBaseMs = opts.backoffBaseMs ?? 500;
    this.backoffMaxMs = opts.backoffMaxMs ?? DEFAULTS.backoffMaxMs;
    this.rateLimitedWaitMs = opts.rateLimitedWaitMs ?? 1_000;
    this.maxWaitMs = opts.maxWaitMs ?? DEFAULTS.maxWaitMs;
    this.stopSignal = opts.signal;
    this.random = opts.random ?? Math.random;
  }

  /** The account this client acts for (SPEC §5a): a digest of base URL and key, never the key. */
  get account(): string {
    return accountId(this.baseUrl, this.apiKey);
  }

  async getBalance(signal?: AbortSignal): Promise<Balance> {
    return this.get('/balance', balanceSchema, 'meta', signal);
  }

  async getOperators(signal?: AbortSignal): Promise<Operator[]> {
    return this.get('/operators', operatorSchema.array(), 'meta', signal);
  }

  async getTransaction(id: string, signal?: AbortSignal): Promise<Transaction> {
    return maskTxn(
      await this.get(`/transaction/${encodeURIComponent(id)}`, transactionSchema, 'poll', signal),
    );
  }

  /**
   * One POST /recharge, sent once (429s aside: a 429 means the server did nothing, so it is
   * resent), and what its answer means (outcome.ts). Throws only when it could not be sent:
   * ApiError `INTERRUPTED` (stopped while waiting), `RATE_LIMITED` (the API asked for more
   * than --max-wait), or whatever `beforeSend` threw.
   *
   * `queueSignal` abandons the request only while it waits — once sent, a POST is never
   * aborted (an aborted POST would be ambiguous). `beforeSend` runs inside the limiter slot
   * right before the first send: the runner makes its intent durable there, so a row waiting
   * in the queue when the process dies was certainly never sent.
   */
  async submit(body: RechargeRequest, opts: SubmitOptions = {}): Promise<PostOutcome> {
    let answer: Answer;
    try {
      answer = await this.postRecharge(body, opts);
    } catch (err) {
      if (err instanceof ApiError && (err.code === 'API_UNREACHABLE' || err.code === 'API_TIMEOUT'))
        return networkOutcome(err);
      throw err;
    }
    return postOutcome(answer);
  }

  /**
   * `submit` for library users who want a Transaction or an error: resolves with the accepted
   * transaction; throws ApiError for every other outcome.
   */
  async recharge(body: RechargeRequest, opts: SubmitOptions = {}): Promise<Transaction> {
    const answer = await this.postRecharge(body, opts);
    return acceptedTransaction(postOutcome(answer), answer);
  }

  /** The POST itself, for `submit` and `recharge`: `beforeSend` runs at most once. */
  private postRecharge(body: RechargeRequest, opts: SubmitOptions): Promise<Answer> {
    return this.send('POST', '/recharge', 'submit', body, opts.queueSignal, onlyOnce(opts.beforeSend));
  }

  async close(): Promise<void> {
    await this.transport.close();
  }

  /**
   * GETs retry with backoff. Balance and operators (`meta`: what a command needs before it can
   * start) give up once the request timeout has passed, so an unreachable API is reported
   * within it; status polls keep their retries, to ride out a blip in the middle of a batch.
   */
  private async get<T extends z.ZodType>(
    path: string,
    schema: T,
    kind: RequestKind,
    signal?: AbortSignal,
  ): Promise<z.output<T>> {
    const deadline = kind === 'meta' ? this.clock.now() + this.timeoutMs : Infinity;
    const link = linkSignals(signal, this.stopSignal);
    try {
      return await this.getWithRetries(path, schema, kind, deadline, signal, link.signal);
    } finally {
      link.dispose();
    }
  }

  private async getWithRetries<T extends z.ZodType>(
    path: string,
    schema: T,
    kind: RequestKind,
    deadline: number,
    signal: AbortSignal | undefined,
    waitSignal: AbortSignal | undefined,
  ): Promise<z.output<T>> {
    for (let attempt = 0; ; attempt++) {
      let error: ApiError;
      try {
        const o = getOutcome(await this.send('GET', path, kind, undefined, signal), schema, path);
        if (o.kind === 'ok') return o.data;
        if (o.kind === 'error') throw o.error;
        error = o.error;
      } catch (err) {
        const retriable =
          err instanceof ApiError && (err.code === 'API_UNREACHABLE' || err.code === 'API_TIMEOUT');
        if (!retriable) throw err;
        error = err;
      }
      if (waitSignal?.aborted || attempt >= this.getRetries) throw error;
      const cap = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** attempt);
      const wait = cap / 2 + (this.random() * cap) / 2;
      if (this.clock.now() + wait >= deadline) throw error;
      await this.clock.sleep(wait, waitSignal).catch(() => {
        throw interrupted('GET', path);
      });
    }
  }

  /**
   * Sends through the scheduler; a 429 backs the limiter off and resends, unless the wait it
   * asks for, or the time spent on 429s so far, passes --max-wait (SPEC §5 additions).
   */
  private async send(
    method: 'GET' | 'POST',
    path: string,
    kind: RequestKind,
    body: unknown,
    signal?: AbortSignal,
    beforeSend?: () => Promise<void>,
  ): Promise<Answer> {
    // the call's signal and the client's stop signal, either of which ends a wait
    const link = linkSignals(signal, this.stopSignal);
    try {
      return await this.sendWaiting(method, path, kind, body, link.signal, beforeSend);
    } finally {
      link.dispose();
    }
  }

  private async sendWaiting(
    method: 'GET' | 'POST',
    path: string,
    kind: RequestKind,
    body: unknown,
    waitSignal: AbortSignal | undefined,
    beforeSend?: () => Promise<void>,
  ): Promise<Answer> {
    // a POST's signals only guard its waits: once it is sent it runs to its answer
    const requestSignal = method === 'POST' ? undefined : waitSignal;
    const started = this.clock.now();
    for (;;) {
      let hookFailed: { err: unknown } | undefined;
      let answer: Answer;
      try {
        answer = await this.scheduler.schedule(
          kind,
          async () => {
            try {
              await beforeSend?.();
            } catch (err) {
              hookFailed = { err };
              throw err;
            }
            return this.transport.exchange(method, path, body, requestSignal);
          },
          waitSignal,
        );
      } catch (err) {
        if (hookFailed) throw hookFailed.err;
        if (err instanceof ApiError) throw err;
        if (waitSignal?.aborted) throw interrupted(method, path);
        throw err;
      }
      this.scheduler.observe?.(answer.status, answer.headers);
      if (answer.status !== 429) return answer;
      const verdict = rateLimitOutcome(answer, {
        method,
        path,
        kind,
        now: this.clock.now(),
        startedAt: started,
        maxWaitMs: this.maxWaitMs,
        fallbackMs: this.rateLimitedWaitMs,
      });
      if (verdict.kind === 'give-up') throw verdict.error;
      const wait = verdict.ms;
      if (this.scheduler.backOff) this.scheduler.backOff(wait);
      else
        await this.clock.sleep(wait, waitSignal).catch(() => {
          throw interrupted(method, path);
        });
    }
  }
}
