/** Summary counts and the `validate --out` report rows (SPEC §4 columns). */
import { guardCell, RESULT_COLUMNS } from '../report/columns.js';
import type { Roles } from './header.js';
import type { RowVerdict } from './rules.js';

export interface ValidationSummary {
  rows: number;
  valid: number;
  invalid: number;
  invalidByCode: Record<string, number>;
  /** valid rows only, BDT */
  totalAmount: number;
  /** by operator name, valid rows only */
  byOperator: Record<string, { rows: number; amount: number }>;
  /** rows carrying a warning (valid or not) */
  warnings: number;
}

export function emptySummary(): ValidationSummary {
  return { rows: 0, valid: 0, invalid: 0, invalidByCode: {}, totalAmount: 0, byOperator: {}, warnings: 0 };
}

export function tally(summary: ValidationSummary, verdict: RowVerdict): void {
  summary.rows++;
  if (verdict.ok) {
    const { amount, operatorName, warning } = verdict.value;
    summary.valid++;
    summary.totalAmount += amount;
    const op = (summary.byOperator[operatorName] ??= { rows: 0, amount: 0 });
    op.rows++;
    op.amount += amount;
    if (warning !== undefined) summary.warnings++;
  } else {
    summary.invalid++;
    summary.invalidByCode[verdict.code] = (summary.invalidByCode[verdict.code] ?? 0) + 1;
    if (verdict.partial.warning !== undefined) summary.warnings++;
  }
}

/**
 * One report line: the input cells, then RESULT_COLUMNS. Input cells are free text and go
 * through guardCell, except the number and amount cells of a row whose number/amount were
 * read (SPEC §4: numbers and amounts are never touched). A record with more fields than the
 * header keeps the extra ones joined into the last cell, so nothing of the input is lost.
 * A valid row's warning is shown in error_message as `warning: …`, with no error_code.
 */
export function reportRow(verdict: RowVerdict, width: number, roles: Roles, delimiter: string): string[] {
  const { fields } = verdict;
  const cells = new Array<string>(width + RESULT_COLUMNS.length);
  const value = verdict.ok ? verdict.value : verdict.partial;
  for (let i = 0; i < width; i++) {
    let cell = i < fields.length ? fields[i]! : '';
    if (i === width - 1 && fields.length > width) cell = fields.slice(i).join(delimiter);
    const untouched =
      fields.length === width &&
      ((i === roles.number && value.number !== undefined) || (i === roles.amount && value.amount !== undefined));
    cells[i] = untouched ? cell : guardCell(cell);
  }
  let k = width;
  cells[k++] = String(verdict.row);
  cells[k++] = verdict.ok ? 'valid' : 'invalid';
  cells[k++] = value.number ?? '';
  cells[k++] = guardCell(value.operatorName ?? '');
  cells[k++] = value.amount === undefined ? '' : String(value.amount);
  cells[k++] = guardCell(value.reference ?? '');
  cells[k++] = ''; // transaction_id
  cells[k++] = verdict.ok ? '' : verdict.code;
  const message = verdict.ok ? (value.warning === undefined ? '' : `warning: ${value.warning}`) : verdict.message;
  cells[k++] = guardCell(message);
  cells[k++] = ''; // submitted_at
  cells[k++] = ''; // completed_at
  return cells;
}
