/**
 * The adaptive pacing margin and the sliding log of sends behind the limiter's spacing
 * (SPEC §6 "Real networks jitter", issue #13).
 *
 * A request reaches the server at its send time plus a random network delay, so evenly spaced
 * sends can land `limit + 1` inside one window of a strict sliding window. A 429 that our own
 * pace did not predict therefore widens the margin added to the spacing (additive increase),
 * whether or not the server announces its limit, and every window without a 429 narrows it a
 * little, never below the configured base.
 *
 * Why the narrowing is so slow: each 429 holds every request for its `Retry-After`, whole
 * seconds, and a sliding window never gives that time back (20 requests lost per second at
 * 20/s, 3 % of a 30 s batch), so finding the edge again by drawing 429s must be rare.
 */

/**
 * Widening per unpredicted 429 when the server announces its limit (so the rate is right and
 * only timing can explain it): one percentage point, and at least 1 ms more spacing — at 20/s
 * one 429 takes the default 51 ms to 52 ms; 20 sends then span 1040 ms, which 40 ms of arrival
 * jitter cannot squeeze into a 1 s window.
 */
export const MARGIN_STEP = 0.01;
/**
 * A 429 from a server that announces no limit may mean the configured rate itself is too high
 * (a wrong plan): the pace slows by 10 % per such 429, as before issue #13.
 */
export const UNANNOUNCED_SLOWDOWN = 1.1;
/** Narrowing per window without a 429: one MARGIN_STEP is undone after 200 quiet windows. */
export const MARGIN_NARROW = MARGIN_STEP / 200;

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
   * An unpredicted 429: by MARGIN_STEP when the server announces its limit, else 10 % slower;
   * always enough that `spacing(margin)` (ms, whole) grows past `spacingMs`, the spacing now;
   * at most to half the base rate. `perRequestMs` = window / limit.
   */
  widen(serverAnnouncesLimit: boolean, spacingMs: number, perRequestMs: number): void {
    let wider = serverAnnouncesLimit ? this.value + MARGIN_STEP : (1 + this.value) * UNANNOUNCED_SLOWDOWN - 1;
    // whole-ms spacing can swallow a step (at 20/s both 3 % and 4 % are 52 ms)
    wider = Math.max(wider, spacingMs / perRequestMs - 1 + 1e-9);
    // a server refusing more than half the rate is not jitter
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

/** When this process's recent requests were (or are booked to be) sent, ascending. */
export class SendLog {
  private sent: number[] = [];

  /** `keep`: how many sends to remember (one more than the configured limit) */
  constructor(private readonly keep: number) {}

  /**
   * Books a send no earlier than `now` nor the previous booking, and never the (limit+1)-th
   * within `spanMs` (= window × (1 + margin)); returns the booked time (epoch ms).
   */
  book(now: number, limit: number, spanMs: number): number {
    let at = Math.max(now, this.sent.at(-1) ?? now);
    if (this.sent.length >= limit) at = Math.max(at, this.sent[this.sent.length - limit]! + spanMs);
    this.sent.push(at);
    if (this.sent.length > this.keep) this.sent.splice(0, this.sent.length - this.keep);
    return at;
  }

  /** Sends booked in (from, to]. */
  count(from: number, to = Number.POSITIVE_INFINITY): number {
    return this.sent.filter((t) => t > from && t <= to).length;
  }
}
