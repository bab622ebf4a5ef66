/**
 * The sandbox's rate limit (SPEC §6, API doc "Rate Limits"). The doc only says "60 requests/minute"
 * and "rate limit headers are included in each response", so these are our choices:
 *
 * - What counts: every /api/v1 request that passes auth, at the clock time it ARRIVES (before any
 *   injected latency; with `arrivalJitterMs` a request arrives a random 0..that many ms after it
 *   reached the socket, as if the network delayed it). 401s and the /__sandbox admin routes do
 *   not count. A request answered 429 does not count either: it uses no quota, so a client that
 *   keeps retrying too early is not punished beyond the 429 itself.
 * - fixed: windows of `windowMs` aligned to the sandbox's start time: [origin + k·w, origin + (k+1)·w).
 *   At most `limit` requests are accepted per window.
 * - sliding: at most `limit` accepted requests in any trailing `windowMs`. A request accepted at t
 *   is counted while now < t + windowMs.
 * - Headers (on every answer that passed auth, 429 included, unless turned off):
 *   `X-RateLimit-Limit` = limit; `X-RateLimit-Remaining` = requests still allowed in the current
 *   window after this one (0 on a 429); `X-RateLimit-Reset` = Unix epoch SECONDS, rounded up, at
 *   which the current fixed window ends, or (sliding) at which the oldest counted request leaves
 *   the window and frees a slot.
 * - `Retry-After` (429 only) = whole seconds until that reset instant, rounded up, at least 1, so
 *   a client that waits exactly that long is never early.
 * - `rateLimit: null` means unlimited: nothing is counted and no X-RateLimit-* headers are sent.
 */
import { parseRate, type Rate } from '../util/units.js';
import { BatchError } from '../errors.js';

export type RateLimitWindow = 'fixed' | 'sliding';

export interface RateDecision {
  allowed: boolean;
  limit: number;
  windowMs: number;
  remaining: number;
  /** clock ms at which the current window ends / the oldest counted request leaves it */
  resetAtMs: number;
  /** whole seconds, ≥ 1; meaningful when !allowed */
  retryAfterSec: number;
}

export interface RateLimiter {
  readonly rate: Rate;
  /** Decides the request arriving at `now`, and counts it when allowed. */
  take(now: number): RateDecision;
}

/** `'60/min'`, `{limit, windowMs}` or null (unlimited) → a Rate or null. */
export function resolveRate(option: string | Rate | null | undefined): Rate | null {
  if (option === null) return null;
  if (option === undefined) return parseRate('60/min');
  if (typeof option === 'string') return parseRate(option);
  const { limit, windowMs } = option;
  if (!Number.isInteger(limit) || limit <= 0 || !Number.isFinite(windowMs) || windowMs <= 0) {
    throw new BatchError(
      'USAGE',
      `invalid rate limit ${JSON.stringify(option)}: limit and windowMs must be positive`,
    );
  }
  return { limit, windowMs };
}

function retryAfter(resetAtMs: number, now: number): number {
  return Math.max(1, Math.ceil((resetAtMs - now) / 1000));
}

class FixedWindowLimiter implements RateLimiter {
  private windowIndex = Number.NaN;
  private count = 0;

  constructor(
    readonly rate: Rate,
    private readonly origin: number,
  ) {}

  take(now: number): RateDecision {
    const { limit, windowMs } = this.rate;
    const index = Math.floor((now - this.origin) / windowMs);
    if (index !== this.windowIndex) {
      this.windowIndex = index;
      this.count = 0;
    }
    const resetAtMs = this.origin + (index + 1) * windowMs;
    const allowed = this.count < limit;
    if (allowed) this.count++;
    return {
      allowed,
      limit,
      windowMs,
      remaining: limit - this.count,
      resetAtMs,
      retryAfterSec: retryAfter(resetAtMs, now),
    };
  }
}

class SlidingWindowLimiter implements RateLimiter {
  /** arrival times of the accepted requests still inside the window, oldest first */
  private log: number[] = [];

  constructor(readonly rate: Rate) {}

  take(now: number): RateDecision {
    const { limit, windowMs } = this.rate;
    let drop = 0;
    while (drop < this.log.length && this.log[drop]! + windowMs <= now) drop++;
    if (drop > 0) this.log.splice(0, drop);
    const allowed = this.log.length < limit;
    if (allowed) this.log.push(now);
    const resetAtMs = this.log[0]! + windowMs;
    return {
      allowed,
      limit,
      windowMs,
      remaining: limit - this.log.length,
      resetAtMs,
      retryAfterSec: retryAfter(resetAtMs, now),
    };
  }
}

export function createRateLimiter(rate: Rate, window: RateLimitWindow, origin: number): RateLimiter {
  return window === 'sliding' ? new SlidingWindowLimiter(rate) : new FixedWindowLimiter(rate, origin);
}

export function rateLimitHeaders(decision: RateDecision): Record<string, string> {
  const headers: Record<string, string> = {
    'X-RateLimit-Limit': String(decision.limit),
    'X-RateLimit-Remaining': String(Math.max(0, decision.remaining)),
    'X-RateLimit-Reset': String(Math.ceil(decision.resetAtMs / 1000)),
  };
  return headers;
}
