/**
 * What a 429 answer means for the request it answered (SPEC §5 additions, "Waits the server
 * asks for are sane"): wait and resend, or give up at --max-wait. The client asks it after
 * every 429; the wait itself is read from the headers by headers.ts.
 */
import { ApiError } from '../errors.js';
import { retryAfterMs, type RequestKind } from './headers.js';
import type { Answer } from './outcome.js';
import { clockTime, humanMs } from './wire.js';

export type RateLimitVerdict = { kind: 'wait'; ms: number } | { kind: 'give-up'; error: ApiError };

/**
 * What a 429 means (SPEC §5 additions, "Waits the server asks for are sane"): wait as long as
 * it asks (or `fallbackMs`) and resend — unless that one wait is longer than --max-wait
 * (`RATE_LIMITED`, exit 4, naming when to come back), or the request has been answered 429
 * for longer than --max-wait in all (`API_RATE_LIMITED` at start-up — a `meta` request — exit
 * 3; `RATE_LIMITED` mid-run, exit 4). Nothing was done by the server in either case (`sent: false`).
 */
export function rateLimitOutcome(
  answer: Pick<Answer, 'headers'>,
  req: {
    method: string;
    path: string;
    kind: RequestKind;
    now: number;
    startedAt: number;
    maxWaitMs: number;
    fallbackMs: number;
  },
): RateLimitVerdict {
  const { now, maxWaitMs } = req;
  const wait = retryAfterMs(answer.headers, now) ?? req.fallbackMs;
  if (wait > maxWaitMs) {
    const until = new Date(now + wait);
    const message = `the API asked us to come back at ${clockTime(until)} (in ${humanMs(wait)}), longer than --max-wait ${humanMs(maxWaitMs)}; nothing more was sent — run the same command again after ${clockTime(until)} to resume`;
    return {
      kind: 'give-up',
      error: new ApiError('RATE_LIMITED', message, {
        status: 429,
        sent: false,
        headers: answer.headers,
        retryAt: until.getTime(),
      }),
    };
  }
  if (now + wait - req.startedAt > maxWaitMs) {
    const message = `${req.method} ${req.path} was answered 429 (rate limited) again and again for ${humanMs(now - req.startedAt)}; gave up at --max-wait ${humanMs(maxWaitMs)}`;
    return {
      kind: 'give-up',
      error: new ApiError(req.kind === 'meta' ? 'API_RATE_LIMITED' : 'RATE_LIMITED', message, {
        status: 429,
        sent: false,
        headers: answer.headers,
      }),
    };
  }
  return { kind: 'wait', ms: wait };
}
