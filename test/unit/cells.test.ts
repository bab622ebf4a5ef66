import { describe, expect, it } from 'vitest';
import { headerCells, inputCells, outcomeCells, textCell, unknownCells } from '../../src/report/cells.js';
import { cleanKeyCell } from '../../src/validate/unicode.js';
import { RESULT_COLUMNS, UNKNOWN_EXTRA_COLUMNS, resultHeader } from '../../src/report/columns.js';

describe('the cell builder (SPEC §4)', () => {
  it('guards text that a spreadsheet would run, and nothing else', () => {
    for (const v of ['=1+1', '+880', '-50', '@SUM(1)', '\tx', '\rx']) expect(textCell(v)).toBe(`'${v}`);
    for (const v of ['', 'Rahman', '01712345678', ' x', ' ', "'=x", 'a=b', ' a=b', '\u200b=x'])
      expect(textCell(v)).toBe(v);
    // a spreadsheet trims leading blanks before it looks, so those cells run too
    for (const v of [' =1+1', '  +880', '\n-50', '\r\n@SUM(1)', '\u00a0=x', '\u3000+1', ' \t=x'])
      expect(textCell(v)).toBe(`'${v}`);
  });

  it('guards every input cell, parsed or not, and keeps a long record whole in the last cell', () => {
    expect(inputCells(['=cmd', '+8801712345678', '-5'], 3, ',')).toEqual([`'=cmd`, `'+8801712345678`, `'-5`]);
    expect(inputCells(['a', 'b', 'c', '=d'], 2, ';')).toEqual(['a', 'b;c;=d']);
    expect(inputCells(['a'], 3, ',')).toEqual(['a', '', '']);
  });

  it('guards header cells and renames those that collide with ours', () => {
    expect(resultHeader(['=SUM(A1)', 'status', 'Name'])).toEqual([
      `'=SUM(A1)`,
      'input_status',
      'Name',
      ...RESULT_COLUMNS,
    ]);
    expect(headerCells(['@x', 'amount'], UNKNOWN_EXTRA_COLUMNS)).toEqual([
      `'@x`,
      'input_amount',
      ...UNKNOWN_EXTRA_COLUMNS,
    ]);
  });

  it("writes the tool's own values as they are and API text guarded, one cell per column", () => {
    const o = {
      row: 3,
      status: 'failed',
      number: '01712345678',
      operator: '=op',
      amount: 100,
      reference: '-ref',
      transactionId: '+T1',
      code: '@C',
      message: '=msg',
      submittedAt: '2026-01-01T00:00:00.000Z',
    };
    const cells = outcomeCells(o);
    expect(cells).toHaveLength(RESULT_COLUMNS.length);
    expect(cells).toEqual([
      '3',
      'failed',
      '01712345678',
      `'=op`,
      '100',
      `'-ref`,
      `'+T1`,
      `'@C`,
      `'=msg`,
      '2026-01-01T00:00:00.000Z',
      '',
    ]);
    expect(unknownCells(o)).toHaveLength(UNKNOWN_EXTRA_COLUMNS.length);
  });
});

describe('a guarded cell read back', () => {
  it('an operator or reference cell guarded before its blanks reads as it was written', () => {
    for (const v of ['-PAY-1', ' -PAY-1', '\u00a0@ref', '  +x'])
      expect(cleanKeyCell(textCell(v))).toBe(v.trim());
    expect(cleanKeyCell("'PAY-1")).toBe("'PAY-1"); // a ' that guards nothing stays (and is invalid)
  });
});
