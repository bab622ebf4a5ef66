/**
 * How much the limiter's sends keep apart beyond `window / limit` (SPEC §6 "Real networks
 * jitter", issue #13).
 *
 * A request reaches the server at its send time plus a random delay, so evenly spaced sends can
 * land `limit + 1` inside one window of a strict sliding window. Two rules, whichever asks more:
 *
 * - **The margin**: a fraction added to the spacing. A 429 that our own pace did not predict
 *   widens it (additive increase), whether or not the server announces its limit, and every
 *   window without a 429 narrows it a little, never below the configured base.
 * - **Each request's lateness**, before any 429 (round-trips.ts): the send `limit` places after
 *   a request whose round trip was slow waits `window` + that request's lateness +
 *   JITTER_SLACK_MS, the lateness counted up to JITTER_CAP × window — so a server whose own work
 *   varies by seconds does not slow every batch by that much (beyond the cap, 429s widen).
 *
 * Why the narrowing is so slow: each 429 holds every request for its `Retry-After`, whole
 * seconds, and a sliding window never gives that time back (20 requests lost per second at
 * 20/s, 3 % of a 30 s batch), so finding the edge again by drawing 429s must be rare. It is
 * also why the round trips are watched: learning the jitter from a 429 costs that second.
 */

/**
 * Widening per unpredicted 429 when the server announces its limit (so the rate is right and
 * only timing can explain it): one percentage point — at 20/s, 20 sends then span 10 ms more.
 */
export const MARGIN_STEP = 0.01;
/**
 * A 429 from a server that announces no limit may mean the configured rate itself is too high
 * (a wrong plan): the pace slows by 10 % per such 429, as before issue #13.
 */
export const UNANNOUNCED_SLOWDOWN = 1.1;
/** Narrowing per window without a 429: one MARGIN_STEP is undone after 200 quiet windows. */
export const MARGIN_NARROW = MARGIN_STEP / 200;
/**
 * The most a request's lateness may hold the send `limit` places after it, as a fraction of the
 * window (25 %: 250 ms in a 1 s window, 15 s in a minute). 0–40 ms of network jitter needs
 * 40 ms, but a busy machine stalls a process for 100–300 ms at times (measured with the
 * ratelimit bench at load 10: caps of 5 % and 10 % still drew 429s after such stalls), and a
 * hold costs only the one late request's excess while a 429 costs a whole second. The cap
 * bounds what a server whose own work varies by seconds can cost; beyond it, 429s widen the
 * margin.
 */
export const JITTER_CAP = 0.25;
/**
 * Added to a request's lateness (ms): both clocks tick in whole milliseconds, so a round trip
 * read on ours can be a millisecond short at each end.
 */
export const JITTER_SLACK_MS = 2;

/** The margin: a fraction added to `window / limit` between sends (0.02 = 2 %). */
export class PacingMargin {
  value: number;
  private last429At = Number.NEGATIVE_INFINITY;
  private lastNarrowAt = Number.NEGATIVE_INFINITY;

  /** `base`: the configured margin (--safety), also the least it narrows to; windowMs: the rate's window */
  constructor(
    readonly base: number,
    private readonly windowMs: number,
  ) {
    this.value = base;
  }

  /** Any 429 at `now` restarts the count of quiet windows. */
  refused(now: number): void {
    this.last429At = now;
  }

  /**
   * An unpredicted 429: by MARGIN_STEP when the server announces its limit, else a 10 % slower
   * pace; at most to half the base rate (a server refusing more than that is not jitter).
   */
  widen(serverAnnouncesLimit: boolean): void {
    const wider = serverAnnouncesLimit
      ? this.value + MARGIN_STEP
      : (1 + this.value) * UNANNOUNCED_SLOWDOWN - 1;
    this.value = Math.min(wider, 1 + 2 * this.base);
  }

  /** Narrows by MARGIN_NARROW per whole window since the last 429 or narrowing; true if it moved. */
  relax(now: number): boolean {
    if (this.value <= this.base) return false;
    const since = Math.max(this.last429At, this.lastNarrowAt);
    const windows = Math.floor((now - since) / this.windowMs);
    if (windows < 1) return false;
    this.lastNarrowAt = Number.isFinite(since) ? since + windows * this.windowMs : now;
    this.value = Math.max(this.base, this.value - windows * MARGIN_NARROW);
    return true;
  }
}
