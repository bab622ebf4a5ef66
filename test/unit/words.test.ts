import { describe, expect, it } from 'vitest';
import { bdt, count, noun } from '../../src/util/words.js';

describe('words for people', () => {
  it('counts with singular and plural, never "row(s)"', () => {
    expect(count(1, 'row')).toBe('1 row');
    expect(count(0, 'row')).toBe('0 rows');
    expect(count(2, 'invalid row')).toBe('2 invalid rows');
    expect(count(12500, 'row')).toBe('12,500 rows');
    expect(count(3, 'entry', 'entries')).toBe('3 entries');
    expect(noun(1, 'it', 'them')).toBe('it');
    expect(noun(4, 'it', 'them')).toBe('them');
  });
  it('writes every amount one way: grouped thousands, BDT after', () => {
    expect(bdt(34850)).toBe('34,850 BDT');
    expect(bdt(9250)).toBe('9,250 BDT');
    expect(bdt(50)).toBe('50 BDT');
    expect(bdt(50000)).toBe('50,000 BDT');
    expect(bdt(1234.5)).toBe('1,234.50 BDT');
  });
});
