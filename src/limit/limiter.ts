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
 * one `minTime` apart, so a pause never ends in a burst (gate.ts). A server limit lower than ours
 * (`X-RateLimit-Limit` / `RateLimit-Limit`) slows the pacing down to match.
 *
 * Every wait here ends at once when the request's signal aborts — in Bottleneck's queue
 * (which cannot drop one job, so the caller stops waiting and the job, when its turn comes,
 * does nothing) and at the gate (SPEC §5 additions, "Signals reach every wait"). A gate closed
 * by headers alone (no 429) is never held longer than --max-wait: a 429 will say more.
 *
 * Jitter (SPEC §6, issue #13): a sliding log of our own sends backs the spacing: never more than
 * `limit` sends within `window × (1 + margin)`, and a send waits `window` + the lateness of the
 * one booked `limit` places before it, read from that request's round trip (timed here from its
 * booked send to its answer; round-trips.ts) — what a strict sliding window needs when arrivals
 * jitter. The margin widens on 429s our pace did not predict (margin.ts). Bottleneck's
 * `minTime` is that span ÷ limit rounded down and the log holds the rest (a few ms every `limit`
 * sends): rounding each spacing up wasted up to 2 % of the rate at 20/s (52.2 → 53 ms); with
 * Redis, where the log sees only this process, it is rounded up instead.
 */
import Bottleneck from 'bottleneck';
import PQueue from 'p-queue';
import { systemClock, type Clock } from '../clock.js';
import { retryAfterMs, type RequestKind, type RequestScheduler } from '../api/headers.js';
import type { Rate } from '../util/units.js';
import { Gate } from './gate.js';
import { PacingMargin } from './margin.js';
import { redisBottleneck, type SharedBottleneck } from './redis.js';
import { RoundTrips, roundTripHistory } from './round-trips.js';
import { SendLog, type Send } from './send-log.js';
import { untilAborted } from './until-aborted.js';

export const PLANS = {
  starter: { limit: 60, windowMs: 60_000 },
  business: { limit: 120, windowMs: 60_000 },
} as const satisfies Record<string, Rate>;
export type Plan = keyof typeof PLANS | 'enterprise';

export { JITTER_CAP, JITTER_SLACK_MS, MARGIN_NARROW, MARGIN_STEP, UNANNOUNCED_SLOWDOWN } from './margin.js';

/** Lower number runs first: due polls before meta calls before new submissions. */
const PRIORITY: Record<RequestKind, number> = { poll: 3, meta: 4, submit: 5 };

export interface LimiterOptions {
  rate: Rate;
  concurrency: number;
  clock?: Clock;
  /**
   * Fraction added to the spacing between requests, for network jitter (default 0.02): the base
   * of the adaptive margin, which 429s widen and quiet windows narrow back to it (margin.ts).
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
  /** ms the gate was closed by 429s and reset headers */
  backOffMs: number;
  /** the pacing margin now, a fraction (0.02 = 2 %) */
  margin: number;
  /** 429s that widened the margin */
  widened: number;
  /** slowest − fastest recent round trip of one request kind (ms; round-trips.ts) */
  roundTripSpreadMs: number;
  /** sends held back for the lateness of the request `limit` places before (round-trips.ts) */
  heldForLateness: number;
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
  /** how long recent requests took from their booked send to their answer, per kind */
  private readonly trips: RoundTrips;
  private readonly gate: Gate;
  private readonly counters = { scheduled: 0, rateLimited: 0, widened: 0, heldForLateness: 0 };
  private readonly shared: SharedBottleneck | null = null;
  /** in Redis mode Bottleneck's maxConcurrent would be cluster-wide: --concurrency is per process */
  private readonly local: PQueue | null = null;
  private readonly maxWaitMs: number;

  constructor(opts: LimiterOptions) {
    this.rate = opts.rate;
    this.maxWaitMs = opts.maxWaitMs ?? 5 * 60_000;
    this.clock = opts.clock ?? systemClock;
    this.gate = new Gate(this.clock);
    this.safety = opts.safety ?? 0.02;
    this.margin = new PacingMargin(this.safety, opts.rate.windowMs);
    this.sent = new SendLog(opts.rate.limit + 1);
    this.trips = new RoundTrips(roundTripHistory(opts.rate.limit));
    this.limit = opts.rate.limit;
    const concurrency = Math.max(1, opts.concurrency);
    this.minTime = minTimeFor(this.spanMs(), this.limit, Boolean(opts.redis));
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

  /** The pacing interval in ms, window × (1 + margin) ÷ limit, not rounded (for ETAs and tests). */
  get interval(): number {
    return this.spanMs() / this.limit;
  }

  /** The least time (whole ms) `limit` sends must span: window × (1 + margin), rounded up. */
  private spanMs(): number {
    return Math.ceil(this.rate.windowMs * (1 + this.margin.value));
  }

  /** When the gate opens again (epoch ms), while the server has asked us to wait; else null. */
  waitingUntil(): number | null {
    return this.gate.openAt();
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
        await this.gate.pass(this.minTime, signal);
        const send = this.logSlot(kind);
        // no extra event-loop turn when the log does not hold the request: each turn lets other
        // work run between the pacing decision and the send
        const wait = send.at - this.clock.now();
        if (wait > 0) await this.clock.sleep(wait, signal);
        signal?.throwIfAborted();
        started = true;
        const answer = await fn();
        send.rttMs = this.clock.now() - send.at;
        this.trips.add(kind, send.rttMs);
        return answer;
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
      if (wait !== undefined && wait > 0) this.gate.close(Math.min(wait, this.maxWaitMs));
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
    this.gate.close(Math.max(ms, this.minTime));
    if (!predicted) {
      this.margin.widen(this.serverAnnouncesLimit);
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
    if (this.gate.openAt() !== null) return true;
    return this.sent.count(now - this.rate.windowMs, now) > this.limit;
  }

  /** Re-derives the spacing from the limit and the margin, and hands it to Bottleneck. */
  private repace(): void {
    const next = minTimeFor(this.spanMs(), this.limit, this.shared !== null);
    if (next === this.minTime) return;
    this.minTime = next;
    void this.bottleneck?.updateSettings({ minTime: next });
  }

  /**
   * Books this request's send in the sliding log — never before the previous booking, and after
   * the send booked `limit` places before it by `window × (1 + margin)` or by `window` + that
   * request's lateness (round-trips.ts), whichever is more. Mostly now; later once every `limit`
   * sends, where the rounded-down spacing leaves the span short, and after a late request.
   */
  private logSlot(kind: RequestKind): Send {
    const now = this.clock.now();
    if (this.margin.relax(now)) this.repace();
    const span = this.spanMs();
    let late = false;
    const send = this.sent.book(now, kind, this.limit, (earlier) => {
      const gap = this.trips.gapAfter(earlier, now, this.rate.windowMs);
      late = gap > span;
      return Math.max(span, gap);
    });
    if (late && send.at > now) this.counters.heldForLateness++;
    return send;
  }

  stats(): LimiterStats {
    return {
      ...this.counters,
      backOffMs: this.gate.closedMs,
      margin: this.margin.value,
      roundTripSpreadMs: this.trips.spreadMs(),
    };
  }

  /** Drops queued jobs (they reject) and waits for running ones. */
  async stop(): Promise<void> {
    await this.bottleneck
      ?.stop({ dropWaitingJobs: true, dropErrorMessage: 'rate limiter stopped' })
      .catch(() => undefined);
    await this.shared?.close();
  }
}

/**
 * Bottleneck's spacing (whole ms, at least 1) for `limit` sends in `spanMs`: rounded down when
 * this process's send log makes up the rest, up when the pace is shared through Redis.
 */
function minTimeFor(spanMs: number, limit: number, shared: boolean): number {
  return Math.max(1, shared ? Math.ceil(spanMs / limit) : Math.floor(spanMs / limit));
}
