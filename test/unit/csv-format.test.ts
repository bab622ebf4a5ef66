/**
 * The CSV writer formats rows itself instead of through csv-stringify (issue #13: a faster
 * report writer); its output must stay csv-stringify's, byte for byte, and the batched
 * report of a large file must equal the one written row by row through csv-stringify.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvLines, csvRecord } from '../../src/csv/write.js';
import { textCell } from '../../src/report/cells.js';
import { resultHeader } from '../../src/report/columns.js';
import { createValidator, validateCsv } from '../../src/validate/index.js';
import { reportRow } from '../../src/validate/report.js';
import { OPERATORS } from '../support/operators.js';
import { prng, type Rng } from '../support/prng.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'csv-format-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Pieces a cell is made of: everything that changes quoting or guarding, and plain text. */
const PIECES = [
  'a',
  'Md.',
  ' ',
  'রহিম',
  '"',
  '""',
  ',',
  ';',
  '\n',
  '\r',
  '\r\n',
  '\t',
  '=',
  '+',
  '-',
  '@',
  "'",
  '0171',
  '\ufeff',
  '💸',
  '\u00a0',
];

function cell(rng: Rng): string {
  let text = '';
  for (let n = rng.int(5); n > 0; n--) text += rng.pick(PIECES);
  return text;
}

describe('csvLines / csvRecord', () => {
  it('write exactly what csv-stringify writes, for random cells full of quotes, commas and line breaks', () => {
    const rng = prng(13);
    for (let round = 0; round < 300; round++) {
      const rows: string[][] = [];
      for (let r = rng.int(6); r > 0; r--) {
        const width = rng.int(5); // an empty record too
        rows.push(Array.from({ length: width }, () => cell(rng)));
      }
      expect(csvLines(rows)).toBe(stringify(rows));
      for (const row of rows) expect(csvRecord(row) + '\n').toBe(stringify([row]));
    }
  });

  it.each([';', '\t'] as const)(
    'with %j between cells (the failed CSV of such an input), write exactly what csv-stringify writes',
    (delimiter) => {
      const rng = prng(29);
      for (let round = 0; round < 300; round++) {
        const rows: string[][] = [];
        for (let r = rng.int(6); r > 0; r--) rows.push(Array.from({ length: rng.int(5) }, () => cell(rng)));
        expect(csvLines(rows, delimiter)).toBe(stringify(rows, { delimiter }));
        for (const row of rows)
          expect(csvRecord(row, delimiter) + '\n').toBe(stringify([row], { delimiter }));
      }
      // a comma is only text there; the delimiter is what gets a cell quoted
      expect(csvRecord(['a,b', `x${delimiter}y`], delimiter)).toBe(`a,b${delimiter}"x${delimiter}y"`);
    },
  );

  it('quote a cell only when it needs it', () => {
    expect(csvLines([['plain', 'a,b', 'say "hi"', 'two\nlines', 'cr\r', '', ' x ']])).toBe(
      'plain,"a,b","say ""hi""","two\nlines","cr\r",, x \n',
    );
  });
});

describe('textCell', () => {
  it('guards exactly the cells whose first non-blank character is = + - @, or that start with a tab/CR', () => {
    const rng = prng(7);
    for (let i = 0; i < 2000; i++) {
      const value = cell(rng);
      expect(textCell(value)).toBe(/^(\s*[=+\-@]|[\t\r])/.test(value) ? `'${value}` : value);
    }
  });
});

describe('validate --out of a large file', () => {
  it('equals the report written row by row through csv-stringify, across many read chunks', async () => {
    const rng = prng(2026);
    const input = join(dir, 'big.csv');
    const names = [
      'Rahman, Md.',
      'রহিম উদ্দিন',
      '=HYPERLINK("x")',
      'say "hi"',
      'two\nlines',
      '@boss',
      'Plain Name',
    ];
    const lines = ['Employee ID,Name,Mobile Number,Amount (BDT),Note'];
    for (let i = 0; i < 20_000; i++) {
      const name = rng.pick(names);
      const quoted = `"${name.replace(/"/g, '""')}"`;
      const number = rng.chance(0.05) ? '+880 1712-0' : `01${7 + (i % 3)}${String(i).padStart(8, '0')}`;
      const amount = rng.pick(['100', '50', '-5', '=1+1', '0', '1000', '১০০', '100.50']);
      const extra = rng.chance(0.03)
        ? ',extra,"x,y"'
        : rng.chance(0.03)
          ? ''
          : `,${rng.pick(['', 'note', '+1'])}`;
      lines.push(`EMP-${i},${quoted},${number},${amount}${extra}`);
    }
    await writeFile(input, lines.join('\n') + '\n');
    const out = join(dir, 'report.csv');
    const summary = await validateCsv(input, { operators: OPERATORS, out });
    expect(summary.rows).toBe(20_000);
    expect(summary.invalid).toBeGreaterThan(1000); // the bad cells were written, not just valid lines

    const v = await createValidator(input, { operators: OPERATORS });
    const { columns, delimiter } = v.source;
    let expected = stringify([resultHeader(columns)], { bom: true });
    for await (const verdict of v.rows())
      expected += stringify([reportRow(verdict, columns.length, v.roles, delimiter)]);
    const written = await readFile(out, 'utf8');
    expect(written.length).toBe(expected.length);
    expect(written === expected).toBe(true); // not toBe: a failure would print two 2 MB strings
  });
});
