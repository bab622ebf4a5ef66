/**
 * Webhook delivery (API doc "Webhooks"): one POST of the documented payload per transaction that
 * reaches a final state. Delivery is fire-and-forget: failures and slow receivers are ignored,
 * and `close()` aborts whatever is still in flight.
 *
 * Faults a real network and an unauthenticated endpoint bring (SPEC §10), off by default:
 * duplicate deliveries, a forged early "completed" event for a transaction that is still
 * processing (or will fail), and late redeliveries after the transaction is long final.
 */
import { setMaxListeners } from 'node:events';
import { timedSignal } from '../util/signals.js';
import type { Clock } from '../clock.js';
import { formatApiTime, formatIsoSeconds, toLedgerEntry, type Transaction } from './ledger.js';

export interface WebhookFaults {
  /** default 0: extra copies of every event, sent back to back */
  duplicates?: number;
  /**
   * default off: this long (clock ms) after a transaction is committed, send a forged
   * `transaction.completed` event for it, whatever its real state (processing, or failing)
   */
  forgeAfterMs?: number;
  /** default off: send every final event again this long (clock ms) after the first delivery */
  lateMs?: number;
}

/** The problem with these faults, in words, or null when they are usable. */
export function checkWebhookFaults(f: WebhookFaults): string | null {
  if (
    f.duplicates !== undefined &&
    (!Number.isInteger(f.duplicates) || f.duplicates < 0 || f.duplicates > 100)
  ) {
    return `webhook duplicates must be a whole number from 0 to 100, got ${String(f.duplicates)}`;
  }
  for (const k of ['forgeAfterMs', 'lateMs'] as const) {
    const v = f[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0))
      return `webhook ${k} must be a number of milliseconds ≥ 0, got ${String(v)}`;
  }
  return null;
}

/** The doc's payload claiming the transaction completed, whatever it really did. */
export function forgedPayload(txn: Transaction, now: number): Record<string, unknown> {
  const real = webhookPayload(txn);
  const data = real.data as Record<string, unknown>;
  return {
    ...real,
    event: 'transaction.completed',
    data: { ...data, status: 'completed', completed_at: formatApiTime(now) },
    timestamp: formatIsoSeconds(now),
  };
}

export function webhookPayload(txn: Transaction): Record<string, unknown> {
  const entry = toLedgerEntry(txn);
  return {
    event: txn.status === 'failed' ? 'transaction.failed' : 'transaction.completed',
    data: {
      transaction_id: entry.transaction_id,
      status: entry.status,
      mobile_number: entry.mobile_number,
      amount: entry.amount,
      operator: entry.operator,
      reference: entry.reference,
      completed_at: entry.completed_at,
    },
    timestamp: formatIsoSeconds(txn.completeAtMs),
  };
}

const DELIVERY_TIMEOUT_MS = 10_000;

export class WebhookSender {
  private readonly controller = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly url: string,
    private readonly faults: WebhookFaults = {},
    private readonly clock?: Clock,
  ) {
    // every late or forged delivery waits on it (one per transaction of a batch): many at once
    // is the point, not a leak (Node warned at 11, once per full test run)
    setMaxListeners(0, this.controller.signal);
  }

  /** A transaction reached its final state: its event (with copies, and a late one, if asked). */
  send(txn: Transaction): void {
    const body = webhookPayload(txn);
    for (let i = 0; i <= (this.faults.duplicates ?? 0); i++) this.deliver(body);
    if (this.faults.lateMs !== undefined) this.later(this.faults.lateMs, () => this.deliver(body));
  }

  /** A transaction was committed: a forged early "completed" event, if asked. */
  committed(txn: Transaction): void {
    const ms = this.faults.forgeAfterMs;
    if (ms === undefined) return;
    this.later(ms, () => this.deliver(forgedPayload(txn, this.clock?.now() ?? Date.now())));
  }

  private later(ms: number, fn: () => void): void {
    if (this.controller.signal.aborted || !this.clock) return;
    const wait = this.clock
      .sleep(ms, this.controller.signal)
      .then(fn, () => undefined)
      .finally(() => this.inFlight.delete(wait));
    this.inFlight.add(wait);
  }

  private deliver(payload: Record<string, unknown>): void {
    if (this.controller.signal.aborted) return;
    // not AbortSignal.any: the sandbox's own signal lives as long as it does (util/signals.ts)
    const link = timedSignal(this.controller.signal, DELIVERY_TIMEOUT_MS);
    const delivery = fetch(this.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(payload),
      signal: link.signal,
    })
      .then((res) => res.body?.cancel())
      .catch(() => undefined)
      .finally(() => {
        link.dispose();
        this.inFlight.delete(delivery);
      });
    this.inFlight.add(delivery);
  }

  /** Resolves when every delivery started so far has ended (delivered, failed or aborted). */
  async idle(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }

  close(): void {
    this.controller.abort();
  }
}
