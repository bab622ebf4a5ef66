/** Summary counts and the `validate --out` report rows (SPEC §4 columns). */
import { inputCells, outcomeCells, type Outcome } from '../report/cells.js';
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
 * One report line: the input cells, then RESULT_COLUMNS, built by the one cell builder
 * (report/cells.ts: every input cell guarded, the tool's own parsed values as they are).
 * A valid row's warning is shown in error_message as `warning: …`, with no error_code.
 */
export function reportRow(verdict: RowVerdict, width: number, _roles: Roles, delimiter: string): string[] {
  const value = verdict.ok ? verdict.value : verdict.partial;
  const outcome: Outcome = {
    row: verdict.row,
    status: verdict.ok ? 'valid' : 'invalid',
    number: value.number,
    operator: value.operatorName,
    amount: value.amount,
    reference: value.reference,
    code: verdict.ok ? '' : verdict.code,
    message: verdict.ok ? (value.warning === undefined ? '' : `warning: ${value.warning}`) : verdict.message,
  };
  return outcomeCells(outcome, inputCells(verdict.fields, width, delimiter));
}
