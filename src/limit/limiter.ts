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
 */
import Bottleneck from 'bottleneck';
import PQueue from 'p-queue';
import { systemClock, type Clock } from '../clock.js';
import type { RequestKind, RequestScheduler } from '../api/client.js';
import { retryAfterMs } from '../api/outcome.js';
import type { Rate } from '../util/units.js';
import { redisBottleneck, type SharedBottleneck } from './redis.js';

export const PLANS = {
  starter: { limit: 60, windowMs: 60_000 },
  business: { limit: 120, windowMs: 60_000 },
} as const satisfies Record<string, Rate>;
export type Plan = keyof typeof PLANS | 'enterprise';

/** Lower number runs first: due polls before meta calls before new submissions. */
const PRIORITY: Record<RequestKind, number> = { poll: 3, meta: 4, submit: 5 };

export interface LimiterOptions {
  rate: Rate;
  concurrency: number;
  clock?: Clock;
  /** Fraction added to the spacing between requests, for network jitter. */
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
}

export class RateLimiter implements RequestScheduler {
  readonly rate: Rate;
  /** null until a Redis-backed limiter is ready */
  private bottleneck: Bottleneck | null = null;
  private readonly clock: Clock;
  private readonly safety: number;
  private minTime: number;
  private readonly baseMinTime: number;
  private serverAnnouncesLimit = false;
  /** when our recent requests were sent (at most one window's worth) */
  private sent: number[] = [];
  private blockedUntil = 0;
  private nextGateSlot = 0;
  private readonly counters: LimiterStats = { scheduled: 0, rateLimited: 0, backOffMs: 0 };
  private readonly shared: SharedBottleneck | null = null;
  /** in Redis mode Bottleneck's maxConcurrent would be cluster-wide: --concurrency is per process */
  private readonly local: PQueue | null = null;
  private readonly maxWaitMs: number;

  constructor(opts: LimiterOptions) {
    this.rate = opts.rate;
    this.maxWaitMs = opts.maxWaitMs ?? 5 * 60_000;
    this.clock = opts.clock ?? systemClock;
    this.safety = opts.safety ?? 0.02;
    this.minTime = spacing(opts.rate.limit, opts.rate.windowMs, this.safety);
    this.baseMinTime = this.minTime;
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
    const bottleneck = this.shared ? await untilAborted(this.shared.ready, signal, () => false) : this.bottleneck!;
    // once `fn` runs, the request may be on the wire: from then on its caller must get its answer
    let started = false;
    const run = () =>
      bottleneck.schedule({ priority: PRIORITY[kind] }, async () => {
        signal?.throwIfAborted();
        await this.gate(signal);
        signal?.throwIfAborted();
        started = true;
        this.noteSent();
        return fn();
      });
    // p-queue's priority is the higher the sooner: the reverse of Bottleneck's
    const queued = this.local ? (this.local.add(run, { priority: 9 - PRIORITY[kind] }) as Promise<T>) : run();
    return untilAborted(queued, signal, () => started);
  }

  observe(status: number, headers: Record<string, string>): void {
    const serverLimit = Number(headers['x-ratelimit-limit'] ?? headers['ratelimit-limit']);
    if (Number.isFinite(serverLimit) && serverLimit > 0 && serverLimit < this.rate.limit) {
      const slower = spacing(serverLimit, this.rate.windowMs, this.safety);
      if (slower > this.minTime) {
        this.minTime = slower;
        void this.bottleneck?.updateSettings({ minTime: slower });
      }
    }
    if (Number.isFinite(serverLimit) && serverLimit > 0) this.serverAnnouncesLimit = true;
    if (status === 429) return; // the client calls backOff with the wait
    const remaining = headers['x-ratelimit-remaining'] ?? headers['ratelimit-remaining'];
    if (remaining !== undefined && Number(remaining) <= 0 && !this.ownPaceExplainsEmptyWindow()) {
      // someone else is spending this account's quota: wait for the window to reset
      const wait = retryAfterMs({ 'x-ratelimit-reset': headers['x-ratelimit-reset'] ?? headers['ratelimit-reset'] ?? '' }, this.clock.now());
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
    const ours = this.sent.filter((t) => t > since).length;
    return ours >= Math.floor(this.rate.limit * 0.9);
  }

  backOff(ms: number): void {
    this.counters.rateLimited++;
    this.block(Math.max(ms, this.minTime));
    if (!this.serverAnnouncesLimit && this.minTime < this.baseMinTime * 2) {
      // a 429 with no limit header to re-sync from: our pace is too fast for this server (a
      // plan set 10 % too high is corrected by the first one)
      this.minTime = Math.min(Math.ceil(this.minTime * 1.1), this.baseMinTime * 2);
      void this.bottleneck?.updateSettings({ minTime: this.minTime });
    }
  }

  stats(): LimiterStats {
    return { ...this.counters };
  }

  /** Drops queued jobs (they reject) and waits for running ones. */
  async stop(): Promise<void> {
    await this.bottleneck?.stop({ dropWaitingJobs: true, dropErrorMessage: 'rate limiter stopped' }).catch(() => undefined);
    await this.shared?.close();
  }

  private noteSent(): void {
    this.sent.push(this.clock.now());
    if (this.sent.length > this.rate.limit) this.sent.splice(0, this.sent.length - this.rate.limit);
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
    if (now >= this.blockedUntil) return;
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
