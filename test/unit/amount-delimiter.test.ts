/**
 * The amount rule by the file's delimiter (SPEC §3, the mirror of §3a's dot rule): a `;` file
 * comes from a sheet whose comma is the decimal mark as often as not, and a tab file says
 * nothing of its locale, so there `1,000` may be 1 taka and is refused, never paid as 1000. A
 * `,` file keeps reading a (quoted) comma as a thousands mark.
 */
import { describe, expect, it } from 'vitest';
import { explainAmount, normalizeAmount } from '../../src/validate/normalize.js';
import { cleanValueCell } from '../../src/validate/unicode.js';

const CELLS = [
  '1,000',
  '12,500',
  '1,000,000',
  '1,00,000',
  '100,00',
  '100,0',
  '100,50',
  '1.000,00',
  '1 000',
  '100',
];

describe('what an amount cell is worth in each kind of file', () => {
  it.each([
    // cell, in a `,` file, in a `;` file, in a tab file
    ['1,000', 1000, null, null],
    ['12,500', 12500, null, null],
    ['1,000,000', 1000000, null, null],
    ['1,00,000', 100000, null, null],
    ['৳1,000', 1000, null, null],
    ['100,00', null, 100, 100],
    ['100,0', null, 100, 100],
    ['100,0000', null, 100, 100],
    ['Tk 100,00', null, 100, 100],
    ['100,50', null, null, null],
    ['100,5', null, null, null],
    ['1.000,00', null, null, null],
    ['1,000.00', 1000, null, null],
    ['50.000', null, null, null],
    ['100.00', 100, 100, 100],
    ['1 000', null, null, null],
    ['100', 100, 100, 100],
    ['1,0,0', null, null, null],
    ['100,', null, null, null],
    [',50', null, null, null],
  ])('%j: , → %j  ; → %j  tab → %j', (cell, comma, semicolon, tab) => {
    expect(normalizeAmount(cell)).toBe(comma); // the library default is a `,` file
    expect(normalizeAmount(cell, ',')).toBe(comma);
    expect(normalizeAmount(cell, ';')).toBe(semicolon);
    expect(normalizeAmount(cell, '\t')).toBe(tab);
  });

  it('a decimal comma never drops its mark: 100,50 is no amount at all, never 10050', () => {
    for (const d of [',', ';', '\t']) {
      for (const cell of ['100,50', '100,05', '1,5', '99,99']) expect(normalizeAmount(cell, d)).toBeNull();
    }
  });

  it('no reading in a ; or tab file is larger than the same cell read in a , file', () => {
    for (const cell of CELLS) {
      const comma = normalizeAmount(cell, ',');
      for (const d of [';', '\t']) {
        const other = normalizeAmount(cell, d);
        if (other !== null && comma !== null) expect(other).toBeLessThanOrEqual(comma);
      }
    }
  });
});

describe('what the clerk is told', () => {
  it('a thousands-like comma in a ; file names the cell, why, and what to write', () => {
    expect(explainAmount('1,000', '1,000', ';')).toBe(
      'amount "1,000" is ambiguous in a ;-separated file (the comma may be a decimal mark): write 1000 (for 1 taka, write 1)',
    );
    expect(explainAmount('12,500', '12,500', ';')).toBe(
      'amount "12,500" is ambiguous in a ;-separated file (the comma may be a decimal mark): write 12500',
    );
    expect(explainAmount('1,000,000', '1,000,000', ';')).toContain('write 1000000');
    expect(explainAmount('1,00,000', '1,00,000', ';')).toContain('write 100000');
    expect(explainAmount('৳1,000 /-', '৳1,000 /-', ';')).toContain('write 1000');
  });

  it('the same in a tab file says tab-separated', () => {
    expect(explainAmount('1,000', '1,000', '\t')).toBe(
      'amount "1,000" is ambiguous in a tab-separated file (the comma may be a decimal mark): write 1000 (for 1 taka, write 1)',
    );
  });

  it('a dotted amount in a ; file is not told to write a comma, which would be refused too', () => {
    expect(explainAmount('50.000', '50.000', ';')).toBe(
      'amount "50.000" is ambiguous: write 50000 (for 50 taka, write 50)',
    );
    expect(explainAmount('50.000', '50.000', ',')).toBe(
      'amount "50.000" is ambiguous: write 50000 or 50,000 (for 50 taka, write 50)',
    );
  });

  it('a decimal comma with pence is not whole taka in a ; file; in a , file it is a decimal comma', () => {
    expect(explainAmount('100,50', '100,50', ';')).toBe('amount "100,50" is not a whole number of taka');
    expect(explainAmount('100,50', '100,50', '\t')).toBe('amount "100,50" is not a whole number of taka');
    expect(explainAmount('100,50', '100,50', ',')).toBe(
      'amount "100,50" has a decimal comma; write whole taka such as 100',
    );
  });

  it('a dot and a comma together: its own value, whatever the file', () => {
    for (const d of [',', ';', '\t']) {
      expect(explainAmount('1.000,00', '1.000,00', d)).toBe(
        'amount "1.000,00" is ambiguous (it has both a dot and a comma): write 1000',
      );
      expect(explainAmount('1.000,50', '1.000,50', d)).toBe(
        'amount "1.000,50" is not a whole number of taka',
      );
    }
    expect(explainAmount('1,000.00', '1,000.00', ';')).toBe(
      'amount "1,000.00" is ambiguous (it has both a dot and a comma): write 1000',
    );
  });

  it('spaces between digit groups (a no-break space too) say what to write', () => {
    expect(explainAmount('1 000')).toBe('amount "1 000" has spaces between its digits; write 1000');
    expect(explainAmount(cleanValueCell('10\u00a0000'), '10\u00a0000', ';')).toBe(
      'amount "10\\u00a0000" has spaces between its digits; write 10000',
    );
    expect(explainAmount('100 50')).toBe('amount "100 50" is not a number of taka');
  });
});
