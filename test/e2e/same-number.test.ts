/**
 * A payroll CSV with one employee's number on two rows with different amounts (a copy-paste
 * slip, or a real second payment): `validate` and `run` say so in their summaries and in the
 * CSVs they write, and `run` pays both rows, once each (SPEC §3, §5a). Money is judged by the
 * sandbox's ledger.
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiEnv, fastArgs, readCsv, runCli, sandboxPerTest, tempDir } from './helpers.js';

const sandbox = sandboxPerTest();

/** Rows 1–8 pay eight people; rows 10–17 pay the same eight numbers other amounts; row 9 is alone. */
function slipFile(dir: string): { path: string; people: { number: string; first: number; again: number }[] } {
  const people = Array.from({ length: 8 }, (_, i) => ({
    number: `0171${String(2_345_670 + i)}`,
    first: 500,
    again: 300 + i * 10,
  }));
  const lines = [
    'Employee ID,Name,Mobile Number,Amount (BDT)',
    ...people.map((p, i) => `E${i + 1},Employee ${i + 1},${p.number},${p.first}`),
    'E9,Alone,01812345678,200',
    ...people.map((p, i) => `E${i + 1},Employee ${i + 1} (again),${p.number},${p.again}`),
  ];
  const path = join(dir, 'payroll.csv');
  writeFileSync(path, lines.join('\n') + '\n');
  return { path, people };
}

const firstWarning =
  'warning: 01712345670 is also on row 1 (line 2) for 500 BDT; this row pays 300 BDT — check it is meant';

describe('the same number twice in one file with different amounts', () => {
  it('validate: the rows stay valid (exit 0); the summary, --json and the report say which', async () => {
    const s = await sandbox();
    const dir = tempDir();
    const { path } = slipFile(dir);
    const out = join(dir, 'report.csv');
    const human = await runCli(['validate', path, '--out', out], apiEnv(s.url));
    expect(human.code, human.stderr).toBe(0);
    const lines = human.stdout.split('\n');
    expect(lines[0]).toBe(`${path}: 17 rows, 17 valid, 0 invalid`);
    expect(lines).toContain('8 warnings (a warning alone does not make a row invalid):');
    expect(lines).toContain(`  row 10, line 11: ${firstWarning.slice('warning: '.length)}`);
    // five shown, then where the rest are: never a line per row for a big file
    expect(lines.filter((l) => /^ {2}row \d+, line \d+: /.test(l))).toHaveLength(5);
    expect(lines).toContain(`  … and 3 more — see error_message in ${out}`);
    const report = readCsv(out);
    expect(report.map((r) => r.status)).toEqual(Array(17).fill('valid'));
    expect(report.slice(0, 9).map((r) => r.error_message)).toEqual(Array(9).fill(''));
    expect(report[9]!.error_message).toBe(firstWarning);
    expect(report[16]!.error_message).toMatch(
      /^warning: 01712345677 is also on row 8 \(line 9\) for 500 BDT/,
    );

    const json = await runCli(['validate', path, '--json'], apiEnv(s.url));
    const o = JSON.parse(json.stdout) as {
      counts: { warnings: number };
      same_number: { rows: number; first: { row: number; line: number; also: { row: number } }[] };
    };
    expect(o.counts.warnings).toBe(8);
    expect(o.same_number.rows).toBe(8);
    expect(o.same_number.first[0]).toEqual({
      row: 10,
      line: 11,
      number: '01712345670',
      amount: 300,
      also: { row: 1, line: 2, amount: 500, invalid: false },
    });
    expect(s.ledger()).toHaveLength(0); // validate sends nothing
  });

  it('run: both rows of each number are paid, once each; the summary and the results say so', async () => {
    const s = await sandbox();
    const dir = tempDir();
    const { path, people } = slipFile(dir);
    const args = fastArgs(join(dir, 'state')).filter((a) => a !== '--quiet');
    const r = await runCli(['run', path, ...args], apiEnv(s.url));
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    const results = join(dir, 'payroll.results.csv');
    const at = lines.indexOf(
      '  warning: 8 rows repeat the number of an earlier row with another amount; each is paid — check they are meant:',
    );
    expect(at, r.stdout).toBeGreaterThan(0);
    expect(lines.slice(at + 1, at + 7)).toEqual([
      '    row 10 (line 11): 01712345670 for 300 BDT; also on row 1 (line 2) for 500 BDT',
      '    row 11 (line 12): 01712345671 for 310 BDT; also on row 2 (line 3) for 500 BDT',
      '    row 12 (line 13): 01712345672 for 320 BDT; also on row 3 (line 4) for 500 BDT',
      '    row 13 (line 14): 01712345673 for 330 BDT; also on row 4 (line 5) for 500 BDT',
      '    row 14 (line 15): 01712345674 for 340 BDT; also on row 5 (line 6) for 500 BDT',
      `    … and 3 more — see error_message in ${results}`,
    ]);

    const rows = readCsv(results);
    expect(rows.map((x) => x.status)).toEqual(Array(17).fill('completed'));
    expect(rows[9]!.error_message).toBe(firstWarning);
    expect(rows.filter((x) => x.error_message.startsWith('warning: '))).toHaveLength(8);

    // the ledger, not the tool's report: every row paid, each exactly once
    const paid = new Map<string, number>();
    for (const e of s.ledger()) {
      expect(e.status).toBe('completed');
      paid.set(`${e.mobile_number}:${e.amount}`, (paid.get(`${e.mobile_number}:${e.amount}`) ?? 0) + 1);
    }
    const want = new Map<string, number>([['01812345678:200', 1]]);
    for (const p of people) {
      want.set(`${p.number}:${p.first}`, 1);
      want.set(`${p.number}:${p.again}`, 1);
    }
    expect(paid).toEqual(want);
  });

  it('run --json gives the rows under same_number; `report` later keeps the row warning in the results', async () => {
    const s = await sandbox();
    const dir = tempDir();
    const file = join(dir, 'two.csv');
    writeFileSync(file, 'Name,Mobile,Amount\nRahim,01712345678,500\nRahim,01712345678,300\n');
    const state = join(dir, 'state');
    const r = await runCli(['run', file, '--json', ...fastArgs(state)], apiEnv(s.url));
    expect(r.code, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout) as { job: string; same_number: unknown };
    expect(o.same_number).toEqual({
      rows: 1,
      first: [
        {
          row: 2,
          line: 3,
          number: '01712345678',
          amount: 300,
          also: { row: 1, line: 2, amount: 500, invalid: false },
        },
      ],
    });
    // sent side by side: the ledger's order is the network's
    expect(
      s
        .ledger()
        .map((e) => `${e.mobile_number}:${e.amount}:${e.status}`)
        .sort(),
    ).toEqual(['01712345678:300:completed', '01712345678:500:completed']);
    // a resume does not read the file again: nothing to say about it, rather than a stale count
    const resumed = await runCli(['resume', o.job, '--json', ...fastArgs(state)], apiEnv(s.url));
    expect((JSON.parse(resumed.stdout) as { same_number: unknown }).same_number).toBeNull();
    // the job exists now: report rewrites the results with the warning still on row 2
    const report = await runCli(['report', o.job, '--state-dir', state], apiEnv(s.url));
    expect(report.code, report.stderr).toBe(0);
    expect(readCsv(join(dir, 'two.results.csv'))[1]!.error_message).toBe(
      'warning: 01712345678 is also on row 1 (line 2) for 500 BDT; this row pays 300 BDT — check it is meant',
    );
  });
});
