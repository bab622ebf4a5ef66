import { describe, expect, it } from 'vitest';
import { RowKeyTable } from '../../src/validate/keyset.js';

describe('RowKeyTable', () => {
  it('remembers the first line of each number+amount and the earliest other row and amount, exactly, through growth', () => {
    const table = new RowKeyTable();
    const seen = new Map<string, number>();
    const byNumber = new Map<string, { line: number; amount: number; row: number }[]>();
    let line = 1;
    let row = 0;
    // 200k keys, many sharing a number or an amount, each offered twice
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < 100_000; i++) {
        const number = `01${3 + (i % 7)}${String((i * 7919) % 100_000_000).padStart(8, '0')}`;
        for (const amount of [100, 100 + (i % 3)]) {
          // blank lines and cells over several lines: the line runs ahead of the row now and then
          line += row % 17 === 0 ? 3 : 1;
          row++;
          const key = `${number}:${amount}`;
          const want = seen.get(key) ?? 0;
          const others = (byNumber.get(number) ?? []).filter((e) => e.amount !== amount);
          const other = others.sort((a, b) => a.line - b.line)[0];
          if (want === 0) {
            seen.set(key, line);
            byNumber.set(number, [...(byNumber.get(number) ?? []), { line, amount, row }]);
          }
          const got = table.see(number, amount, row, line, row % 5 === 0);
          if (got !== want) expect.fail(`${key}: got ${got}, want ${want}`);
          if (table.otherLine !== (other?.line ?? 0)) expect.fail(`${key}: other line ${table.otherLine}`);
          if (other && (table.otherRow !== other.row || table.otherAmount !== other.amount))
            expect.fail(`${key}: other row ${table.otherRow} for ${table.otherAmount}`);
          if (other && table.otherInvalid !== (other.row % 5 === 0)) expect.fail(`${key}: invalid flag`);
        }
      }
    }
    expect(table.size).toBe(seen.size);
  });

  it('tells apart numbers and amounts that could collide in a combined key', () => {
    const table = new RowKeyTable();
    expect(table.see('01711111111', 10, 1, 2, false)).toBe(0);
    expect(table.see('01711111110', 110, 2, 3, false)).toBe(0);
    expect(table.otherLine).toBe(0);
    expect(table.see('01811111111', 10, 3, 4, false)).toBe(0);
    expect(table.otherLine).toBe(0);
    expect(table.see('01711111111', 10, 4, 5, false)).toBe(2);
  });

  it('names the earliest row with the same number and another amount, and whether it was invalid', () => {
    const table = new RowKeyTable();
    expect(table.see('01712345678', 500, 3, 5, true)).toBe(0);
    expect(table.see('01712345678', 300, 41, 43, false)).toBe(0);
    expect([table.otherRow, table.otherLine, table.otherAmount, table.otherInvalid]).toEqual([
      3,
      5,
      500,
      true,
    ]);
    expect(table.see('01712345678', 200, 50, 52, false)).toBe(0);
    expect([table.otherRow, table.otherAmount]).toEqual([3, 500]);
    // the same amount as row 41: that row's line, and still row 3 as the other amount
    expect(table.see('01712345678', 300, 60, 62, false)).toBe(43);
    expect(table.otherRow).toBe(3);
  });

  it('handles amounts beyond 32 bits', () => {
    const table = new RowKeyTable();
    expect(table.see('01711111111', 2 ** 40, 1, 2, false)).toBe(0);
    expect(table.see('01711111111', 2 ** 40 + 1, 2, 3, false)).toBe(0);
    expect([table.otherRow, table.otherAmount]).toEqual([1, 2 ** 40]);
    expect(table.see('01711111111', 100, 3, 4, false)).toBe(0);
    expect(table.otherLine).toBe(2);
    expect(table.see('01711111111', 2 ** 40, 4, 5, false)).toBe(2);
    expect(table.size).toBe(3);
  });
});
