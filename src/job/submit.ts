/**
 * Submission (SPEC §5): one POST per pending row, its intent durable before it is sent, its
 * outcome (outcome.ts) recorded before anything else happens to the row; the balance check
 * before the first POST; and the circuit breaker (SPEC §5 additions): after
 * {@link BREAKER_LIMIT} ambiguous POST outcomes in a row, submitting stops — a systemic fault
 * (an encoding we cannot read, a proxy eating answers) must never move a whole batch into
 * `unknown`. Rows not yet sent stay `pending`; `resume` continues.
 */
import type { AlsamiflexiClient } from '../api/client.js';
import type { PostOutcome, StatusReading } from '../api/outcome.js';
import type { Transaction } from '../api/types.js';
import type { Clock } from '../clock.js';
import { ApiError, BatchError, localIoError, type ErrorCode } from '../errors.js';
import type { JobEvents } from './events.js';
import type { JournalRecord } from './journal.js';
import type { RowState } from './rows.js';
import { bdt, count } from '../util/words.js';

/** Ambiguous POST outcomes in a row after which submitting stops (SPEC §5 additions). */
export const BREAKER_LIMIT = 5;

export interface SubmitContext {
  client: AlsamiflexiClient;
  clock: Clock;
  events: JobEvents;
  /** appends to the journal (durable when it resolves) and applies to the rows */
  record(rec: JournalRecord): Promise<void>;
  /** applies to the rows only: when the journal failed, the results still carry the id */
  applyOnly(rec: JournalRecord): void;
  /** aborted when submitting must stop; rows still waiting to be sent stay pending */
  stopSignal: AbortSignal;
  /** stop the run for this reason; `polls`: stop polling too */
  stop(code: ErrorCode, message: string, polls?: boolean): void;
  /** poll this processing row from `due` on */
  poll(row: RowState, due: number): void;
  /** a status word not in the synonym table: warned about once per word */
  unknownWord(word: string): void;
  referenceDedup: boolean;
  /** resends of one ambiguous or refused POST before giving up */
  resendLimit: number;
  backoffBaseMs: number;
  pollAfterMs: number;
}

/** What {@link Submitter.submitOne} hands back once the row's request is done. */
export interface Submitted {
  /** the outcome's record is durable and applied; rejects if the journal could not be written */
  settled: Promise<void>;
}

const SETTLED: Submitted = { settled: Promise.resolve() };

export class Submitter {
  /** ambiguous POST outcomes since the last clear answer */
  private ambiguousInARow = 0;

  constructor(private readonly c: SubmitContext) {}

  /**
   * Sends `row` (its intent durable first) and records the outcome. Resolves as soon as the
   * answer is in hand and its record queued: `settled` resolves once that record is durable
   * and applied (it rejects if the journal could not be written). Until then nothing else
   * happens to the row, but the caller may go on to its next row, whose intent then shares
   * the transaction id's fsync (journal.ts, group commit).
   */
  async submitOne(row: RowState): Promise<Submitted> {
    const { c } = this;
    const body = {
      operator_id: row.operatorId!,
      mobile_number: row.number!,
      amount: row.amount!,
      reference: row.ref!,
    };
    let intentWritten = false;
    /** an earlier attempt of this loop may have been carried out (a resend under --reference-dedup) */
    let mayHaveGoneThrough = false;
    const markUnknown = async (code: string, message: string) => {
      await c.record({
        t: 'unknown',
        row: row.row,
        att: row.att,
        code,
        msg: `outcome unknown (${message}); reference ${row.ref}`,
        at: c.clock.now(),
      });
      c.events.emit('row:unknown', { row });
    };
    /** this attempt certainly did nothing: pending again, unless an earlier one may have worked */
    const giveBack = async (why: string) => {
      if (mayHaveGoneThrough) await markUnknown(why, 'an earlier attempt got no clear answer');
      else if (intentWritten) {
        await c.record({ t: 'released', row: row.row, att: row.att, why, at: c.clock.now() });
        c.events.emit('row:released', { row, why });
      }
    };
    for (let resend = 0; ; resend++) {
      let o: PostOutcome;
      try {
        o = await c.client.submit(body, {
          queueSignal: c.stopSignal,
          // the single place where a row's intent is made durable before its POST
          beforeSend: async () => {
            await c.record({ t: 'intent', row: row.row, att: row.att, ref: row.ref!, at: c.clock.now() });
            intentWritten = true;
            c.events.emit('row:submitted', { row });
          },
        });
      } catch (err) {
        if (
          !(err instanceof ApiError) ||
          !['INTERRUPTED', 'RATE_LIMITED', 'API_RATE_LIMITED'].includes(err.code)
        )
          throw err;
        // never sent, or answered only 429 (which does nothing)
        await giveBack(err.code);
        if (err.code !== 'INTERRUPTED') c.stop('RATE_LIMITED', err.message);
        return SETTLED;
      }
      switch (o.kind) {
        case 'accepted': {
          this.ambiguousInARow = 0;
          const settled = this.accept(row, o);
          settled.catch(() => undefined); // awaited by the caller, a row later
          return { settled };
        }
        case 'rejected':
          this.ambiguousInARow = 0;
          if (mayHaveGoneThrough) {
            await markUnknown(o.code, `${o.message}, after an attempt that got no clear answer`);
            return SETTLED;
          }
          await c.record({
            t: 'rejected',
            row: row.row,
            att: row.att,
            code: o.code,
            msg: o.message,
            at: c.clock.now(),
          });
          c.events.emit('row:final', { row });
          return SETTLED;
        case 'short':
          this.ambiguousInARow = 0;
          await giveBack('INSUFFICIENT_BALANCE');
          c.stop(
            'INSUFFICIENT_BALANCE',
            `the API answered 402 (${o.message}): top up the balance, then run the same command again to resume`,
          );
          return SETTLED;
        case 'fatal':
          await giveBack(o.error.apiCode ?? o.error.code);
          c.stop(o.error.code, o.error.message, true);
          return SETTLED;
        case 'not-sent':
          if (resend < c.resendLimit && !c.stopSignal.aborted) {
            await this.backoff(resend);
            continue;
          }
          await giveBack(o.code);
          if (!c.stopSignal.aborted) c.stop('API_UNREACHABLE', o.message, true);
          return SETTLED;
        case 'ambiguous': {
          const tripped = ++this.ambiguousInARow >= BREAKER_LIMIT;
          if (tripped && !c.stopSignal.aborted) {
            c.stop(
              'API_UNREADABLE',
              `the API's answers cannot be read: ${this.ambiguousInARow} recharges in a row got no usable answer (last: ${o.message}); stopped submitting — the rows not sent yet stay pending; check the unknown rows with the API provider, then run the same command again to resume`,
              true,
            );
          }
          if (o.resendable && c.referenceDedup && resend < c.resendLimit && !c.stopSignal.aborted) {
            mayHaveGoneThrough = true;
            await this.backoff(resend);
            continue;
          }
          await markUnknown(o.code, o.message);
          return SETTLED;
        }
      }
    }
  }

  private async backoff(resend: number): Promise<void> {
    await this.c.clock.sleep(this.c.backoffBaseMs * 2 ** resend, this.c.stopSignal).catch(() => undefined);
  }

  /** The transaction id is made durable before anything else happens to the row (SPEC §5). */
  private async accept(row: RowState, o: Extract<PostOutcome, { kind: 'accepted' }>): Promise<void> {
    const { c } = this;
    const rec = acceptedRecord(row, o.txn, o.status, o.salvaged, c.clock.now());
    try {
      await c.record(rec);
    } catch (err) {
      c.applyOnly(rec); // so the results written on the way out still carry it
      const io = localIoError(err, true);
      throw new BatchError(
        io?.code ?? 'INTERNAL',
        `${io?.message ?? `the journal could not be written: ${(err as Error).message}`} — the API had accepted row ${row.row} as transaction ${o.txn.transaction_id} (reference ${row.ref}); keep this line`,
        { row: row.row, txn: o.txn.transaction_id },
        { cause: err },
      );
    }
    if (!o.status.known) c.unknownWord(o.status.word);
    c.events.emit(row.status === 'processing' ? 'row:accepted' : 'row:final', { row });
    if (row.status === 'processing') c.poll(row, c.clock.now() + c.pollAfterMs);
  }
}

/**
 * Before the first POST (SPEC §5): the balance must cover the rows to pay (`need`: how many,
 * and their total in BDT), unless --allow-partial; otherwise `stop` with the shortfall.
 */
export async function balanceCheck(
  client: AlsamiflexiClient,
  need: { rows: number; amount: number },
  allowPartial: boolean,
  stop: (code: ErrorCode, message: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const { balance, currency } = await client.getBalance(signal);
  if (balance >= need.amount || allowPartial) return;
  const short = Math.ceil((need.amount - balance) * 100) / 100;
  stop(
    'INSUFFICIENT_BALANCE',
    `the balance of ${bdt(balance, currency)} is short of the ${bdt(need.amount, currency)} that ${count(need.rows, 'pending row')} need, by ${bdt(short, currency)}; nothing was sent (top up, or --allow-partial)`,
  );
}

/** What a row shows while its status word is one nobody documented (SPEC §5 additions). */
export function unknownWordText(word: string): string {
  return `the API gave status "${word}", which is not a known status word; treated as still processing`;
}

export function acceptedRecord(
  row: RowState,
  txn: Transaction,
  st: StatusReading,
  salvaged: string | undefined,
  at: number,
): JournalRecord {
  const note = salvaged
    ? `accepted as transaction ${txn.transaction_id}, but the answer was not in the documented shape (${salvaged}); its status is polled`
    : !st.known
      ? unknownWordText(st.word)
      : undefined;
  return {
    t: 'accepted',
    row: row.row,
    att: row.att,
    txn: txn.transaction_id,
    st: st.outcome,
    op: txn.operator,
    at,
    done: txn.completed_at ?? null,
    ...(st.outcome === 'failed' ? failure(txn, st) : note ? { msg: note } : {}),
  };
}

export function finalRecord(row: RowState, txn: Transaction, st: StatusReading, at: number): JournalRecord {
  return {
    t: 'final',
    row: row.row,
    att: row.att,
    txn: txn.transaction_id,
    st: st.outcome === 'completed' ? 'completed' : 'failed',
    ...(st.outcome === 'failed' ? failure(txn, st) : {}),
    at,
    done: txn.completed_at ?? null,
  };
}

/** A failed transaction's code and message; the API's own word when it is not plain `failed`. */
function failure(txn: Transaction, st: StatusReading): { code: string; msg: string } {
  const word = st.word.toLowerCase();
  const code = txn.error_code ?? (word && word !== 'failed' ? word.toUpperCase() : 'RECHARGE_FAILED');
  return {
    code,
    msg:
      txn.message ??
      `the operator reported the recharge ${word && word !== 'failed' ? `as "${st.word}"` : 'failed'}`,
  };
}
