import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectDelimiter, openCsv, type CsvRecord } from '../../src/csv/read.js';
import { BatchError } from '../../src/errors.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'csv-read-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function all(path: string): Promise<CsvRecord[]> {
  const src = await openCsv(path);
  const out: CsvRecord[] = [];
  for await (const rec of src.records()) out.push(rec);
  return out;
}

async function failure(promise: Promise<unknown>): Promise<BatchError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BatchError);
  return err as BatchError;
}

describe('openCsv on the fixtures', () => {
  it('reads payroll.csv: header, comma, 120 rows with lines', async () => {
    const src = await openCsv('fixtures/payroll.csv');
    expect(src.columns).toEqual(['Employee ID', 'Name', 'Department', 'Mobile Number', 'Amount (BDT)']);
    expect(src.delimiter).toBe(',');
    const recs = await all('fixtures/payroll.csv');
    expect(recs).toHaveLength(120);
    expect(recs[0]).toMatchObject({ row: 1, line: 2 });
    expect(recs[119]).toMatchObject({ row: 120, line: 121 });
  });

  it('detects ; in promotion.csv', async () => {
    const src = await openCsv('fixtures/promotion.csv');
    expect(src.delimiter).toBe(';');
    expect(src.columns[1]).toBe('MSISDN');
  });

  it('strips the BOM from quirks.csv and counts lines across CRLF, quoted line breaks and empty lines', async () => {
    const src = await openCsv('fixtures/quirks.csv');
    expect(src.columns[0]).toBe('Name');
    const recs = await all('fixtures/quirks.csv');
    const quoted = recs.find((r) => r.fields[0]!.startsWith('Rahman'))!;
    expect(quoted.fields[0]).toBe('Rahman, Md.\r\nAbdur');
    const next = recs[recs.indexOf(quoted) + 1]!;
    expect(next.line).toBe(quoted.line + 2);
    expect(next.row).toBe(quoted.row + 1);
  });

  it('hands out the same records in batches', async () => {
    const src = await openCsv('fixtures/quirks.csv');
    const flat: CsvRecord[] = [];
    for await (const batch of src.batches()) flat.push(...batch);
    expect(flat).toEqual(await all('fixtures/quirks.csv'));
  });

  it('may be read more than once', async () => {
    const src = await openCsv('fixtures/payroll.csv');
    let a = 0;
    let b = 0;
    for await (const _ of src.records()) a++;
    for await (const _ of src.records()) b++;
    expect([a, b]).toEqual([120, 120]);
  });
});

describe('openCsv records and lines', () => {
  it('skips empty lines and lines of only delimiters, without counting them as rows', async () => {
    const path = await file(
      'blank.csv',
      '\n\nnumber,amount\n\n01711111111,100\n,\n  ,  \n01811111111,200\n\n',
    );
    const recs = await all(path);
    expect(recs.map((r) => [r.row, r.line, r.fields])).toEqual([
      [1, 5, ['01711111111', '100']],
      [2, 8, ['01811111111', '200']],
    ]);
  });

  it('yields records whose field count differs from the header, as parsed', async () => {
    const path = await file('short.csv', 'a,b,c\n1,2\n1,2,3,4\n"x,y",2,3\n');
    const recs = await all(path);
    expect(recs.map((r) => r.fields)).toEqual([
      ['1', '2'],
      ['1', '2', '3', '4'],
      ['x,y', '2', '3'],
    ]);
  });

  it('tolerates stray quotes inside unquoted fields', async () => {
    const path = await file('quotes.csv', 'name,number\nAbdul "Babu" Karim,01711111111\n');
    expect((await all(path))[0]!.fields).toEqual(['Abdul "Babu" Karim', '01711111111']);
  });

  it('handles tab-delimited files, LF, CR-only line ends and a last line without a newline', async () => {
    expect((await openCsv(await file('tab.tsv', 'number\tamount\n01711111111\t100'))).delimiter).toBe('\t');
    const recs = await all(await file('cr.csv', 'number,amount\r01711111111,100\r01811111111,200'));
    expect(recs.map((r) => r.line)).toEqual([2, 3]);
  });

  it('reads a UTF-8 character split across read chunks', async () => {
    const name = 'রহিম'.repeat(20);
    const body = Array.from({ length: 3000 }, (_, i) => `${name},0171${String(i).padStart(7, '0')}`).join(
      '\n',
    );
    const recs = await all(await file('big.csv', `name,number\n${body}\n`));
    expect(recs).toHaveLength(3000);
    expect(recs.every((r) => r.fields[0] === name)).toBe(true);
    expect(recs[2999]!.line).toBe(3001);
  });

  it('decodes UTF-16LE and UTF-16BE with a BOM', async () => {
    const text = 'Name\tMobile\tAmount\r\nরহিম\t01711111111\t১০০\r\n';
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const be = Buffer.from(le).swap16();
    for (const [name, bytes] of [
      ['le.csv', le],
      ['be.csv', be],
    ] as const) {
      const path = await file(name, bytes);
      const src = await openCsv(path);
      expect(src.columns).toEqual(['Name', 'Mobile', 'Amount']);
      expect((await all(path))[0]!.fields).toEqual(['রহিম', '01711111111', '১০০']);
    }
  });
});

describe('detectDelimiter', () => {
  it.each([
    ['a,b,c', ','],
    ['a;b;c', ';'],
    ['a\tb\tc', '\t'],
    ['"a;b",c', ','],
    ['\n\n a;b;c\nx,y,z,w', ';'],
    ['single', ','],
  ])('%j → %j', (text, want) => {
    expect(detectDelimiter(text)).toBe(want);
  });
});

describe('openCsv whole-file errors', () => {
  const zipHead = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 6, 0, 8, 0]);
  const cases: [string, () => Promise<string>, string][] = [
    ['a missing file', async () => join(dir, 'nope.csv'), 'FILE_NOT_FOUND'],
    [
      'a directory',
      async () => (await mkdir(join(dir, 'adir'), { recursive: true }), join(dir, 'adir')),
      'FILE_UNREADABLE',
    ],
    ['an empty file', () => file('empty.csv', ''), 'FILE_EMPTY'],
    ['only a BOM and blank lines', () => file('bom.csv', '\uFEFF\r\n\r\n'), 'FILE_EMPTY'],
    ['a header only', () => file('header.csv', 'number,amount\r\n'), 'FILE_NO_DATA'],
    ['a header and lines of delimiters', () => file('header2.csv', 'number,amount\n,\n\n'), 'FILE_NO_DATA'],
    [
      'PNG bytes',
      () => file('img.csv', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0])),
      'FILE_BINARY',
    ],
    [
      'a renamed .xlsx',
      () => file('book.csv', Buffer.concat([zipHead, Buffer.from('[Content_Types].xml')])),
      'FILE_BINARY',
    ],
    ['a PDF', () => file('doc.csv', '%PDF-1.7\n'), 'FILE_BINARY'],
    ['NUL bytes', () => file('nul.csv', Buffer.from('number,amount\n0171\u0000,1\n')), 'FILE_BINARY'],
    [
      'UTF-16 without BOM',
      () => file('u16.csv', Buffer.from('number,amount\n01711111111,100\n', 'utf16le')),
      'FILE_ENCODING',
    ],
    [
      'invalid UTF-8',
      () => file('latin1.csv', Buffer.from('name,number,amount\nJos\xe9,01711111111,100\n', 'latin1')),
      'FILE_ENCODING',
    ],
  ];
  it.each(cases)('%s', async (_what, make, code) => {
    const err = await failure(openCsv(await make()));
    expect(err.code).toBe(code);
    expect(err.message).not.toMatch(/\n/);
  });

  it('refuses a path it cannot open as a file (a file used as a folder)', async () => {
    // (permission bits cannot be tested here: the tests may run as root, who reads anything)
    const path = await file('plain.csv', 'number,amount\n01711111111,100\n');
    const err = await failure(openCsv(`${path}/inner.csv`));
    expect(['FILE_UNREADABLE', 'FILE_NOT_FOUND']).toContain(err.code);
    expect(err.message).not.toMatch(/\n/);
  });

  it('names the line of an unterminated quote at the end of the file', async () => {
    const path = await file(
      'open.csv',
      'name,number\nA,01711111111\n\nB,01711111112\n"C,01711111113\nD,0171\n',
    );
    const src = await openCsv(path);
    const seen: number[] = [];
    const err = await failure(
      (async () => {
        for await (const rec of src.records()) seen.push(rec.line);
      })(),
    );
    expect(err.code).toBe('CSV_PARSE');
    expect(err.message).toContain('line 5');
    expect(err.context.line).toBe(5);
  });

  it('stops a quote left open mid-file once a row passes 1,000,000 characters, naming its line', async () => {
    const rest = Array.from({ length: 60000 }, (_, i) => `n${i},0171${String(i).padStart(7, '0')}`).join(
      '\n',
    );
    const path = await file('open-mid.csv', `name,number\nA,01711111111\n"B,01711111112\n${rest}\n`);
    const src = await openCsv(path);
    const err = await failure(
      (async () => {
        for await (const _ of src.records());
      })(),
    );
    expect(err.code).toBe('CSV_PARSE');
    expect(err.context.line).toBe(3);
  });

  it('names the line of a NUL byte or invalid UTF-8 far into the file, from the iterator', async () => {
    const good = Array.from({ length: 20000 }, (_, i) => `n${i},0171${String(i).padStart(7, '0')}`).join(
      '\n',
    );
    for (const [name, bad, code] of [
      ['late-nul.csv', Buffer.from('x\u0000,1\n'), 'FILE_BINARY'],
      ['late-latin.csv', Buffer.from('Jos\xe9,1\n', 'latin1'), 'FILE_ENCODING'],
    ] as const) {
      const path = await file(name, Buffer.concat([Buffer.from(`name,number\n${good}\n`), bad]));
      const src = await openCsv(path);
      const err = await failure(
        (async () => {
          for await (const _ of src.records());
        })(),
      );
      expect(err.code).toBe(code);
      expect(err.context.line).toBe(20002);
    }
  });
});
