/**
 * Webhook delivery (API doc "Webhooks"): one POST of the documented payload per transaction that
 * reaches a final state. Delivery is fire-and-forget: failures and slow receivers are ignored,
 * and `close()` aborts whatever is still in flight.
 */
import { formatIsoSeconds, toLedgerEntry, type Transaction } from './ledger.js';

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

  constructor(private readonly url: string) {}

  send(txn: Transaction): void {
    if (this.controller.signal.aborted) return;
    const delivery = fetch(this.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(webhookPayload(txn)),
      signal: AbortSignal.any([this.controller.signal, AbortSignal.timeout(DELIVERY_TIMEOUT_MS)]),
    })
      .then((res) => res.body?.cancel())
      .catch(() => undefined)
      .finally(() => this.inFlight.delete(delivery));
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
