import { describe, expect, it } from 'vitest';
import { RowKeyTable } from '../../src/validate/keyset.js';

describe('RowKeyTable', () => {
  it('remembers the first line of each number+amount, exactly, through growth', () => {
    const table = new RowKeyTable();
    const seen = new Map<string, number>();
    let line = 1;
    // 200k keys, many sharing a number or an amount, each offered twice
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < 100_000; i++) {
        const number = `01${3 + (i % 7)}${String((i * 7919) % 100_000_000).padStart(8, '0')}`;
        for (const amount of [100, 100 + (i % 3)]) {
          line++;
          const key = `${number}:${amount}`;
          const want = seen.get(key);
          if (want === undefined) seen.set(key, line);
          const got = table.firstLine(number, amount, line);
          if (got !== want) expect.fail(`${key}: got ${got}, want ${want}`);
        }
      }
    }
    expect(table.size).toBe(seen.size);
  });

  it('tells apart numbers and amounts that could collide in a combined key', () => {
    const table = new RowKeyTable();
    expect(table.firstLine('01711111111', 10, 2)).toBeUndefined();
    expect(table.firstLine('01711111110', 110, 3)).toBeUndefined();
    expect(table.firstLine('01811111111', 10, 4)).toBeUndefined();
    expect(table.firstLine('01711111111', 10, 5)).toBe(2);
  });

  it('handles amounts beyond 32 bits', () => {
    const table = new RowKeyTable();
    expect(table.firstLine('01711111111', 2 ** 40, 2)).toBeUndefined();
    expect(table.firstLine('01711111111', 2 ** 40 + 1, 3)).toBeUndefined();
    expect(table.firstLine('01711111111', 2 ** 40, 4)).toBe(2);
  });
});
