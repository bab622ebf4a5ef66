/** Small helpers for the wire and for people: headers, network errors, times and durations. */
import { ApiError } from '../errors.js';
import { mask } from './mask.js';

/** Network error codes after which nothing can have reached the server. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * A request that got no answer: INTERRUPTED (its signal), API_TIMEOUT (sent, no answer in
 * time) or API_UNREACHABLE, with `sent` false only when the connection was refused before
 * anything was written — the one case a POST may be resent (SPEC §5).
 */
export function networkError(
  err: unknown,
  at: { where: string; host: string; timeoutMs: number; aborted: boolean; timedOut: boolean },
): ApiError {
  const code = errorCode(err);
  if (at.aborted) return new ApiError('INTERRUPTED', `${at.where} interrupted`, { sent: true, cause: err });
  if (at.timedOut || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new ApiError('API_TIMEOUT', `${at.where}: no answer from ${at.host} within ${at.timeoutMs} ms`, {
      sent: true,
      cause: err,
    });
  }
  const reason = code || (err instanceof Error ? mask(err.message) : 'network error');
  const sent = !NOT_SENT_CODES.has(code);
  // a request that may have reached the server must not read as one that never left: "cannot
  // reach" next to a row the API charged sent a clerk the wrong way
  const what = sent ? `the connection to ${at.host} was cut before the answer` : `cannot reach ${at.host}`;
  return new ApiError('API_UNREACHABLE', `${at.where}: ${what} (${reason})`, { sent, cause: err });
}

/** A request given up while it waited: certainly never sent. */
export function interrupted(method: string, path: string): ApiError {
  return new ApiError('INTERRUPTED', `${method} ${path}: stopped before it was sent`, { sent: false });
}

/** `fn` run at most once (the intent is written before the first send, not before a 429's resend). */
export function onlyOnce(fn: (() => Promise<void>) | undefined): (() => Promise<void>) | undefined {
  let before = fn;
  return before
    ? async () => {
        const f = before;
        before = undefined;
        await f?.();
      }
    : undefined;
}

export function flattenHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h))
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/** The first `code` string along an error's `cause` chain ('' if none). */
export function errorCode(err: unknown): string {
  let e: unknown = err;
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return '';
}

/** `14:05:12` in local time: when the API said to come back. */
export function clockTime(d: Date): string {
  return d.toTimeString().slice(0, 8);
}

/** `45s`, `5m`, `1h 2m`: a wait for people. */
export function humanMs(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m}m`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}
