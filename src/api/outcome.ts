/**
 * The outcome table: what every answer of the API means, in one place (SPEC §5 and "§5
 * additions"). The client reads answers with it, the runner acts on POST outcomes, the poller
 * on status words. Nothing else interprets a status code, a body or a network failure.
 *
 * POST /recharge, in the order the rules are applied:
 *
 * | answer                                          | outcome      | the row becomes            |
 * |-------------------------------------------------|--------------|----------------------------|
 * | 2xx with a `transaction_id` anywhere in it      | `accepted`   | its status word, or `processing` (polled) when the body does not fit |
 * | 2xx `success: false` with `error.code`          | `rejected`   | `failed` with that code    |
 * | 2xx without an id, unreadable                   | `ambiguous`  | `unknown` (resendable)     |
 * | 400 / 422                                       | `rejected`   | `failed` with the API code |
 * | 400 / 422 DUPLICATE_REFERENCE                   | `ambiguous`  | `unknown` (never resent)   |
 * | 401                                             | `fatal`      | pending; the run stops (exit 3) |
 * | 403 / 404 / 405 (wrong URL or account)          | `fatal`      | pending; the run stops (exit 3) |
 * | 402                                             | `short`      | pending; submitting stops (exit 4) |
 * | 429                                             | (the client waits and resends within --max-wait; see rate-limited.ts) |
 * | other 4xx, 5xx                                  | `ambiguous`  | `unknown` (resendable)     |
 * | connection refused before sending               | `not-sent`   | resent after a backoff     |
 * | timeout, reset after sending                    | `ambiguous`  | `unknown` (resendable)     |
 *
 * "Resendable" means: resent with the same reference only under --reference-dedup.
 * GETs: 2xx that fits → data; 5xx and network errors → retried with backoff; 401 → fatal;
 * anything else → an error with the API's code. All API text in messages is masked (mask.ts).
 */
import type { z } from 'zod';
import { ApiError } from '../errors.js';
import { mask } from './mask.js';
import { readStatusWord, type StatusReading } from './status-words.js';
import { errorBodySchema, successBody, transactionSchema, type Transaction } from './types.js';

export { readStatusWord } from './status-words.js';
export type { RowOutcome, StatusReading } from './status-words.js';

/** One HTTP answer, decoded (Content-Encoding undone, BOM dropped) and parsed if it is JSON. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  /** the decoded text ('' when empty or undecodable) */
  text: string;
  /** the parsed JSON, or undefined */
  body: unknown;
  /** why the body could not be decoded (bad gzip…), if so */
  undecodable?: string;
}

export type PostOutcome =
  /** the API took the recharge: `txn.transaction_id` must be made durable before anything else */
  | { kind: 'accepted'; txn: Transaction; status: StatusReading; salvaged?: string }
  /** the API refused the row; nothing was charged */
  | { kind: 'rejected'; code: string; message: string }
  /** the recharge may or may not have been carried out */
  | { kind: 'ambiguous'; code: string; message: string; resendable: boolean }
  /** certainly never reached the server */
  | { kind: 'not-sent'; code: string; message: string }
  /** 402: the balance is short; nothing was charged */
  | { kind: 'short'; message: string }
  /** the whole run must stop (key rejected, wrong URL or account); nothing was charged */
  | { kind: 'fatal'; error: ApiError };

const ID_IN_TEXT = /"transaction_?id"\s*:\s*"?([A-Za-z0-9][A-Za-z0-9_.:-]{0,127})"?/i;

/**
 * Any transaction id in a POST answer: `data.transaction_id`, a top-level `transaction_id`,
 * `data.transaction.transaction_id`/`.id`, or — when the body is not even JSON — the text of
 * a `"transaction_id": "…"` pair. (SPEC §5 additions: "A transaction id is never lost".)
 */
export function findTransactionId(answer: Pick<Answer, 'body' | 'text'>): string | undefined {
  const asId = (v: unknown) =>
    typeof v === 'string' && v.trim()
      ? v.trim()
      : typeof v === 'number' && Number.isFinite(v)
        ? String(v)
        : undefined;
  const b = answer.body as Record<string, unknown> | undefined;
  if (b && typeof b === 'object') {
    const data = b.data as Record<string, unknown> | undefined;
    const nested =
      data && typeof data === 'object'
        ? (data.transaction as Record<string, unknown> | undefined)
        : undefined;
    const found =
      asId(data && typeof data === 'object' ? data.transaction_id : undefined) ??
      asId(b.transaction_id) ??
      asId(nested && typeof nested === 'object' ? (nested.transaction_id ?? nested.id) : undefined);
    if (found) return found;
  }
  return ID_IN_TEXT.exec(answer.text)?.[1];
}

/** The API's `{success:false, error:{code,message}}`, masked, if the body has that shape. */
export function apiError(body: unknown): { code: string; message: string } | undefined {
  // most answers are successes: a failed parse builds zod's issue list, which costs more than
  // reading the answer (1.3 % of a run's main thread), so only a body saying false is parsed
  if ((body as { success?: unknown } | null)?.success !== false) return undefined;
  const e = errorBodySchema.safeParse(body);
  return e.success ? { code: mask(e.data.error.code), message: mask(e.data.error.message) } : undefined;
}

/** What a POST /recharge answer (never a 429: the client handles those) means. */
export function postOutcome(answer: Answer): PostOutcome {
  const { status } = answer;
  const err = apiError(answer.body);
  if (status >= 200 && status < 300) {
    const id = findTransactionId(answer);
    if (id) {
      const fit = successBody(transactionSchema).safeParse(answer.body);
      if (fit.success) {
        const txn = maskTxn(fit.data.data);
        return { kind: 'accepted', txn, status: readStatusWord(txn.status) };
      }
      // schema drift: keep the id, poll it for the truth
      const why =
        answer.undecodable ??
        (err ? `success false: ${err.code} ${err.message}` : 'the answer does not fit the documented shape');
      return {
        kind: 'accepted',
        txn: { transaction_id: id, status: 'processing' },
        status: { outcome: 'processing', word: '', known: true },
        salvaged: mask(why),
      };
    }
    if (err) return refusal(err.code, err.message);
    const why =
      answer.undecodable ??
      (answer.text ? 'the answer does not fit the documented shape' : 'an empty answer');
    return {
      kind: 'ambiguous',
      code: 'API_BAD_RESPONSE',
      message: `unusable answer to POST /recharge (HTTP ${status}): ${why}`,
      resendable: true,
    };
  }
  const code = err?.code ?? `HTTP_${status}`;
  const message = err?.message || `HTTP ${status}`;
  if (status === 400 || status === 422) return refusal(code, message);
  if (status === 401) return { kind: 'fatal', error: unauthorized(answer, err?.code) };
  if (status === 402) return { kind: 'short', message };
  if (status === 403 || status === 404 || status === 405) {
    return {
      kind: 'fatal',
      error: new ApiError(
        'API_ERROR',
        `POST /recharge: ${message} (HTTP ${status}): check --base-url and the account`,
        { status, apiCode: err?.code, headers: answer.headers },
      ),
    };
  }
  return { kind: 'ambiguous', code, message: `POST /recharge: ${message}`, resendable: true };
}

/**
 * A POST outcome as a library user of `AlsamiflexiClient.recharge` wants it: the accepted
 * transaction, or an error.
 * @throws ApiError INSUFFICIENT_BALANCE (402), API_UNAUTHORIZED or API_ERROR (fatal: 401, 403,
 *   404, 405), API_ERROR with the API's code (rejected), API_BAD_RESPONSE or API_ERROR (ambiguous,
 *   not-sent: the recharge may or may not have happened)
 */
export function acceptedTransaction(o: PostOutcome, answer: Pick<Answer, 'status' | 'headers'>): Transaction {
  const init = { status: answer.status, headers: answer.headers };
  switch (o.kind) {
    case 'accepted':
      return o.txn;
    case 'fatal':
      throw o.error;
    case 'short':
      throw new ApiError('INSUFFICIENT_BALANCE', o.message, { ...init, apiCode: 'INSUFFICIENT_BALANCE' });
    case 'rejected':
      throw new ApiError('API_ERROR', `/recharge: ${o.message}`, { ...init, apiCode: o.code });
    default:
      throw new ApiError(o.code === 'API_BAD_RESPONSE' ? 'API_BAD_RESPONSE' : 'API_ERROR', o.message, {
        ...init,
        apiCode: o.code.startsWith('HTTP_') || o.code === 'API_BAD_RESPONSE' ? undefined : o.code,
      });
  }
}

/** A 400/422 or `success: false`: failed — except a reused reference, which may have been paid. */
function refusal(code: string, message: string): PostOutcome {
  if (code === 'DUPLICATE_REFERENCE')
    return { kind: 'ambiguous', code, message: message || code, resendable: false };
  return { kind: 'rejected', code, message: message || code };
}

/** A POST that got no answer. */
export function networkOutcome(err: ApiError): PostOutcome {
  if (err.code === 'API_UNREACHABLE' && !err.sent)
    return { kind: 'not-sent', code: err.code, message: mask(err.message) };
  return { kind: 'ambiguous', code: err.code, message: mask(err.message), resendable: true };
}

export type GetOutcome<T> =
  { kind: 'ok'; data: T } | { kind: 'retry'; error: ApiError } | { kind: 'error'; error: ApiError };

/** What a GET answer (never a 429) means; `path` names it in messages. */
export function getOutcome<T extends z.ZodType>(
  answer: Answer,
  schema: T,
  path: string,
): GetOutcome<z.output<T>> {
  const { status, headers } = answer;
  const err = apiError(answer.body);
  if (status >= 200 && status < 300) {
    const ok = successBody(schema).safeParse(answer.body);
    if (ok.success) return { kind: 'ok', data: (ok.data as { data: z.output<T> }).data };
    if (err)
      return {
        kind: 'error',
        error: new ApiError('API_ERROR', `${path}: ${err.code} ${err.message}`.trim(), {
          status,
          apiCode: err.code,
          headers,
        }),
      };
    const why =
      answer.undecodable ??
      (ok.error.issues[0]
        ? `${ok.error.issues[0].path.join('.') || 'body'}: ${ok.error.issues[0].message}`
        : 'does not fit');
    return {
      kind: 'error',
      error: new ApiError('API_BAD_RESPONSE', `unusable answer from ${path}: ${mask(why)}`, {
        status,
        headers,
      }),
    };
  }
  if (status === 401) return { kind: 'error', error: unauthorized(answer, err?.code) };
  if (status === 402) {
    return {
      kind: 'error',
      error: new ApiError('INSUFFICIENT_BALANCE', err?.message || 'HTTP 402', {
        status,
        apiCode: err?.code ?? 'INSUFFICIENT_BALANCE',
        headers,
      }),
    };
  }
  const error = new ApiError('API_ERROR', `${path}: ${err?.message || `HTTP ${status}`}`, {
    status,
    apiCode: err?.code,
    headers,
  });
  return status >= 500 ? { kind: 'retry', error } : { kind: 'error', error };
}

function unauthorized(answer: Answer, apiCode: string | undefined): ApiError {
  return new ApiError('API_UNAUTHORIZED', `API key rejected (401${apiCode ? ` ${apiCode}` : ''})`, {
    status: 401,
    apiCode,
    headers: answer.headers,
  });
}

/** The free-text fields of a transaction, masked. */
export function maskTxn(txn: Transaction): Transaction {
  return {
    ...txn,
    status: mask(txn.status),
    ...(txn.message ? { message: mask(txn.message) } : {}),
    ...(txn.error_code ? { error_code: mask(txn.error_code) } : {}),
    ...(txn.operator ? { operator: mask(txn.operator) } : {}),
  };
}
