/**
 * When this process's recent requests were (or are booked to be) sent, and how long each took
 * to be answered: the sliding log behind the limiter's spacing (SPEC §6, issue #13).
 */

/** One booked send. */
export interface Send {
  /** epoch ms the request may leave */
  readonly at: number;
  /** the request kind (the limiter's RequestKind) */
  readonly kind: string;
  /** ms from `at` to its answer; undefined while unanswered (or if it failed) */
  rttMs?: number;
}

export class SendLog {
  private sent: Send[] = [];

  /** `keep`: how many sends to remember (one more than the configured limit) */
  constructor(private readonly keep: number) {}

  /**
   * Books a send of `kind` no earlier than `now` nor the previous booking, and at least
   * `gapAfter(earlier)` ms after `earlier`, the send booked `limit` places before it (so never
   * `limit + 1` sends within that gap); returns the booking, whose `rttMs` the caller fills in.
   */
  book(now: number, kind: string, limit: number, gapAfter: (earlier: Send) => number): Send {
    let at = Math.max(now, this.sent.at(-1)?.at ?? now);
    const earlier = this.sent.length >= limit ? this.sent[this.sent.length - limit] : undefined;
    if (earlier) at = Math.max(at, earlier.at + gapAfter(earlier));
    const send: Send = { at, kind };
    this.sent.push(send);
    if (this.sent.length > this.keep) this.sent.splice(0, this.sent.length - this.keep);
    return send;
  }

  /** Sends booked in (from, to]. */
  count(from: number, to = Number.POSITIVE_INFINITY): number {
    return this.sent.filter((s) => s.at > from && s.at <= to).length;
  }
}
