/**
 * Property (SPEC §3a "Every physical line is accounted for"): random files made of valid rows
 * — random line endings per line, random invisible characters and text markers in the number
 * and amount cells, random quoting (with delimiters, quotes and line breaks inside) of the
 * other cells, an optional `sep=` line and title lines — give exactly one valid verdict per
 * input row, with the right row, line, number and amount, and the other cells as written.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createValidator } from '../../src/validate/index.js';
import { OPERATORS } from '../support/operators.js';
import { prng, type Rng } from '../support/prng.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sheet-prop-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ENDINGS = ['\n', '\r\n', '\r'] as const;
const INVISIBLE = [
  '\u200b',
  '\u200c',
  '\u200d',
  '\u200e',
  '\u200f',
  '\u202a',
  '\u202b',
  '\u202c',
  '\u202d',
  '\u202e',
  '\u2060',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
  '\ufeff',
  '\u00ad',
];
/** no digits: a multi-line text cell must never read as a mobile number (that is the stray-quote rule) */
const TEXT = [
  ...'abcdefghij KLMNOP',
  'আমার',
  'রহমান',
  '"',
  ',',
  ';',
  '\t',
  '\n',
  '\r\n',
  '\r',
  'Md.',
  '=cmd',
  '@x',
  '-',
];

function sprinkle(rng: Rng, s: string): string {
  let out = s;
  for (let k = rng.int(3); k > 0; k--) {
    const at = rng.int(out.length + 1);
    out = out.slice(0, at) + rng.pick(INVISIBLE) + out.slice(at);
  }
  return out;
}

function renderNumber(rng: Rng, n: string): string {
  const forms = [
    n,
    `+88${n}`,
    `${n.slice(0, 5)}-${n.slice(5)}`,
    `${n.slice(0, 5)}\u00a0${n.slice(5)}`,
    n.slice(1),
  ];
  let s = sprinkle(rng, rng.pick(forms));
  const marker = rng.int(4);
  if (marker === 0) s = `'${s}`;
  else if (marker === 1) s = `="${s}"`;
  return s;
}

function renderAmount(rng: Rng, a: number): string {
  const forms = [String(a), `${a}.00`, `Tk\u00a0${a}`, `৳${a}`, `${a} BDT`];
  let s = sprinkle(rng, rng.pick(forms));
  if (rng.chance(0.2)) s = `'${s}`;
  return s;
}

function randomText(rng: Rng): string {
  let s = '';
  for (let k = rng.int(8); k > 0; k--) s += rng.pick(TEXT);
  return s;
}

/** CSV-quotes a cell when it must be, and at random when it need not be. */
function csvCell(rng: Rng, cell: string, delimiter: string): string {
  const must = /["\r\n]/.test(cell) || cell.includes(delimiter);
  return must || rng.chance(0.3) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

const breaks = (s: string) => (s.match(/\r\n|\n|\r/g) ?? []).length;

interface Row {
  number: string;
  amount: number;
  name: string;
  note: string;
  line: number;
}

function randomFile(rng: Rng, seed: number): { text: string; rows: Row[] } {
  const delimiter = rng.pick([',', ';', '\t']);
  const order = rng.chance(0.5) ? ['name', 'number', 'amount', 'note'] : ['number', 'note', 'amount', 'name'];
  const titles: Record<string, string> = {
    name: 'Name',
    number: sprinkle(rng, 'Mobile Number'),
    amount: rng.pick(['Amount', 'Allowance (Tk)', 'Amount (BDT)']),
    note: 'Note',
  };
  let text = '';
  const end = () => rng.pick(ENDINGS);
  if (rng.chance(0.3)) text += `sep=${delimiter}${end()}`;
  for (let k = rng.int(3); k > 0; k--) text += rng.pick(['Payroll June', '', 'Allowance list']) + end();
  text += order.map((c) => titles[c]).join(delimiter) + end();
  const rows: Row[] = [];
  const n = 1 + rng.int(25);
  for (let i = 0; i < n; i++) {
    if (rng.chance(0.1)) text += end(); // an empty line: skipped, not a row
    // numbers are unique (no DUPLICATE_ROW); amounts within every operator's range
    const number = `01${3 + rng.int(7)}${String(seed * 1000 + i).padStart(8, '0')}`;
    const row: Row = {
      number,
      amount: 10 + rng.int(491),
      name: randomText(rng),
      note: randomText(rng),
      line: 1 + breaks(text),
    };
    const cells: Record<string, string> = {
      name: csvCell(rng, row.name, delimiter),
      number: renderNumber(rng, number),
      amount: renderAmount(rng, row.amount),
      note: csvCell(rng, row.note, delimiter),
    };
    for (const c of ['number', 'amount'])
      if (cells[c]!.includes('"')) cells[c] = `"${cells[c]!.replace(/"/g, '""')}"`; // ="…" as Excel writes it
    text += order.map((c) => cells[c]).join(delimiter) + (i === n - 1 && rng.chance(0.5) ? '' : end());
    rows.push(row);
  }
  return { text, rows };
}

describe('property: real spreadsheet files', () => {
  it('300 random files: one valid verdict per input row, with its row, line, number, amount and text cells', async () => {
    const rng = prng(0x5eed9);
    for (let f = 0; f < 300; f++) {
      const { text, rows } = randomFile(rng, f);
      const path = join(dir, `f${f}.csv`);
      await writeFile(path, text);
      const v = await createValidator(path, { operators: OPERATORS });
      const got = [];
      for await (const verdict of v.rows()) got.push(verdict);
      const where = `file ${f}: ${JSON.stringify(text)}`;
      if (got.length !== rows.length) expect.fail(`${where}\n${got.length} verdicts for ${rows.length} rows`);
      const nameCol = v.source.columns.indexOf('Name');
      const noteCol = v.source.columns.indexOf('Note');
      got.forEach((verdict, i) => {
        const want = rows[i]!;
        if (!verdict.ok) expect.fail(`${where}\nrow ${i + 1}: ${verdict.code} ${verdict.message}`);
        expect(
          {
            row: verdict.row,
            line: verdict.line,
            number: verdict.value.number,
            amount: verdict.value.amount,
          },
          where,
        ).toEqual({
          row: i + 1,
          line: want.line,
          number: want.number,
          amount: want.amount,
        });
        expect([verdict.fields[nameCol], verdict.fields[noteCol]], where).toEqual([want.name, want.note]);
      });
    }
  });
});
