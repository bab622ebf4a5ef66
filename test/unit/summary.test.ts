import { describe, expect, it } from 'vitest';
import { etaSeconds } from '../../src/report/summary.js';

const counts = (pending: number, processing: number) => ({
  pending,
  processing,
  completed: 5,
  failed: 1,
  invalid: 0,
  unknown: 0,
});

describe('etaSeconds', () => {
  it('counts a POST and a poll per pending row, a poll per processing row, then the poll delay', () => {
    expect(etaSeconds(counts(10, 4), 1000, 15_000)).toBe(24 + 15);
    expect(etaSeconds(counts(0, 1), 500, 2000)).toBe(3);
  });
  it('is 0 when nothing is left', () => {
    expect(etaSeconds(counts(0, 0), 1000, 15_000)).toBe(0);
  });
});
