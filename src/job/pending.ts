/**
 * What a run starts from (SPEC §5): the rows still to send and the rows to poll, found in one
 * pass over the job's rows. The rows to send are kept as row numbers and seen as a lazy
 * `RowState[]` (SPEC §11: a million pending rows are a few megabytes, not a million objects).
 */
import type { RowState } from './rows.js';

export interface StartingRows {
  /** the rows to send, in row order (views made when read) */
  pending: RowState[];
  /** rows `processing`: handed to `poll` */
  processing: number;
}

/** One pass: pending rows listed, processing rows handed to `poll`. */
export function startingRows(
  rows: readonly (RowState | undefined)[],
  poll: (r: RowState) => void,
): StartingRows {
  const numbers: number[] = [];
  let processing = 0;
  for (let n = 0; n < rows.length; n++) {
    const r = rows[n];
    if (!r) continue;
    if (r.status === 'pending') numbers.push(n);
    else if (r.status === 'processing') {
      processing++;
      poll(r);
    }
  }
  return { pending: lazyRows(rows, numbers), processing };
}

/** `numbers` seen as the rows they name: `list[i]` is `rows[numbers[i]]`, read when asked for. */
export function lazyRows(rows: readonly (RowState | undefined)[], numbers: readonly number[]): RowState[] {
  return new Proxy([] as RowState[], {
    get(target, prop, receiver) {
      if (typeof prop === 'string') {
        const c = prop.charCodeAt(0);
        if (c >= 48 && c <= 57) return rows[numbers[Number(prop)]!];
        if (prop === 'length') return numbers.length;
      }
      return Reflect.get(target, prop, receiver);
    },
    has(target, prop) {
      if (typeof prop === 'string' && prop.charCodeAt(0) >= 48 && prop.charCodeAt(0) <= 57)
        return Number(prop) < numbers.length;
      return Reflect.has(target, prop);
    },
  });
}

/** The number and total amount (BDT) of `pending` rows not in `skip` (the balance pre-check's need). */
export function toPay(
  pending: readonly RowState[],
  skip: ReadonlySet<number>,
): { rows: number; amount: number } {
  let rows = 0;
  let amount = 0;
  for (let i = 0; i < pending.length; i++) {
    const r = pending[i]!;
    if (skip.has(r.row)) continue;
    rows++;
    amount += r.amount ?? 0;
  }
  return { rows, amount };
}

/**
 * One submit worker: sends the next pending row (`cursor` is shared by the workers) until none
 * is left or `stopped()`. The previous row's outcome becomes durable while it sends the next
 * (`settled` of Submitter.submitOne): its transaction id and the next intent share one fsync.
 */
export async function submitWorker(
  pending: readonly RowState[],
  cursor: { next: number },
  stopped: () => boolean,
  send: (i: number, row: RowState) => Promise<{ settled: Promise<void> } | null>,
): Promise<void> {
  let settling: Promise<void> = Promise.resolve();
  while (!stopped() && cursor.next < pending.length) {
    const i = cursor.next++;
    const row = pending[i]!;
    if (row.status !== 'pending') continue;
    // an error here waits for the previous row's outcome, whose error names its transaction id
    const sent = await send(i, row).catch(async (err: unknown) => {
      await settling;
      throw err;
    });
    await settling;
    settling = sent?.settled ?? Promise.resolve();
  }
  await settling;
}
