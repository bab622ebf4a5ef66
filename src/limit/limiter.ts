/**
 * The one rate limiter every API request passes (SPEC §6).
 *
 * Pacing is Bottleneck's `minTime` (one request every window/limit ms, plus a small safety
 * margin) with `maxConcurrent` = --concurrency. We deliberately do not use Bottleneck's
 * reservoir: its refresh timer drifts and cannot be aligned with the server's window
 * (SGNL/bottleneck#153), and in local mode any updateSettings() stops reservoir refresh
 * (#185). Evenly spaced requests stay under a fixed window and a sliding window alike.
 *
 * The server's own word wins: a 429's Retry-After, or a `Remaining: 0` header with a reset
 * time, closes a gate that every job waits at before sending; the jobs then leave the gate
 * one `minTime` apart, so a pause never ends in a burst. A server limit lower than ours
 * (`X-RateLimit-Limit` / `RateLimit-Limit`) slows the pacing down to match.
 *
 * Every wait here ends at once when the request's signal aborts — in Bottleneck's queue
 * (which cannot drop one job, so the caller stops waiting and the job, when its turn comes,
 * does nothing) and at the gate (SPEC §5 additions, "Signals reach every wait"). A gate closed
 * by headers alone (no 429) is never held longer than --max-wait: a 429 will say more.
 *
 * Jitter (SPEC §6, issue #13): the margin adapts to 429s our pace did not predict (margin.ts).
 * Requests that come while held ones are still being let out of the gate queue behind them
 * (they used to leave beside them: a bunch that drew a 429 about every 2 s against a busy sliding
 * window). A sliding log of our own sends backs the spacing: never more than `limit` sends
 * within `window × (1 + margin)`, what a strict sliding window needs when arrivals jitter by up
 * to `window × margin`.
 */
import Bottleneck from 'bottleneck';
import PQueue from 'p-queue';
import { systemClock, type Clock } from '../clock.js';
import { retryAfterMs, type RequestKind, type RequestScheduler } from '../api/headers.js';
import type { Rate } from '../util/units.js';
import { PacingMargin, SendLog } from './margin.js';
import { redisBottleneck, type SharedBottleneck } from './redis.js';

export const PLANS = {
  starter: { limit: 60, windowMs: 60_000 },
  business: { limit: 120, windowMs: 60_000 },
} as const satisfies Record<string, Rate>;
export type Plan = keyof typeof PLANS | 'enterprise';

export { MARGIN_NARROW, MARGIN_STEP, UNANNOUNCED_SLOWDOWN } from './margin.js';

/** Lower number runs first: due polls before meta calls before new submissions. */
const PRIORITY: Record<RequestKind, number> = { poll: 3, meta: 4, submit: 5 };

export interface LimiterOptions {
  rate: Rate;
  concurrency: number;
  clock?: Clock;
  /**
   * Fraction added to the spacing between requests, for network jitter (default 0.02): the base
   * of the adaptive margin, which 429s widen and quiet windows narrow back to it.
   */
  safety?: number;
  /** Share the pacing with every process using this API key, through Redis (SPEC §6). */
  redis?: { url: string; apiKey: string };
  /** --max-wait (ms, default 5 min): the longest a reset header alone may close the gate */
  maxWaitMs?: number;
}

export interface LimiterStats {
  scheduled: number;
  rateLimited: number;
  backOffMs: number;
  /** the pacing margin now, a fraction (0.02 = 2 %) */
  margin: number;
  /** 429s that widened the margin */
  widened: number;
}

export class RateLimiter implements RequestScheduler {
  readonly rate: Rate;
  /** null until a Redis-backed limiter is ready */
  private bottleneck: Bottleneck | null = null;
  private readonly clock: Clock;
  private readonly safety: number;
  /** the pacing margin: ≥ safety, widened by unpredicted 429s (SPEC §6) */
  private readonly margin: PacingMargin;
  /** the limit we pace to: the configured one, or a lower one the server announced */
  private limit: number;
  private minTime: number;
  private serverAnnouncesLimit = false;
  /** when our recent requests were (or are booked to be) sent: one more than the limit */
  private readonly sent: SendLog;
  private blockedUntil = 0;
  private nextGateSlot = 0;
  private readonly counters: Omit<LimiterStats, 'margin'> = {
    scheduled: 0,
    rateLimited: 0,
    backOffMs: 0,
    widened: 0,
  };
  private readonly shared: SharedBottleneck | null = null;
  /** in Redis mode Bottleneck's maxConcurrent would be cluster-wide: --concurrency is per process */
  private readonly local: PQueue | null = null;
  private readonly maxWaitMs: number;

  constructor(opts: LimiterOptions) {
    this.rate = opts.rate;
    this.maxWaitMs = opts.maxWaitMs ?? 5 * 60_000;
    this.clock = opts.clock ?? systemClock;
    this.safety = opts.safety ?? 0.02;
    this.margin = new PacingMargin(this.safety, opts.rate.windowMs);
    this.sent = new SendLog(opts.rate.limit + 1);
    this.limit = opts.rate.limit;
    this.minTime = spacing(opts.rate.limit, opts.rate.windowMs, this.safety);
    const concurrency = Math.max(1, opts.concurrency);
    if (opts.redis) {
      this.shared = redisBottleneck(opts.redis.url, opts.redis.apiKey, { minTime: this.minTime });
      this.shared.ready.then(
        (b) => {
          this.bottleneck = b;
          // a lower server limit may have been seen while connecting
          void b.updateSettings({ minTime: this.minTime });
        },
        () => undefined,
      );
      this.local = new PQueue({ concurrency });
    } else {
      this.bottleneck = new Bottleneck({ minTime: this.minTime, maxConcurrent: concurrency });
    }
  }

  /** Resolves when the limiter can take requests (Redis connected); rejects if it never will. */
  async ready(): Promise<void> {
    await this.shared?.ready;
  }

  /** The pacing interval in ms (for ETAs and tests). */
  get interval(): number {
    return this.minTime;
  }

  /** When the gate opens again (epoch ms), while the server has asked us to wait; else null. */
  waitingUntil(): number | null {
    return this.blockedUntil > this.clock.now() ? this.blockedUntil : null;
  }

  async schedule<T>(kind: RequestKind, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    this.counters.scheduled++;
    const bottleneck = this.shared
      ? await untilAborted(this.shared.ready, signal, () => false)
      : this.bottleneck!;
    // once `fn` runs, the request may be on the wire: from then on its caller must get its answer
    let started = false;
    const run = () =>
      bottleneck.schedule({ priority: PRIORITY[kind] }, async () => {
        signal?.throwIfAborted();
        await this.gate(signal);
        // no extra event-loop turn when the log does not hold the request (almost always): each
        // turn lets other work run between the pacing decision and the send
        const held = this.logSlot(signal);
        if (held) await held;
        signal?.throwIfAborted();
        started = true;
        return fn();
      });
    // p-queue's priority is the higher the sooner: the reverse of Bottleneck's
    const queued = this.local ? (this.local.add(run, { priority: 9 - PRIORITY[kind] }) as Promise<T>) : run();
    return untilAborted(queued, signal, () => started);
  }

  observe(status: number, headers: Record<string, string>): void {
    const serverLimit = Number(headers['x-ratelimit-limit'] ?? headers['ratelimit-limit']);
    if (Number.isFinite(serverLimit) && serverLimit > 0 && serverLimit < this.limit) {
      this.limit = serverLimit;
      this.repace();
    }
    if (Number.isFinite(serverLimit) && serverLimit > 0) this.serverAnnouncesLimit = true;
    if (status === 429) return; // the client calls backOff with the wait
    const remaining = headers['x-ratelimit-remaining'] ?? headers['ratelimit-remaining'];
    if (remaining !== undefined && Number(remaining) <= 0 && !this.ownPaceExplainsEmptyWindow()) {
      // someone else is spending this account's quota: wait for the window to reset
      const wait = retryAfterMs(
        { 'x-ratelimit-reset': headers['x-ratelimit-reset'] ?? headers['ratelimit-reset'] ?? '' },
        this.clock.now(),
      );
      if (wait !== undefined && wait > 0) this.block(Math.min(wait, this.maxWaitMs));
    }
  }

  /**
   * `Remaining: 0` is what our own even pacing produces at the end of every window of a short
   * window (or all the time against a sliding one); holding until a reset given in whole
   * seconds would then waste up to a second per window. It means "wait" only when this
   * process did not send (nearly) the whole window's quota itself.
   */
  private ownPaceExplainsEmptyWindow(): boolean {
    if (this.shared) return false; // other processes share the quota by design
    const since = this.clock.now() - this.rate.windowMs;
    const ours = this.sent.count(since);
    return ours >= Math.floor(this.rate.limit * 0.9);
  }

  /**
   * A 429 arrived (the client waits `ms`, from Retry-After, then resends). Holds every request
   * for `ms`; widens the margin unless our pace predicted the 429 (see `predicted`): by
   * MARGIN_STEP, or — when the server announces no limit, so the configured rate may be wrong —
   * by slowing the pace 10 %; at most to half the configured rate. SPEC §6, issue #13.
   */
  backOff(ms: number): void {
    this.counters.rateLimited++;
    const predicted = this.predicted();
    this.margin.refused(this.clock.now());
    this.block(Math.max(ms, this.minTime));
    if (!predicted) {
      this.margin.widen(this.serverAnnouncesLimit, this.minTime, this.rate.windowMs / this.limit);
      this.counters.widened++;
      this.repace();
    }
  }

  /**
   * Whether our own pace explains a 429: it came while an earlier 429 already held every
   * request (requests that were in flight then: one event), or this process itself sent more
   * than `limit` requests within the last window (the refused one included).
   */
  private predicted(): boolean {
    const now = this.clock.now();
    if (now < this.blockedUntil) return true;
    return this.sent.count(now - this.rate.windowMs, now) > this.limit;
  }

  /** Re-derives the spacing from the limit and the margin, and hands it to Bottleneck. */
  private repace(): void {
    const next = spacing(this.limit, this.rate.windowMs, this.margin.value);
    if (next === this.minTime) return;
    this.minTime = next;
    void this.bottleneck?.updateSettings({ minTime: next });
  }

  /**
   * Books this request's send time in the sliding log — never before the previous booking, never
   * the (limit+1)-th within `window × (1 + margin)` — and waits until then. With even spacing this
   * never waits (and returns nothing); it holds the rule whatever the spacing did.
   */
  private logSlot(signal?: AbortSignal): Promise<void> | undefined {
    const now = this.clock.now();
    if (this.margin.relax(now)) this.repace();
    const at = this.sent.book(now, this.limit, Math.ceil(this.rate.windowMs * (1 + this.margin.value)));
    return at > now ? this.clock.sleep(at - now, signal) : undefined;
  }

  stats(): LimiterStats {
    return { ...this.counters, margin: this.margin.value };
  }

  /** Drops queued jobs (they reject) and waits for running ones. */
  async stop(): Promise<void> {
    await this.bottleneck
      ?.stop({ dropWaitingJobs: true, dropErrorMessage: 'rate limiter stopped' })
      .catch(() => undefined);
    await this.shared?.close();
  }

  private block(ms: number): void {
    const until = this.clock.now() + ms;
    if (until > this.blockedUntil) {
      this.counters.backOffMs += until - Math.max(this.blockedUntil, this.clock.now());
      this.blockedUntil = until;
    }
  }

  private async gate(signal?: AbortSignal): Promise<void> {
    const now = this.clock.now();
    // requests that come while the held ones are still being let out one interval apart queue
    // behind them, instead of leaving beside them (SPEC §6 jitter: no bunch after a hold)
    if (now >= this.blockedUntil && now >= this.nextGateSlot) return;
    const slot = Math.max(this.blockedUntil, this.nextGateSlot);
    this.nextGateSlot = slot + this.minTime;
    await this.clock.sleep(slot - now, signal);
  }
}

/**
 * `p`, or the signal's reason as soon as it aborts while the job still waits (`started()`
 * false). The work behind `p` is not cancelled: a queued job finds the signal aborted when its
 * turn comes and sends nothing; a job already sending is waited for, whatever the signal.
 */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined, started: () => boolean): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      if (started()) return;
      p.catch(() => undefined);
      reject(signal.reason as Error);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e as Error);
      },
    );
  });
}

function spacing(limit: number, windowMs: number, safety: number): number {
  return Math.ceil((windowMs / limit) * (1 + safety));
}
