/**
 * One HTTP exchange with the API and nothing more: the request with the key in its
 * Authorization header, the timeouts, the body read and decoded (decode.ts), and a failure
 * named by what it means for money (wire.ts `networkError`: was anything sent?). Scheduling,
 * 429s, retries and what an answer means are the client's and the outcome table's.
 */
import { timedSignal, type TimedSignal } from '../util/signals.js';
import { Agent, request, type Dispatcher } from 'undici';
import { readAnswer } from './decode.js';
import type { Answer } from './outcome.js';
import { flattenHeaders, networkError } from './wire.js';

export class Transport {
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly host: string;

  /**
   * `baseUrl` without a trailing slash, already checked to parse; `apiKey` trimmed;
   * `timeoutMs` bounds connecting, the headers and the body each. Without a `dispatcher`, a
   * keep-alive Agent of its own, closed by {@link close}.
   */
  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
    private readonly timeoutMs: number,
    dispatcher?: Dispatcher,
  ) {
    this.ownsDispatcher = !dispatcher;
    this.dispatcher = dispatcher ?? new Agent({ connect: { timeout: timeoutMs }, keepAliveTimeout: 4_000 });
    this.host = new URL(baseUrl).host;
  }

  /**
   * Sends one request and reads its whole answer, whatever its status.
   * @throws ApiError INTERRUPTED (`signal` aborted), API_TIMEOUT or API_UNREACHABLE, with
   *   `sent` false only when nothing can have reached the server (wire.ts)
   */
  async exchange(method: 'GET' | 'POST', path: string, body: unknown, signal?: AbortSignal): Promise<Answer> {
    // not AbortSignal.any: `signal` may be long-lived (util/signals.ts)
    const link = timedSignal(signal, this.timeoutMs);
    try {
      return await this.exchangeOnce(method, path, body, signal, link);
    } finally {
      link.dispose();
    }
  }

  private async exchangeOnce(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    signal: AbortSignal | undefined,
    link: TimedSignal,
  ): Promise<Answer> {
    const failed = (err: unknown) =>
      networkError(err, {
        where: `${method} ${path}`,
        host: this.host,
        timeoutMs: this.timeoutMs,
        aborted: signal?.aborted === true,
        timedOut: link.timedOut,
      });
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
        signal: link.signal,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
    } catch (err) {
      throw failed(err);
    }
    let raw: Buffer;
    try {
      raw = Buffer.from(await res.body.arrayBuffer());
    } catch (err) {
      throw failed(err);
    }
    return readAnswer(res.statusCode, flattenHeaders(res.headers), raw);
  }

  /** Closes the Agent it made; a dispatcher passed in is its owner's to close. */
  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }
}
