/**
 * The progress line (SPEC §7): done/total, rate, ETA and counts, computed from the job's typed
 * events and an injected clock, so it can be tested by moving time instead of waiting.
 *
 * - "done" counts rows that were sent and reached an end (completed, failed, unknown) out of the
 *   rows to send: invalid rows were never going to be sent and are shown on their own.
 * - The rate counts sends (`row:submitted`) over the last minute, the figure a rate limit is about;
 *   until a few seconds of sending have been seen it shows the limiter's pace (`up to 60/min`).
 * - The ETA comes from the limiter's interval (a POST and a poll per pending row, then the poll
 *   delay) until the measured send rate is known, so the very first line already has a sensible one.
 */
import type { Clock } from '../clock.js';
import { clockTime } from '../api/wire.js';
import type { JobEvents } from '../job/events.js';
import { liveCounts, type RowState } from '../job/rows.js';
import { etaSeconds } from './summary.js';

/** Statuses shown by name, in this order; any other (but `invalid`) follows. */
const SHOWN_ORDER = ['completed', 'failed', 'unknown', 'sending', 'processing', 'pending'];
/** Rows that are not sent by this job, counted apart from the rows to send. */
const NOT_SENT = new Set(['invalid', 'skipped']);
/** The window over which sends are counted for the rate. */
const RATE_WINDOW_MS = 60_000;
/** Below this much sending time a measured rate is noise (one send in 100 ms is not 600/min). */
const MIN_MEASURE_MS = 5_000;

export interface ProgressOptions {
  clock: Clock;
  /** the limiter's interval between requests, ms */
  intervalMs: number;
  /** --poll-after, ms */
  pollAfterMs: number;
  /** the configured rate limit per minute, shown until a rate is measured (default: from intervalMs) */
  limitPerMin?: number;
  /** when the API has asked for a wait (429, reset), until when (epoch ms); null otherwise */
  waitingUntil?: () => number | null;
}

export class ProgressTracker {
  private rows: RowState[] = [];
  private sends: number[] = [];
  private firstSendAt: number | null = null;
  job = '';

  constructor(
    events: JobEvents,
    private readonly opts: ProgressOptions,
  ) {
    events.on('job:started', (e) => {
      this.rows = e.rows;
      this.job = e.job;
    });
    events.on('row:submitted', () => {
      const now = this.opts.clock.now();
      this.firstSendAt ??= now;
      this.sends.push(now);
    });
  }

  get started(): boolean {
    return this.rows.length > 0;
  }

  /** Sends per minute over the last minute, or null while too little has been seen. */
  sendRate(): number | null {
    const now = this.opts.clock.now();
    if (this.firstSendAt === null || now - this.firstSendAt < MIN_MEASURE_MS) return null;
    while (this.sends.length && this.sends[0]! <= now - RATE_WINDOW_MS) this.sends.shift();
    const span = Math.min(RATE_WINDOW_MS, now - this.firstSendAt);
    return (this.sends.length / span) * 60_000;
  }

  /** Seconds until the job should be done. */
  eta(counts: Record<string, number>): number {
    const pending = counts.pending ?? 0;
    const processing = (counts.processing ?? 0) + (counts.sending ?? 0);
    const byLimiter = etaSeconds(
      { pending, processing } as Parameters<typeof etaSeconds>[0],
      this.opts.intervalMs,
      this.opts.pollAfterMs,
    );
    const rate = this.sendRate();
    if (rate === null || rate === 0 || pending === 0) return byLimiter;
    // the measured pace of sends (slowed by 429s, a shared account…), then the polling tail
    return Math.ceil(
      (pending / rate) * 60 + (processing * this.opts.intervalMs + this.opts.pollAfterMs) / 1000,
    );
  }

  /** `[####......] 12/44 done | 58/min sent | ETA 1m | completed 10, failed 2, pending 32 | 6 invalid, not sent` */
  line(): string {
    // live counts: a row whose POST is in flight is `sending` here, not the `unknown` a replay
    // after a crash would make of it
    const counts = liveCounts(this.rows);
    let notSent = 0;
    let total = 0;
    for (const [st, n] of Object.entries(counts)) {
      if (NOT_SENT.has(st)) notSent += n;
      else total += n;
    }
    const done = total - (counts.pending ?? 0) - (counts.processing ?? 0) - (counts.sending ?? 0);
    const bar = '#'.repeat(total > 0 ? Math.round((done / total) * 20) : 20).padEnd(20, '.');
    const rate = this.sendRate();
    const pace =
      rate === null
        ? `up to ${Math.round(this.opts.limitPerMin ?? 60_000 / this.opts.intervalMs)}/min`
        : `${Math.round(rate)}/min sent`;
    const order = [
      ...SHOWN_ORDER,
      ...Object.keys(counts).filter((s) => !SHOWN_ORDER.includes(s) && !NOT_SENT.has(s)),
    ];
    // the essentials first, so a narrow terminal cuts only the tail; statuses at 0 are left out
    const byStatus = order
      .filter((st) => (counts[st] ?? 0) > 0)
      .map((st) => `${st} ${counts[st]}`)
      .join(', ');
    const apart = [...NOT_SENT].filter((st) => (counts[st] ?? 0) > 0).map((st) => `${counts[st]} ${st}`);
    // while the API has asked us to wait, say so and until when, instead of a made-up ETA (SPEC §5 additions)
    const until = this.opts.waitingUntil?.() ?? null;
    const eta =
      until !== null
        ? `waiting for the API until ${clockTime(new Date(until))}`
        : `ETA ${fmtDuration(this.eta(counts))}`;
    return [
      `[${bar}] ${done}/${total} done`,
      pace,
      eta,
      byStatus,
      ...(notSent ? [`${apart.join(', ')}, not sent`] : []),
    ]
      .filter(Boolean)
      .join(' | ');
  }
}

/** `45s`, `3m`, `1.5h`. */
export function fmtDuration(s: number): string {
  if (s < 90) return `${s}s`;
  if (s < 5400) return `${Math.round(s / 60)}m`;
  return `${(s / 3600).toFixed(1)}h`;
}
