/**
 * The same number on two rows of one file with different amounts (SPEC §3, and §5a's rule
 * across jobs — "paid, and listed as a warning" — brought inside the file). A copy-paste slip
 * in a payroll sheet looks exactly like this, and so does a real second payment: the row stays
 * valid and is paid, but it carries a warning naming the other row, and the summaries of
 * `validate` and `run` count such rows and show the first few (never thousands of lines).
 */
import type { RowVerdict } from './rules.js';
import { bdt, count, group, noun } from '../util/words.js';

/** The earlier row a warned row shares its number with. */
export interface SameNumber {
  /** 1-based data row */
  row: number;
  /** its line in the file */
  line: number;
  /** whole taka */
  amount: number;
  /** that row is invalid (not sent) */
  invalid: boolean;
}

/**
 * The row's warning, for a payroll clerk: the other row, its line and amount, and this row's.
 * @param valid this row is valid (it pays); an invalid one "would pay" once corrected
 */
export function sameNumberWarning(number: string, amount: number, other: SameNumber, valid: boolean): string {
  const there = other.invalid ? ' (invalid there, not sent; corrected and run, it would be paid too)' : '';
  return `${number} is also on row ${other.row} (line ${other.line}) for ${bdt(other.amount)}${there}; this row ${valid ? 'pays' : 'would pay'} ${bdt(amount)} — check it is meant`;
}

/** One warned row, as the summaries show it and `--json` gives it. */
export interface SameNumberRow {
  row: number;
  line: number;
  number: string;
  amount: number;
  /** the earlier row with the same number and another amount */
  also: SameNumber;
}

/** The rows warned so far: how many, and the first `keep` of them (bounded memory: SPEC §11). */
export class SameNumberNotes {
  rows = 0;
  readonly first: SameNumberRow[] = [];
  constructor(readonly keep = 10) {}

  /**
   * Counts `verdict` if it is valid and carries the warning: the summaries list rows that pay
   * (an invalid row keeps the warning on its verdict; its error is what its CSV line shows).
   */
  add(verdict: RowVerdict): void {
    if (!verdict.ok) return;
    const { value } = verdict;
    if (value.sameNumber === undefined) return;
    this.rows++;
    if (this.first.length < this.keep) {
      const { row, line } = verdict;
      this.first.push({ row, line, number: value.number, amount: value.amount, also: value.sameNumber });
    }
  }

  /** The `--json` form (`same_number`), the same for `validate` and `run`. */
  toJSON() {
    return {
      rows: this.rows,
      first: this.first.map((r) => ({
        row: r.row,
        line: r.line,
        number: r.number,
        amount: r.amount,
        also: { row: r.also.row, line: r.also.line, amount: r.also.amount, invalid: r.also.invalid },
      })),
    };
  }
}

/**
 * The summary lines: a head line with the count, then up to `show` rows, then "and N more" with
 * where to find them (`where`: the results or report CSV). None when no row was warned.
 * @param paid `run` (the rows were sent) or `validate` (they would be)
 */
export function sameNumberLines(
  notes: { rows: number; first: readonly SameNumberRow[] },
  how: { paid: boolean; where: string; show?: number; indent?: string },
): string[] {
  const n = notes.rows;
  if (n === 0) return [];
  const indent = how.indent ?? '  ';
  const show = Math.min(how.show ?? 5, notes.first.length);
  const paid = how.paid
    ? noun(n, 'it is paid', 'each is paid')
    : noun(n, 'it stays valid', 'each stays valid');
  const lines = [
    `${indent}warning: ${count(n, 'row repeats', 'rows repeat')} the number of an earlier row with another amount; ${paid} — check ${noun(n, 'it is', 'they are')} meant:`,
  ];
  for (const r of notes.first.slice(0, show)) {
    const there = r.also.invalid ? ', invalid there' : '';
    lines.push(
      `${indent}  row ${group(r.row)} (line ${group(r.line)}): ${r.number} for ${bdt(r.amount)}; also on row ${group(r.also.row)} (line ${group(r.also.line)}) for ${bdt(r.also.amount)}${there}`,
    );
  }
  if (n > show) lines.push(`${indent}  … and ${group(n - show)} more — see ${how.where}`);
  return lines;
}
