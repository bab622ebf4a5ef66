/**
 * Status polling (SPEC §2 --poll-after/--poll-every/--poll-timeout). Each `processing` row is
 * polled when due, through the shared limiter (polls have priority there, so submissions
 * never delay a due poll). Later polls back off from --poll-every by 1.5× up to 4×. A row
 * still processing --poll-timeout after it was sent (or after this run started, for a row
 * carried over from an earlier run) is left `processing` for a later `resume`.
 *
 * Status words are read by the outcome table (`readStatusWord`, SPEC §5 additions): a word
 * nobody documented keeps the row processing and is reported once per row (`onUnknownWord`).
 * `stop()` also aborts the polls in flight and their backoffs: a stopped run waits for none.
 */
import { setMaxListeners } from 'node:events';
import type { AlsamiflexiClient } from '../api/client.js';
import { readStatusWord, type StatusReading } from '../api/outcome.js';
import type { Transaction } from '../api/types.js';
import type { Clock } from '../clock.js';
import { ApiError } from '../errors.js';
import type { RowState } from './rows.js';

export interface PollerOptions {
  client: AlsamiflexiClient;
  clock: Clock;
  pollEveryMs: number;
  pollTimeoutMs: number;
  /** least time between two polls (e.g. two request intervals while submissions are pending) */
  pollGapMs?: () => number;
  /** a final answer arrived: record it (durably) */
  onFinal(row: RowState, txn: Transaction, status: StatusReading): Promise<void>;
  /** the row's status word is not one we know (first time for this row and word): show it */
  onUnknownWord?(row: RowState, txn: Transaction, status: StatusReading): Promise<void>;
  /** polling must stop for the whole run (401, the API unreachable, a wait past --max-wait) */
  onFatal(err: ApiError): void;
}

interface Entry {
  row: RowState;
  due: number;
  since: number;
  polls: number;
  /** the unknown status word last reported for this row */
  noted?: string;
}

const MAX_UNREACHABLE = 3;
/** the reason a timed wait of the poller is cut short with: it is woken, nothing failed */
const WOKEN = Symbol('woken');

export class Poller {
  private entries: Entry[] = [];
  private wake: (() => void) | null = null;
  private closed = false;
  private stopped = false;
  private inFlight = new Set<Promise<void>>();
  private readonly runStart: number;
  /** rows given up at --poll-timeout */
  timedOut = 0;
  /** polls in a row that got no answer at all (after the client's own retries) */
  private unreachable = 0;
  private error: unknown = null;
  private lastLaunch = -Infinity;
  private readonly abort = new AbortController();
  /** transactions hinted while their check was in flight (see checkNow) */
  private readonly hinted = new Set<string>();

  constructor(private readonly opts: PollerOptions) {
    this.runStart = opts.clock.now();
    // every poll waiting in the limiter listens to it: a long tail of processing rows is no leak
    setMaxListeners(0, this.abort.signal);
  }

  get size(): number {
    return this.entries.length + this.inFlight.size;
  }

  add(row: RowState, due: number): void {
    if (this.stopped) return;
    const since = Math.max(row.submittedAt ?? this.runStart, this.runStart);
    this.push({ row, due, since, polls: 0 });
  }

  /**
   * A hint (a webhook event, SPEC §10) that this transaction may have changed: its next status
   * check is due now, still through the limiter. A check already in flight answers the hint
   * itself, unless it finds the row still processing: then one more check is made at once (the
   * event may have overtaken it). Returns false when the transaction is not being polled.
   */
  checkNow(transactionId: string): boolean {
    const i = this.entries.findIndex((e) => e.row.txn === transactionId);
    if (i < 0) {
      if (this.inFlight.size === 0) return false;
      this.hinted.add(transactionId);
      return true;
    }
    const [e] = this.entries.splice(i, 1);
    this.push({ ...e!, due: Math.min(e!.due, this.opts.clock.now()) });
    return true;
  }

  /** No more rows will be added: `run` resolves once the last one is final or timed out. */
  close(): void {
    this.closed = true;
    this.poke();
  }

  /** Stop polling now (signal, 401); rows stay `processing`. */
  stop(): void {
    this.stopped = true;
    this.entries = [];
    this.abort.abort();
    this.poke();
  }

  async run(): Promise<void> {
    for (;;) {
      if (this.stopped) break;
      const next = this.entries[0];
      if (!next) {
        if (this.closed && this.inFlight.size === 0) break;
        await this.idle();
        continue;
      }
      const now = this.opts.clock.now();
      // while rows wait to be sent, polls take at most their share of the rate (SPEC §6:
      // polls never starve submissions); due polls still go first within that share
      const at = Math.max(next.due, this.lastLaunch + (this.opts.pollGapMs?.() ?? 0));
      if (at > now) {
        await this.idle(at - now);
        continue;
      }
      this.lastLaunch = now;
      this.entries.shift();
      const p = this.poll(next)
        .catch((err: unknown) => {
          // a journal that cannot be written: stop, and let the runner report it
          this.error ??= err;
          this.stop();
        })
        .finally(() => {
          this.inFlight.delete(p);
          this.poke();
        });
      this.inFlight.add(p);
    }
    await Promise.allSettled([...this.inFlight]);
    if (this.error) throw this.error;
  }

  private async poll(e: Entry): Promise<void> {
    const { clock, client } = this.opts;
    if (!e.row.txn) return;
    let txn: Transaction | null = null;
    try {
      txn = await client.getTransaction(e.row.txn, this.abort.signal);
    } catch (err) {
      if (this.stopped) return;
      if (err instanceof ApiError && (err.code === 'API_UNAUTHORIZED' || err.code === 'RATE_LIMITED')) {
        this.opts.onFatal(err);
        return;
      }
      // the client already retried with backoff; several polls in a row without any answer
      // means the API is gone: stop (the rows stay processing, `resume` polls them later)
      if (err instanceof ApiError && (err.code === 'API_UNREACHABLE' || err.code === 'API_TIMEOUT')) {
        if (++this.unreachable >= MAX_UNREACHABLE) {
          this.opts.onFatal(err);
          return;
        }
      }
      // otherwise try again at the next due time
    }
    if (txn) this.unreachable = 0;
    if (this.stopped) return;
    const reading = txn ? readStatusWord(txn.status) : null;
    if (txn && reading && reading.outcome !== 'processing') {
      await this.opts.onFinal(e.row, txn, reading);
      return;
    }
    if (txn && reading && !reading.known && e.noted !== reading.word) {
      e.noted = reading.word;
      await this.opts.onUnknownWord?.(e.row, txn, reading);
    }
    const now = clock.now();
    if (now - e.since >= this.opts.pollTimeoutMs) {
      this.timedOut++;
      return;
    }
    e.polls++;
    const every = this.opts.pollEveryMs;
    const interval = Math.min(every * 1.5 ** (e.polls - 1), every * 4);
    const due = Math.min(now + interval, e.since + this.opts.pollTimeoutMs);
    this.push({ ...e, due: Math.max(due, now) });
  }

  private push(e: Entry): void {
    if (e.row.txn && this.hinted.delete(e.row.txn)) e.due = Math.min(e.due, this.opts.clock.now());
    // keep sorted by due time (binary insertion; a few thousand entries at most are due soon)
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.entries[mid]!.due <= e.due) lo = mid + 1;
      else hi = mid;
    }
    this.entries.splice(lo, 0, e);
    this.poke();
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /**
   * Waits for `poke`, or `ms` at most. Only a timed wait has a timer to cancel, and it is
   * cancelled with a reason made once: `abort()` without one builds a DOMException, stack and
   * all — once per row added, 2 % of a run's main thread (bench/README.md).
   */
  private idle(ms?: number): Promise<void> {
    return new Promise<void>((resolve) => {
      if (ms === undefined) {
        this.wake = resolve;
        return;
      }
      const ac = new AbortController();
      this.wake = () => {
        ac.abort(WOKEN);
        resolve();
      };
      this.opts.clock.sleep(ms, ac.signal).then(
        () => {
          this.wake = null;
          resolve();
        },
        () => undefined,
      );
    });
  }
}
