/** The columns of the results and failed CSVs (SPEC §4), shared by `validate --out`, `run` and `report`. */

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

export const FAILED_EXTRA_COLUMNS = ['error_code', 'error_message'] as const;

/** Input columns that collide with one of ours are renamed `input_<name>` (SPEC §4). */
export function renameInputColumns(inputColumns: readonly string[], ours: readonly string[] = RESULT_COLUMNS): string[] {
  const taken = new Set<string>(ours);
  return inputColumns.map((c) => (taken.has(c) ? `input_${c}` : c));
}

export function resultHeader(inputColumns: readonly string[]): string[] {
  return [...renameInputColumns(inputColumns), ...RESULT_COLUMNS];
}

export function failedHeader(inputColumns: readonly string[]): string[] {
  return [...renameInputColumns(inputColumns, FAILED_EXTRA_COLUMNS), ...FAILED_EXTRA_COLUMNS];
}

/**
 * CSV-injection guard (SPEC §4): a free-text cell that a spreadsheet would run as a formula
 * gets a leading `'`. Applied to free text only; numbers and amounts are never touched.
 */
export function guardCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}
