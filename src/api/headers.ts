/**
 * What the rate limiter needs from the API side, and nothing heavier: the scheduler seam every
 * request passes through, and the reading of the wait a server asks for. It imports nothing,
 * so `limit/` depends on this file alone and never on the client (docs/design.md, "Import
 * direction").
 */

/** What a request is for; the limiter may order them (polls must not starve, SPEC §6). */
export type RequestKind = 'meta' | 'submit' | 'poll';

/** The seam where the rate limiter plugs in (`limit/limiter.ts` implements it). */
export interface RequestScheduler {
  /** Runs `fn` in turn; rejects with the signal's reason as soon as it aborts while waiting. */
  schedule<T>(kind: RequestKind, fn: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Every response's status and headers (names lower-cased), so the limiter can re-sync with the server. */
  observe?(status: number, headers: Record<string, string>): void;
  /** A 429 said: wait this long (ms) before anything else is sent. */
  backOff?(ms: number): void;
}

/**
 * How long a 429 (or an exhausted window) asks us to wait, in ms from `now` (epoch ms)
 * (SPEC §5 additions, "Waits the server asks for are sane"; header names: docs/api.md,
 * "Rate-limit header names"):
 * - `Retry-After` as seconds, or as an HTTP date read against the answer's own `Date` header
 *   (so a server clock an hour ahead asks for the wait it means, not an hour more);
 * - else `X-RateLimit-Reset` / `RateLimit-Reset`: told apart by magnitude — ≥ 1e12 epoch
 *   milliseconds, ≥ 1e9 epoch seconds (both read against `Date` too), else seconds from now.
 * `headers` has lower-case names. Never negative, never NaN, never throws; undefined when no
 * header says anything usable.
 */
export function retryAfterMs(headers: Record<string, string>, now: number): number | undefined {
  const date = headers.date ? Date.parse(headers.date) : NaN;
  const serverNow = Number.isNaN(date) ? now : date;
  const ra = headers['retry-after']?.trim();
  if (ra) {
    if (/^\d+(\.\d+)?$/.test(ra)) return Number(ra) * 1000;
    const at = Date.parse(ra);
    if (!Number.isNaN(at)) return Math.max(0, at - serverNow);
  }
  const reset = (headers['x-ratelimit-reset'] ?? headers['ratelimit-reset'])?.trim();
  if (reset && /^\d+(\.\d+)?$/.test(reset)) {
    const n = Number(reset);
    if (n >= 1e12) return Math.max(0, n - serverNow);
    if (n >= 1e9) return Math.max(0, n * 1000 - serverNow);
    return n * 1000;
  }
  return undefined;
}
