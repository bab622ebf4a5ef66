/**
 * How late each request may have reached the server, read from its round trip: the limiter's
 * view of arrival jitter, before any 429 (SPEC §6 "Real networks jitter", issue #13).
 *
 * A strict sliding window of `limit` per `window` refuses a request that arrives less than
 * `window` after the one sent `limit` places before it. Request i arrives at its send time plus
 * a delay d_i (the network, a busy machine, the journal's fsync before the send), so the
 * (i+limit)-th send must wait `window + d_i − d_{i+limit}` after the i-th. The server's arrival
 * times are not visible to us, but each round trip — from the send time our log booked to the
 * answer — is d_i plus the server's work and the way back: the round trip's excess over the
 * fastest recent one of its kind bounds how much later than the fastest request i can have
 * arrived. The log holds the (i+limit)-th send back by that much (send-log.ts), plus
 * JITTER_SLACK_MS, up to JITTER_CAP × window.
 *
 * Kinds are measured apart: a recharge may take the server longer than a status query, a steady
 * difference that does not move arrivals. A kind is any string (the limiter's request kinds).
 */

import { JITTER_CAP, JITTER_SLACK_MS } from './margin.js';
import type { Send } from './send-log.js';

/**
 * Round trips remembered per kind: sixteen windows' worth, at least 256, at most 4096. The
 * fastest of them stands for the least delay any request can have; a short memory (one window,
 * then four) missed it on a busy machine, took the excess of a late request for a few ms too
 * little and drew 429s.
 */
export function roundTripHistory(limit: number): number {
  return Math.min(4096, Math.max(256, 16 * limit));
}

/** The fastest and slowest of the last `keep` values, each in O(1) amortised (monotonic queues). */
class Extremes {
  private seq = 0;
  private readonly low: { seq: number; v: number }[] = [];
  private readonly high: { seq: number; v: number }[] = [];

  constructor(private readonly keep: number) {}

  add(v: number): void {
    const seq = this.seq++;
    while (this.low.length > 0 && this.low.at(-1)!.v >= v) this.low.pop();
    while (this.high.length > 0 && this.high.at(-1)!.v <= v) this.high.pop();
    this.low.push({ seq, v });
    this.high.push({ seq, v });
    if (this.low[0]!.seq <= seq - this.keep) this.low.shift();
    if (this.high[0]!.seq <= seq - this.keep) this.high.shift();
  }

  get fastest(): number {
    return this.low[0]!.v;
  }

  get slowest(): number {
    return this.high[0]!.v;
  }
}

/** The last round trips of each request kind, in ms. */
export class RoundTrips {
  private readonly byKind = new Map<string, Extremes>();

  /** `keep`: round trips remembered per kind (see roundTripHistory) */
  constructor(private readonly keep: number) {}

  /** An answered request of `kind` took `ms` from its booked send time to its answer. */
  add(kind: string, ms: number): void {
    let trips = this.byKind.get(kind);
    if (!trips) this.byKind.set(kind, (trips = new Extremes(this.keep)));
    trips.add(ms);
  }

  /**
   * How much later than the fastest recent request of its kind a request of `kind` sent at `at`
   * (epoch ms) may have reached the server, in ms (≥ 0): its round trip `rttMs` minus the
   * fastest; still unanswered at `now` (no `rttMs`), at least the time it has been out minus the
   * fastest, and at least the kind's spread (what recent requests' lateness reached). 0 while the
   * kind has no answered request.
   */
  lateness(kind: string, at: number, rttMs: number | undefined, now: number): number {
    const trips = this.byKind.get(kind);
    if (!trips) return 0;
    if (rttMs !== undefined) return Math.max(0, rttMs - trips.fastest);
    return Math.max(0, now - at - trips.fastest, trips.slowest - trips.fastest);
  }

  /**
   * The least time (ms, whole) between `earlier` and the send booked `limit` places after it, at
   * `now`, so that it cannot reach the server within `windowMs` after `earlier` did: the window
   * plus `earlier`'s lateness and JITTER_SLACK_MS, the two at most JITTER_CAP × window.
   */
  gapAfter(earlier: Send, now: number, windowMs: number): number {
    const late = this.lateness(earlier.kind, earlier.at, earlier.rttMs, now) + JITTER_SLACK_MS;
    return windowMs + Math.ceil(Math.min(JITTER_CAP * windowMs, late));
  }

  /** The widest spread (slowest − fastest, ms) of any kind's recent round trips; 0 if none. */
  spreadMs(): number {
    let widest = 0;
    for (const trips of this.byKind.values()) widest = Math.max(widest, trips.slowest - trips.fastest);
    return widest;
  }
}
