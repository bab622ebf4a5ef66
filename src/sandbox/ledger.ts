/**
 * The sandbox's money and transactions: the balance (kept in paisa so sums stay exact), every
 * committed recharge in commit order, and the lazy `processing` → `completed`/`failed` move.
 * Status is computed from the clock when read (`settle`), so a FakeClock drives it.
 */
import type { Operator } from '../api/types.js';

export type LedgerStatus = 'processing' | 'completed' | 'failed';

export interface LedgerEntry {
  transaction_id: string;
  reference: string | null;
  mobile_number: string;
  amount: number;
  operator_id: number | string;
  operator: string;
  status: LedgerStatus;
  created_at: string;
  completed_at: string | null;
}

export interface Transaction {
  id: string;
  reference: string | null;
  mobileNumber: string;
  amount: number;
  operator: Operator;
  createdAtMs: number;
  /** clock ms at which it leaves `processing` */
  completeAtMs: number;
  /** decided at commit time */
  outcome: 'completed' | 'failed';
  status: LedgerStatus;
}

/** `YYYY-MM-DD HH:MM:SS` in UTC, the API doc's timestamp format. */
export function formatApiTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** ISO 8601 without milliseconds, like the doc's webhook `timestamp` ("2025-12-27T10:30:15Z"). */
export function formatIsoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function toPaisa(bdt: number): number {
  return Math.round(bdt * 100);
}

export class Ledger {
  private balancePaisa: number;
  private readonly transactions: Transaction[] = [];
  private readonly byId = new Map<string, Transaction>();
  private readonly byReference = new Map<string, Transaction>();
  private processing: Transaction[] = [];
  private seq = 0;
  private readonly idPrefix: string;

  /** `startMs` only seeds the id prefix, so two sandboxes started at different times do not share ids. */
  constructor(balance: number, startMs: number) {
    this.balancePaisa = toPaisa(balance);
    this.idPrefix = String(Math.floor(startMs / 1000) % 1_000_000).padStart(6, '0');
  }

  get balance(): number {
    return this.balancePaisa / 100;
  }

  setBalance(bdt: number): void {
    this.balancePaisa = toPaisa(bdt);
  }

  canAfford(amount: number): boolean {
    return toPaisa(amount) <= this.balancePaisa;
  }

  find(id: string): Transaction | undefined {
    return this.byId.get(id);
  }

  findByReference(reference: string): Transaction | undefined {
    return this.byReference.get(reference);
  }

  /** Deducts the amount and records the transaction. The caller has checked the balance. */
  commit(init: {
    reference: string | null;
    mobileNumber: string;
    amount: number;
    operator: Operator;
    now: number;
    completeAfterMs: number;
    fails: boolean;
  }): Transaction {
    this.seq++;
    const txn: Transaction = {
      // 'TXN' + 6 digits from the start time + a 6-digit (or longer) sequence: unique, ≥ 12 digits
      id: `TXN${this.idPrefix}${String(this.seq).padStart(6, '0')}`,
      reference: init.reference,
      mobileNumber: init.mobileNumber,
      amount: init.amount,
      operator: init.operator,
      createdAtMs: init.now,
      completeAtMs: init.now + init.completeAfterMs,
      outcome: init.fails ? 'failed' : 'completed',
      status: 'processing',
    };
    this.balancePaisa -= toPaisa(init.amount);
    this.transactions.push(txn);
    this.byId.set(txn.id, txn);
    if (txn.reference !== null && !this.byReference.has(txn.reference))
      this.byReference.set(txn.reference, txn);
    this.processing.push(txn);
    return txn;
  }

  /**
   * Moves every transaction whose time has come to its final state (refunding the failed ones)
   * and returns them in the order they became final.
   */
  settle(now: number): Transaction[] {
    if (this.processing.length === 0) return [];
    const due: Transaction[] = [];
    const still: Transaction[] = [];
    for (const txn of this.processing) (txn.completeAtMs <= now ? due : still).push(txn);
    if (due.length === 0) return [];
    this.processing = still;
    due.sort((a, b) => a.completeAtMs - b.completeAtMs);
    for (const txn of due) {
      txn.status = txn.outcome;
      if (txn.status === 'failed') this.balancePaisa += toPaisa(txn.amount);
    }
    return due;
  }

  entries(): LedgerEntry[] {
    return this.transactions.map(toLedgerEntry);
  }

  get size(): number {
    return this.transactions.length;
  }
}

export function toLedgerEntry(txn: Transaction): LedgerEntry {
  return {
    transaction_id: txn.id,
    reference: txn.reference,
    mobile_number: txn.mobileNumber,
    amount: txn.amount,
    operator_id: txn.operator.id,
    operator: txn.operator.name,
    status: txn.status,
    created_at: formatApiTime(txn.createdAtMs),
    completed_at: txn.status === 'processing' ? null : formatApiTime(txn.completeAtMs),
  };
}

/**
 * The documented transaction object with its current status: `get` is the `GET /transaction/{id}`
 * shape (`completed_at` null until final); `post` is the `POST /recharge` shape, which has no
 * `completed_at` while processing.
 */
export function transactionView(txn: Transaction, shape: 'get' | 'post' = 'get'): Record<string, unknown> {
  const view: Record<string, unknown> = {
    transaction_id: txn.id,
    status: txn.status,
    mobile_number: txn.mobileNumber,
    amount: txn.amount,
    operator: txn.operator.name,
    reference: txn.reference,
    created_at: formatApiTime(txn.createdAtMs),
    completed_at: txn.status === 'processing' ? null : formatApiTime(txn.completeAtMs),
  };
  if (shape === 'post' && view.completed_at === null) delete view.completed_at;
  if (txn.status === 'failed') {
    // not documented; our types allow a failed transaction to say why
    view.error_code = 'OPERATOR_FAILURE';
    view.message = 'The operator could not complete the recharge; the amount was refunded';
  }
  return view;
}
