/**
 * The columns of the CSVs the tool writes (SPEC §4), shared by `validate --out`, `run` and
 * `report`. Cells are built by report/cells.ts, the one cell builder.
 */
import { headerCells } from './cells.js';

export const RESULT_COLUMNS = [
  'row',
  'status',
  'normalized_number',
  'operator',
  'amount',
  'reference',
  'transaction_id',
  'error_code',
  'error_message',
  'submitted_at',
  'completed_at',
] as const;
export type ResultColumn = (typeof RESULT_COLUMNS)[number];

/** `<basename>.failed.csv`: the input's columns plus these — rows to fix and feed back. */
export const FAILED_EXTRA_COLUMNS = ['error_code', 'error_message'] as const;

/**
 * `<basename>.unknown.csv`: the input's columns plus these — rows that may have been paid,
 * to check with the API (by reference or transaction id), never to feed back as they are.
 */
export const UNKNOWN_EXTRA_COLUMNS = [
  'row',
  'normalized_number',
  'amount',
  'reference',
  'transaction_id',
  'error_code',
  'error_message',
  'submitted_at',
] as const;

export function resultHeader(inputColumns: readonly string[]): string[] {
  return headerCells(inputColumns, RESULT_COLUMNS);
}

export function failedHeader(inputColumns: readonly string[]): string[] {
  return headerCells(inputColumns, FAILED_EXTRA_COLUMNS);
}

export function unknownHeader(inputColumns: readonly string[]): string[] {
  return headerCells(inputColumns, UNKNOWN_EXTRA_COLUMNS);
}
