import { describe, expect, it } from 'vitest';
import type { Operator } from '../../src/api/types.js';
import { OPERATORS } from '../support/operators.js';
import {
  explainAmount,
  explainNumber,
  indexOperators,
  lookupOperator,
  normalizeAmount,
  normalizeNumber,
  prefixMismatch,
  toAsciiDigits,
} from '../../src/validate/normalize.js';

import { prng, type Rng } from '../support/prng.js';

const MOBILE = /^01[3-9]\d{8}$/;
const bengali = (d: string) => String.fromCharCode(0x09e6 + Number(d));

function randomMobile(rng: Rng): string {
  let s = `01${3 + rng.int(7)}`;
  for (let i = 0; i < 8; i++) s += rng.int(10);
  return s;
}

/** Every accepted way of writing `n`, decorated at random. */
function renderings(rng: Rng, n: string): string[] {
  const forms = [n, `+88${n}`, `0088${n}`, `88${n}`, n.slice(1)];
  return forms.map((form) => {
    const plus = form.startsWith('+') ? '+' : '';
    let out = plus;
    const digitMode = rng.int(3); // 0 ASCII, 1 Bengali, 2 mixed
    for (const ch of form.slice(plus.length)) {
      if (rng.next() < 0.25) out += rng.pick([' ', '-', '.', '\u00a0', '–', ' - ']);
      out += digitMode === 1 || (digitMode === 2 && rng.next() < 0.5) ? bengali(ch) : ch;
    }
    if (rng.next() < 0.2) out = out.replace(/^(\+?\D*\d\D*\d\D*\d)/, '($1)');
    if (rng.next() < 0.2) out = `  ${out} `;
    return out;
  });
}

describe('normalizeNumber', () => {
  it.each([
    ['01712345678', '01712345678'],
    ['+8801712345678', '01712345678'],
    ['+880 1712-345678', '01712345678'],
    ['+88 01712 345 678', '01712345678'],
    ['008801912345678', '01912345678'],
    ['8801312345678', '01312345678'],
    ['1512345678', '01512345678'],
    ['(018) 1234-5678', '01812345678'],
    ['017.1234.5678', '01712345678'],
    ['০১৭১২৩৪৫৬৭৮', '01712345678'],
    ['+৮৮০১৬১২৩৪৫৬৭৮', '01612345678'],
    [' 01412345678 ', '01412345678'],
    ['01712\u00a0345678', '01712345678'],
  ])('%j → %s', (raw, want) => {
    expect(normalizeNumber(raw)).toBe(want);
  });

  it.each([
    '',
    '0171234567',
    '017123456789',
    '01212345678',
    '01012345678',
    '8.8017E+12',
    '8.80171234568e+12',
    '1.712345678E9',
    '+88017123456789',
    '88017123456789',
    '+8811712345678',
    '017123456a8',
    '0171234567O',
    '01712+345678',
    '+1 555 123 4567',
    '02-9123456',
    '1712345678.0',
    '01712345678/9',
  ])('refuses %j', (raw) => {
    expect(normalizeNumber(raw)).toBeNull();
  });

  it('property: every accepted rendering of 2000 random numbers normalizes to the same 11 digits', () => {
    const rng = prng(0xb00b5);
    for (let i = 0; i < 2000; i++) {
      const n = randomMobile(rng);
      for (const raw of renderings(rng, n)) {
        const got = normalizeNumber(raw);
        if (got !== n) expect.fail(`${JSON.stringify(raw)} gave ${got}, want ${n}`);
      }
    }
  });

  it('property: wrong prefixes, wrong lengths, letters and scientific notation are never accepted', () => {
    const rng = prng(42);
    for (let i = 0; i < 2000; i++) {
      const n = randomMobile(rng);
      const pos = 1 + rng.int(10);
      const bad = [
        `01${rng.int(3)}${n.slice(3)}`, // 010, 011, 012
        n.slice(0, pos) + n.slice(pos + 1), // a digit lost (not the leading 0)
        n.slice(0, pos) + rng.int(10) + n.slice(pos), // a digit too many
        n.slice(0, pos) + rng.pick(['a', 'O', 'l', 'x', '#', '/', '+', '*']) + n.slice(pos),
        Number(n).toExponential(rng.int(10)).toUpperCase(),
        `+880${n}`, // trunk 0 after the country code
      ];
      for (const form of bad) {
        for (const raw of renderings(rng, form).slice(0, 1)) {
          const got = normalizeNumber(raw);
          if (got !== null) expect.fail(`${JSON.stringify(raw)} (from ${form}) was accepted as ${got}`);
        }
      }
    }
  });

  it('property: on random strings the result is null or a mobile number made of the input digits', () => {
    const rng = prng(7);
    const alphabet = [...'0123456789০১৭৮+-. ()eEx', '01', '017', '+880', '88'];
    for (let i = 0; i < 20000; i++) {
      let raw = '';
      const len = rng.int(12);
      for (let j = 0; j < len; j++) raw += rng.pick(alphabet);
      const got = normalizeNumber(raw);
      if (got === null) continue;
      expect(got).toMatch(MOBILE);
      expect(toAsciiDigits(raw).replace(/\D/g, '').endsWith(got.slice(1))).toBe(true);
    }
  });
});

describe('normalizeAmount', () => {
  it.each([
    ['100', 100],
    [' 250 ', 250],
    ['১০০', 100],
    ['৳500', 500],
    ['৳ 500', 500],
    ['500৳', 500],
    ['Tk 50', 50],
    ['tk50', 50],
    ['TK. 500/-', 500],
    ['500/-', 500],
    ['750 BDT', 750],
    ['bdt 750', 750],
    ['৫০০ টাকা', 500],
    ['1,000', 1000],
    ['12,345,678', 12345678],
    ['1,00,000', 100000],
    ['1,000.00', 1000],
    ['100.00', 100],
    ['100.0', 100],
    ['0100', 100],
  ])('%j → %d', (raw, want) => {
    expect(normalizeAmount(raw)).toBe(want);
  });

  it.each([
    '',
    '0',
    '0.00',
    '-50',
    '- 50',
    '100.5',
    '100.05',
    '1e3',
    'fifty',
    '100,5',
    '1,0000',
    '10,00',
    ',100',
    '100.',
    '.5',
    '+100',
    '1 000',
    'Tk',
    '50 USD',
    '99999999999999999999',
  ])('refuses %j', (raw) => {
    expect(normalizeAmount(raw)).toBeNull();
  });

  it('explains refusals in words', () => {
    expect(explainAmount('')).toBe('amount is empty');
    expect(explainAmount('100.5')).toContain('not a whole number');
    expect(explainAmount('-5')).toContain('negative');
    expect(explainAmount('0')).toContain('zero');
    expect(explainAmount('100,5')).toContain('decimal comma');
    expect(explainNumber('')).toBe('mobile number is empty');
    expect(explainNumber('8.8017E+12')).toContain('scientific notation');
    expect(explainNumber('01212345678')).toContain('prefix');
  });
});

describe('operators', () => {
  const index = indexOperators(OPERATORS);

  it.each([
    ['1', 'Grameenphone'],
    ['gp', 'Grameenphone'],
    [' GRAMEENPHONE ', 'Grameenphone'],
    ['Grameen Phone', 'Grameenphone'],
    ['robi', 'Robi'],
    ['5', 'Airtel'],
    ['tt', 'Teletalk'],
  ])('a cell %j names %s', (cell, name) => {
    expect(lookupOperator(index, cell)?.name).toBe(name);
  });

  it('does not know other names', () => {
    expect(lookupOperator(index, 'Banglaphone')).toBeUndefined();
    expect(lookupOperator(index, '9')).toBeUndefined();
  });

  it('infers from the prefix, 016 going to Robi when the list has no Airtel', () => {
    const names = (ops: Operator[]) =>
      Object.fromEntries([...indexOperators(ops).byPrefix].map(([prefix, op]) => [prefix, op.name]));
    expect(names(OPERATORS)).toEqual({
      '013': 'Grameenphone',
      '017': 'Grameenphone',
      '014': 'Banglalink',
      '019': 'Banglalink',
      '015': 'Teletalk',
      '016': 'Airtel',
      '018': 'Robi',
    });
    expect(names(OPERATORS.filter((op) => op.code !== 'AT'))['016']).toBe('Robi');
  });

  it('matches the list by code when the names differ', () => {
    const ops = OPERATORS.map((op) => ({ ...op, name: `${op.name} Ltd.` }));
    ops[0] = { ...ops[0]!, name: 'GrameenPhone Ltd', code: 'GP' };
    expect(indexOperators(ops).byPrefix.get('017')?.id).toBe(1);
  });

  it('treats a name shared by two operators as ambiguous', () => {
    const ops = [...OPERATORS, { id: 9, name: 'Robi', code: 'R2', min_amount: 1, max_amount: 5 }];
    expect(lookupOperator(indexOperators(ops), 'robi')).toBeNull();
  });

  it('warns on an operator that is not the prefix’s, except Robi for Airtel numbers', () => {
    const robi = OPERATORS[1]!;
    expect(prefixMismatch(index, robi, '01712345678')).toContain('017 numbers are Grameenphone');
    expect(prefixMismatch(index, robi, '01612345678')).toBeUndefined();
    expect(prefixMismatch(index, robi, '01812345678')).toBeUndefined();
  });
});
