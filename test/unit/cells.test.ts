import { describe, expect, it } from 'vitest';
import { headerCells, inputCells, outcomeCells, textCell, unknownCells } from '../../src/report/cells.js';
import { RESULT_COLUMNS, UNKNOWN_EXTRA_COLUMNS, resultHeader } from '../../src/report/columns.js';

describe('the cell builder (SPEC §4)', () => {
  it('guards text that a spreadsheet would run, and nothing else', () => {
    for (const v of ['=1+1', '+880', '-50', '@SUM(1)', '\tx', '\rx']) expect(textCell(v)).toBe(`'${v}`);
    for (const v of ['', 'Rahman', '01712345678', ' =x', "'=x", 'a=b']) expect(textCell(v)).toBe(v);
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
