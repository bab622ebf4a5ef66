/** What a running job shows (SPEC §7): the status line on a TTY, log lines otherwise. */
import type { JobEvents } from '../job/events.js';
import { systemClock, type Clock } from '../clock.js';
import { ProgressTracker } from '../report/progress.js';
import { planRate, type ResolvedOptions } from '../config.js';
import type { Rate } from '../util/units.js';
import { apiHint, type Io } from './context.js';
import { count } from '../util/words.js';

export interface ProgressDisplay {
  stop(): void;
  /** a `stopping: …` line was shown while the job ran */
  readonly stopAnnounced: boolean;
}

/** requests per minute of a rate (`30/s` → 1800) */
const perMinute = (r: Rate): number => (r.limit * 60_000) / r.windowMs;

/** The rate the options set (plan or --rate-limit), per minute: what `up to N/min` shows. */
export const limitPerMinute = (options: ResolvedOptions): number => perMinute(planRate(options));

/**
 * TTY: one status line redrawn; otherwise a log line at most every 10 s (SPEC §7). The first
 * line is shown as soon as the job starts.
 */
export function showProgress(
  events: JobEvents,
  io: Io,
  options: Pick<ResolvedOptions, 'quiet' | 'baseUrl'>,
  opts: {
    intervalMs: number;
    pollAfterMs: number;
    limitPerMin?: number;
    waitingUntil?: () => number | null;
    verb?: string;
    clock?: Clock;
  },
): ProgressDisplay {
  let stopAnnounced = false;
  if (options.quiet) return { stop: () => undefined, stopAnnounced };
  const tracker = new ProgressTracker(events, { clock: opts.clock ?? systemClock, ...opts });
  const draw = () => {
    if (!tracker.started) return;
    if (io.status) io.status(tracker.line());
    else io.err(`${tracker.job} ${tracker.line()}`);
  };
  events.on('job:started', (e) => {
    const invalid = e.rows.filter((r) => r?.status === 'invalid').length;
    const verb = opts.verb ?? (e.resumed ? 'resuming' : 'starting');
    const what = [
      e.pending || !e.processing ? `${count(e.pending, 'row')} to send` : '',
      e.processing ? `${count(e.processing, 'row')} to poll` : '',
      invalid ? `${count(invalid, 'invalid row')} not sent` : '',
    ].filter(Boolean);
    io.err(`${verb} job ${e.job}: ${what.join(', ')}`);
    draw();
  });
  events.on('job:stopping', (e) => {
    if (e.code === 'INTERRUPTED') return; // the signal handler has said it
    stopAnnounced = true;
    io.err(`stopping: ${e.message}${apiHint(e, options.baseUrl)}`);
  });
  events.on('warning', (e) => io.err(`warning: ${e.message}`));
  const timer = setInterval(draw, io.status ? 250 : 10_000);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      if (io.status && tracker.started) io.status('');
    },
    get stopAnnounced() {
      return stopAnnounced;
    },
  };
}

/**
 * The progress display as the watched folder uses it: returns its stop function. `limitPerMin`:
 * the rate as the user gave it (plan or --rate-limit), shown as `up to N/min` like `run` shows it
 * — not worked back from the limiter's interval, which carries its safety margin (3000/min
 * became 2941/min).
 */
export function progress(
  events: JobEvents,
  io: Io,
  options: Pick<ResolvedOptions, 'quiet' | 'baseUrl'>,
  pace: { intervalMs: number; pollAfterMs: number; limitPerMin: number },
  waitingUntil: () => number | null,
): () => void {
  const shown = showProgress(events, io, options, { ...pace, waitingUntil });
  return () => shown.stop();
}
