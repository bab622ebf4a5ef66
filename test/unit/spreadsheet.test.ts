/**
 * SPEC §3a, case by case: where the header is, line endings, the clean-up of invisible
 * characters in header and --map names, amount headers with a unit, our own results file
 * refused, non-regular files refused before they are opened, and a read that stops when asked.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANY_LINE_ENDING, CHUNK, recordDelimiters } from '../../src/csv/encoding.js';
import { openCsv } from '../../src/csv/read.js';
import { BatchError } from '../../src/errors.js';
import { failedHeader, unknownHeader, resultHeader } from '../../src/report/columns.js';
import { mapColumns } from '../../src/validate/header.js';
import {
  createValidator,
  normalizeAmount,
  parseMapOption,
  type RowVerdict,
} from '../../src/validate/index.js';
import { cleanText, cleanValueCell, showText } from '../../src/validate/unicode.js';
import { OPERATORS } from '../support/operators.js';
import { batchError, verdicts } from '../support/validate.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sheet-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

const failure = batchError;

const summary = (vs: RowVerdict[]) =>
  vs.map((v) =>
    v.ok ? `${v.row}@${v.line} ${v.value.number} ${v.value.amount}` : `${v.row}@${v.line} ${v.code}`,
  );

describe('line endings', () => {
  it('60,000 rows: CRLF header and first row, then LF rows, then CR rows — every row read, none merged', async () => {
    const lines = ['name,mobile,amount\r\n', 'R0,01700000000,100\r\n'];
    for (let i = 1; i < 60_000; i++)
      lines.push(`R${i},017${String(i).padStart(8, '0')},100${i < 30_000 ? '\n' : '\r'}`);
    const path = await file('mixed-60k.csv', lines.join(''));
    const vs = await verdicts(path);
    expect(vs).toHaveLength(60_000);
    expect(vs.every((v) => v.ok)).toBe(true);
    expect(vs[59_999]).toMatchObject({ row: 60_000, line: 60_001 });
  });
});

describe('which line endings csv-parse is told about', () => {
  const line = 'A,01711111111,100';
  it.each([
    ['LF only', `h\n${line}\n${line}`, ['\n']],
    ['CRLF only', `h\r\n${line}\r\n`, ['\r\n']],
    ['CRLF with an LF inside a quoted cell (Excel Alt+Enter)', `h\r\n"a\nb",1,2\r\n`, ANY_LINE_ENDING],
    ['LF then CRLF', `h\n${line}\r\n`, ANY_LINE_ENDING],
    ['CRLF then LF', `h\r\n${line}\n`, ANY_LINE_ENDING],
    ['CR only', `h\r${line}\r`, ANY_LINE_ENDING],
    ['CRLF ending in a lone CR', `h\r\n${line}\r`, ANY_LINE_ENDING],
  ])('%s', async (_what, content, want) => {
    expect(await recordDelimiters(await file('endings.csv', content), 'utf-8')).toEqual(want);
  });

  it('a CRLF split between two chunks still counts as CRLF; LF lines far into a CRLF file are found', async () => {
    const head = 'h'.repeat(CHUNK - 1);
    expect(await recordDelimiters(await file('split.csv', `${head}\r\n${line}\r\n`), 'utf-8')).toEqual([
      '\r\n',
    ]);
    expect(await recordDelimiters(await file('split-lone.csv', `${head}\r${line}\r\n`), 'utf-8')).toEqual(
      ANY_LINE_ENDING,
    );
    const crlf = `${line}\r\n`.repeat(10_000);
    expect(
      await recordDelimiters(await file('late-lf.csv', `h\r\n${crlf}${line}\n${line}\r\n`), 'utf-8'),
    ).toEqual(ANY_LINE_ENDING);
    expect(
      await recordDelimiters(
        await file('late-cr.csv', `h\n${`${line}\n`.repeat(10_000)}${line}\r\n`),
        'utf-8',
      ),
    ).toEqual(ANY_LINE_ENDING);
  });
});

describe('where the header is', () => {
  it('a sep=; line sets the delimiter and is skipped; rows count from the header, lines from the file', async () => {
    const path = await file('sep.csv', 'sep=;\r\nName;Mobile;Amount\r\nA;01711111111;100\r\n');
    const src = await openCsv(path);
    expect(src).toMatchObject({ delimiter: ';', headerLine: 2, columns: ['Name', 'Mobile', 'Amount'] });
    expect(summary(await verdicts(path))).toEqual(['1@3 01711111111 100']);
  });

  it('sep=\\t (a real tab), with the BOM before it', async () => {
    const path = await file('sep-tab.csv', '\uFEFFsep=\t\nName\tMobile\tAmount\nA, Jr\t01711111111\t100\n');
    expect(summary(await verdicts(path))).toEqual(['1@3 01711111111 100']);
  });

  it('a sep= line naming another delimiter is refused with one line (exit 2)', async () => {
    const path = await file('sep-pipe.csv', 'sep=|\nName|Mobile|Amount\nA|01711111111|100\n');
    const err = await failure(openCsv(path));
    expect(err.code).toBe('CSV_PARSE');
    expect(err.message).toContain('line 1');
  });

  it('title and blank lines above the header are skipped (up to 10); rows numbered from the header', async () => {
    const path = await file(
      'titles.csv',
      'Payroll June\n\nDept: Sales, Ops\n,,\nName,Mobile,Amount\nA,01711111111,100\nB,01811111111,200\n',
    );
    expect((await openCsv(path)).headerLine).toBe(5);
    expect(summary(await verdicts(path))).toEqual(['1@6 01711111111 100', '2@7 01811111111 200']);
  });

  it('a header cell with a line break in it (Alt+Enter in Excel), below a title line', async () => {
    const path = await file(
      'ml-header.csv',
      'Payroll\r\nName,"Mobile\r\nNumber","Amount\n(BDT)"\r\nA,01711111111,100\r\n',
    );
    const src = await openCsv(path);
    expect(src).toMatchObject({ headerLine: 2, columns: ['Name', 'Mobile\r\nNumber', 'Amount\n(BDT)'] });
    expect(summary(await verdicts(path))).toEqual(['1@5 01711111111 100']);
  });

  it('a ; header is read with ; even when a title line above it holds commas', async () => {
    const path = await file(
      'semi-title.csv',
      'Payroll, June, Sales\nName;Mobile;Amount\nA, Jr;01711111111;100\n',
    );
    expect(summary(await verdicts(path))).toEqual(['1@3 01711111111 100']);
  });

  it('a header below the first 10 lines is not looked for: the missing-column error names the first line', async () => {
    const path = await file('deep.csv', `${'title\n'.repeat(10)}Name,Mobile,Amount\nA,01711111111,100\n`);
    expect((await failure(createValidator(path, { operators: OPERATORS }))).code).toBe(
      'HEADER_MISSING_COLUMN',
    );
  });

  it('below a title line, a header with two number columns is still the header: the error is the ambiguity, not a missing column', async () => {
    const path = await file(
      'titles-ambiguous.csv',
      'June payroll\nName,Phone,Mobile,Amount\nA,01711111111,01811111111,100\n',
    );
    const err = await failure(createValidator(path, { operators: OPERATORS }));
    expect(err.code).toBe('HEADER_AMBIGUOUS');
    expect(err.message).toContain('"Phone" and "Mobile"');
  });

  it('a header that only --map names is found below a title line', async () => {
    const path = await file('titles-map.csv', 'June\nWho,Cell,Pay\nA,01711111111,100\n');
    const vs = await verdicts(path, { map: parseMapOption(['number=Cell', 'amount=Pay']) });
    expect(summary(vs)).toEqual(['1@3 01711111111 100']);
  });

  it('a quote opened in a title line that swallows the header: refused (exit 2), the message shows the swallowed lines', async () => {
    const path = await file(
      'title-quote.csv',
      '"Payroll June\nName,Mobile,Amount\nA",01711111111,100\nB,01811111111,200\n',
    );
    const err = await failure(createValidator(path, { operators: OPERATORS }));
    expect(err.code).toBe('HEADER_MISSING_COLUMN');
    expect(err.message).toContain('Payroll June\\nName,Mobile,Amount\\nA');
  });
});

describe('stray quotes and multi-line cells', () => {
  it('a quote that swallows rows: MALFORMED_ROW naming the lines it opens and closes on; the rows after it are still read', async () => {
    const path = await file(
      'stray.csv',
      'name,mobile,amount\n"Babu,01712345678,100\r\nBeli,01812345678,200\rChandan",01912345678,300\nDipa,01612345678,400\n',
    );
    const vs = await verdicts(path);
    expect(summary(vs)).toEqual(['1@2 MALFORMED_ROW', '2@5 01612345678 400']);
    expect(!vs[0]!.ok && vs[0]!.message).toMatch(/opens on line 2 and closes only on line 4/);
  });

  it('a quoted name over two lines with a comma but no number stays a valid long cell', async () => {
    const path = await file('address.csv', 'name,mobile,amount\n"Rahman, Md.\nAbdur",01712345678,100\n');
    const vs = await verdicts(path);
    expect(summary(vs)).toEqual(['1@2 01712345678 100']);
  });

  it.each([
    ['reference', 'name,mobile,amount,ref\nA,01712345678,100,"R1\nR2"\n'],
    ['operator', 'name,mobile,amount,operator\nA,01712345678,100,"GP\n"\n'],
  ])('a line break in the %s cell is MALFORMED_ROW', async (role, content) => {
    const vs = await verdicts(await file(`ml-${role}.csv`, content));
    expect(vs.map((v) => !v.ok && v.code)).toEqual(['MALFORMED_ROW']);
    expect(!vs[0]!.ok && vs[0]!.message).toContain(`${role} cell`);
  });
});

describe('invisible characters in header and --map names', () => {
  it('a --map name typed as it looks matches a header holding a no-break space, a ZWSP and decomposed Bengali', async () => {
    const decomposed = 'মোবাইল'.normalize('NFD');
    const path = await file('bn.csv', `নাম,${decomposed}\u00a0\u200bনং,Amount\nক,01711111111,100\n`);
    const vs = await verdicts(path, { map: parseMapOption(['number=মোবাইল নং'.normalize('NFC')]) });
    expect(summary(vs)).toEqual(['1@2 01711111111 100']);
  });

  it('header names with invisible characters match the aliases', () => {
    expect(mapColumns('x.csv', ['\u200bMobile\u00a0Number', 'Amo\u00adunt'])).toMatchObject({
      number: 0,
      amount: 1,
    });
  });

  it('an error listing the header shows invisible characters escaped', () => {
    const err = (() => {
      try {
        mapColumns('x.csv', ['Name\u200b', 'Phone']);
      } catch (e) {
        return e as BatchError;
      }
    })();
    expect(err?.message).toContain('"Name\\u200b"');
  });

  it('cleanText and showText', () => {
    expect(cleanText('0171\u200b2\u00ad34\u2060\u202a567\u202c8')).toBe('01712345678');
    expect(cleanText('1\u00a0000')).toBe('1 000');
    expect(cleanText('\uff10\uff11')).toBe('01');
    expect(showText('017\u200b12\u00a0x\n')).toBe('017\\u200b12\\u00a0x\\n');
    expect(showText('plain text')).toBe('plain text');
  });
});

describe('amount header with its unit in parentheses', () => {
  it.each(['Allowance (Tk)', 'Amount (BDT)', 'Salary (৳)', 'Bonus [BDT]', 'Pay (Tk.)', 'ভাতা (টাকা)'])(
    '%s is the amount column',
    (name) => {
      expect(mapColumns('x.csv', ['Name', 'Mobile', name])).toMatchObject({ number: 1, amount: 2 });
    },
  );

  it('an Amount column wins over a unit-only one, which is carried through', () => {
    expect(mapColumns('x.csv', ['Basic (Tk)', 'Mobile', 'Amount'])).toMatchObject({ amount: 2 });
  });

  it('two unit-only columns and no Amount: ambiguous, asks for --map', () => {
    let err: BatchError | undefined;
    try {
      mapColumns('x.csv', ['Basic (Tk)', 'Mobile', 'Allowance (Tk)']);
    } catch (e) {
      err = e as BatchError;
    }
    expect(err?.code).toBe('HEADER_AMBIGUOUS');
    expect(err?.message).toContain('--map amount=');
  });
});

describe('our own results file as input', () => {
  it('the results and validate --out header is refused (FILE_IS_OUTPUT), pointing to the failed CSV', async () => {
    const path = await file(
      'x.results.csv',
      `${resultHeader(['Name', 'Mobile', 'Amount']).join(',')}\nA,01711111111,100,1,completed,01711111111,GP,100,r1,TX1,,,,\n`,
    );
    const err = await failure(createValidator(path, { operators: OPERATORS }));
    expect(err.code).toBe('FILE_IS_OUTPUT');
    expect(err.message).toContain('.failed.csv');
    expect(err.message).toContain('is a results CSV');
  });

  it('the unknown CSV is refused by its own name: its rows may have been paid, check them first', async () => {
    const path = await file(
      'x.unknown.csv',
      `${unknownHeader(['Name', 'Mobile', 'Amount']).join(',')}\nA,01711111111,100,1,01711111111,100,r1,TX1,NO_ANSWER,no answer,2026-01-01T00:00:00Z\n`,
    );
    const err = await failure(createValidator(path, { operators: OPERATORS }));
    expect(err.code).toBe('FILE_IS_OUTPUT');
    expect(err.message).toContain('is an unknown CSV');
    expect(err.message).toContain('may have been paid');
    expect(err.message).not.toContain('results');
  });

  it('the failed CSV, made to be fed back, is accepted; so is an input with its own status column', async () => {
    const failed = await file(
      'x.failed.csv',
      `${failedHeader(['Name', 'Mobile', 'Amount', 'status']).join(',')}\nA,01711111111,100,paid,INVALID_NUMBER,was wrong\n`,
    );
    expect(summary(await verdicts(failed))).toEqual(['1@2 01711111111 100']);
  });
});

describe('ambiguous amounts', () => {
  it.each([
    ['50.000', null],
    ['1.000.000', null],
    ['1,000.000', null],
    ['৳ 50.000', null],
    ['100.00', 100],
    ['100.0', 100],
    ['100.0000', 100],
    ['1,000.00', 1000],
  ])('%s → %s', (raw, want) => {
    expect(normalizeAmount(raw)).toBe(want);
  });
});

describe('not a regular file (refused before it is opened)', () => {
  it('a FIFO: FILE_UNREADABLE at once (opening it would block for ever with no writer)', async () => {
    const fifo = join(dir, 'pipe.csv');
    execFileSync('mkfifo', [fifo]);
    const err = await failure(openCsv(fifo));
    expect(err.code).toBe('FILE_UNREADABLE');
    expect(err.message).toContain('named pipe');
  });

  it('a symlink to /dev/zero, and /dev/null itself: FILE_UNREADABLE', async () => {
    const link = join(dir, 'zero.csv');
    await symlink('/dev/zero', link);
    expect((await failure(openCsv(link))).message).toContain('a device');
    expect((await failure(openCsv('/dev/null'))).code).toBe('FILE_UNREADABLE');
  });
});

describe('a read stops when asked', () => {
  it('aborting the signal mid-file ends the pass with its reason, long before the last row', async () => {
    const lines = ['name,mobile,amount'];
    for (let i = 0; i < 50_000; i++) lines.push(`R${i},017${String(i).padStart(8, '0')},100`);
    const path = await file('long.csv', lines.join('\n'));
    const ac = new AbortController();
    const v = await createValidator(path, { operators: OPERATORS, signal: ac.signal });
    let seen = 0;
    const err = await (async () => {
      for await (const verdict of v.rows()) {
        void verdict;
        if (++seen === 10) ac.abort(new BatchError('INTERRUPTED', 'interrupted by SIGINT'));
      }
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as BatchError).code).toBe('INTERRUPTED');
    expect(seen).toBeLessThan(50_000);
  });
});

describe('text markers written back by the tool', () => {
  it('reads a \' guarded ="…" cell (how the failed CSV keeps an input cell ="01711000002") as the number inside', () => {
    expect(cleanValueCell(`'="01711000002"`)).toBe('01711000002');
    expect(cleanValueCell(`="01711000002"`)).toBe('01711000002');
    expect(cleanValueCell(`'01711000002`)).toBe('01711000002');
    expect(cleanValueCell('01711000002')).toBe('01711000002');
  });
});
