/**
 * The sandbox's default operator list, as the API's `GET /operators` `data` array. The same
 * array is kept in fixtures/operators.json (a unit test checks they agree).
 */
import type { Operator } from '../api/types.js';

export const DEFAULT_OPERATORS: Operator[] = [
  { id: 1, name: 'Grameenphone', code: 'GP', min_amount: 10, max_amount: 1000 },
  { id: 2, name: 'Robi', code: 'ROBI', min_amount: 10, max_amount: 1000 },
  { id: 3, name: 'Banglalink', code: 'BL', min_amount: 10, max_amount: 1000 },
  { id: 4, name: 'Teletalk', code: 'TT', min_amount: 10, max_amount: 500 },
  { id: 5, name: 'Airtel', code: 'AT', min_amount: 10, max_amount: 1000 },
];

/** `operator_id` may arrive as a number or a numeric string; ids compare as text. */
export function findOperator(operators: readonly Operator[], id: unknown): Operator | undefined {
  if (typeof id !== 'number' && typeof id !== 'string') return undefined;
  return operators.find((op) => String(op.id) === String(id));
}
