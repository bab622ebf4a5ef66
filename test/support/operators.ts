import type { Operator } from '../../src/api/types.js';

/** The operator list the tests validate against: the same as the sandbox's default. */
export const OPERATORS: Operator[] = [
  { id: 1, name: 'Grameenphone', code: 'GP', min_amount: 10, max_amount: 1000 },
  { id: 2, name: 'Robi', code: 'ROBI', min_amount: 10, max_amount: 1000 },
  { id: 3, name: 'Banglalink', code: 'BL', min_amount: 10, max_amount: 1000 },
  { id: 4, name: 'Teletalk', code: 'TT', min_amount: 10, max_amount: 500 },
  { id: 5, name: 'Airtel', code: 'AT', min_amount: 10, max_amount: 1000 },
];
