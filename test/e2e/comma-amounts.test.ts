/**
 * A `;` or tab sheet with comma amounts (SPEC §3, the mirror of §3a's dot rule): there `1,000`
 * may mean 1 taka, so it is refused, never paid as 1000 BDT. Through the built CLI: `validate`
 * names each ambiguous cell and what to write; `run` against the sandbox pays only the clear
 * rows, judged by the sandbox's ledger. The same cells in a `,` file keep their meaning.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OPERATORS, type Sandbox } from '../../src/sandbox/index.js';
import { apiEnv, fastArgs, readCsv, runCli, sandboxPerTest, tempDir } from './helpers.js';

/** Limits up to 50,000 BDT, so a misread 1,000 or 12,500 would be in range and paid. */
const OPERATORS = DEFAULT_OPERATORS.map((op) => ({ ...op, max_amount: 50_000 }));
const sandbox = sandboxPerTest({ operators: OPERATORS });

/** name, number, amount cell; the amount each kind of file pays (null: INVALID_AMOUNT) */
const ROWS: [string, string, string, { comma: number | null; other: number | null }][] = [
  ['Karim', '01712345601', '1,000', { comma: 1000, other: null }],
  ['Rahim', '01812345602', '100,00', { comma: null, other: 100 }],
  ['Akter', '01912345603', '100,50', { comma: null, other: null }],
  ['Nadia', '01712345604', '1.000,00', { comma: null, other: null }],
  ['Sumon', '01712345605', '12,500', { comma: 12500, other: null }],
  ['Farid', '01812345606', '250', { comma: 250, other: 250 }],
  ['Lima', '01912345607', '1 000', { comma: null, other: null }],
];

function sheet(d: string): string {
  // a `,` file can hold a comma in a cell only quoted
  const cell = (v: string) => (d === ',' && /[,]/.test(v) ? `"${v}"` : v);
  const lines = ['Name', 'Mobile', 'Amount'].join(d);
  return [lines, ...ROWS.map(([n, m, a]) => [n, m, cell(a)].join(d))].join('\r\n') + '\r\n';
}

/** Every charge the sandbox recorded, as `number amount`. */
function ledger(s: Sandbox): string[] {
  return s
    .ledger()
    .map((e) => `${e.mobile_number} ${e.amount}`)
    .sort();
}

describe.each([
  [';', ';-separated'],
  ['\t', 'tab-separated'],
])('a %j sheet with comma amounts', (d, kind) => {
  it('validate names the ambiguous cells; run pays only the clear rows, each once', async () => {
    const dir = tempDir();
    const input = join(dir, 'pay.csv');
    writeFileSync(input, sheet(d));

    const operatorsFile = join(dir, 'operators.json');
    writeFileSync(operatorsFile, JSON.stringify(OPERATORS));
    const v = await runCli(['validate', input, '--operators', operatorsFile]);
    expect(v.code, v.stderr).toBe(1);
    const out = v.stdout + v.stderr;
    expect(out).toContain(
      `row 1 INVALID_AMOUNT: line 2: amount "1,000" is ambiguous in a ${kind} file (the comma may be a decimal mark): write 1000 (for 1 taka, write 1)`,
    );
    expect(out).toContain(`line 4: amount "100,50" is not a whole number of taka`);
    expect(out).toContain(
      `line 5: amount "1.000,00" is ambiguous (it has both a dot and a comma): write 1000`,
    );
    expect(out).toContain(`line 6: amount "12,500" is ambiguous in a ${kind} file`);
    expect(out).toContain(`line 8: amount "1 000" has spaces between its digits; write 1000`);
    expect(out).not.toMatch(/\n\s+at /); // no stack trace

    const s = await sandbox();
    const r = await runCli(['run', input, ...fastArgs(join(dir, 'state')), '--json'], apiEnv(s.url));
    expect(r.code, r.stderr).toBe(1);
    const paid = ROWS.filter(([, , , want]) => want.other !== null).map(([, m, , w]) => `${m} ${w.other}`);
    expect(ledger(s)).toEqual(paid.sort());
    expect(ledger(s)).toEqual(['01812345602 100', '01812345606 250']);
    const results = readCsv(join(dir, 'pay.results.csv'));
    expect(results.map((x) => [x.Name, x.status, x.error_code])).toEqual(
      ROWS.map(([n, , , w]) => [
        n,
        w.other === null ? 'invalid' : 'completed',
        w.other === null ? 'INVALID_AMOUNT' : '',
      ]),
    );
  });
});

describe('the same cells in a `,` file', () => {
  it('keep their meaning: a quoted comma is a thousands mark, a decimal comma is refused', async () => {
    const dir = tempDir();
    const input = join(dir, 'pay.csv');
    writeFileSync(input, sheet(','));
    const s = await sandbox();
    const r = await runCli(['run', input, ...fastArgs(join(dir, 'state')), '--json'], apiEnv(s.url));
    expect(r.code, r.stderr).toBe(1);
    const paid = ROWS.filter(([, , , w]) => w.comma !== null).map(([, m, , w]) => `${m} ${w.comma}`);
    expect(ledger(s)).toEqual(paid.sort());
  });
});
