#!/usr/bin/env node
/**
 * Validation throughput and memory (issue #3): a generated 1,000,000-row payroll CSV is read
 * by (a) bare csv-parse and (b) our validateCsv from dist/ (run `npm run build` first), each in
 * a fresh child process; prints time, rows/s and peak RSS side by side, with the ratio.
 *
 *   node bench/validate.mjs [--rows 1000000] [--runs 3]
 *
 * Target: validateCsv within 2× the time of bare csv-parse, peak RSS under 250 MB.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { writeGeneratedCsv } from './lib.mjs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OPERATORS = [
  { id: 1, name: 'Grameenphone', code: 'GP', min_amount: 10, max_amount: 1000 },
  { id: 2, name: 'Robi', code: 'ROBI', min_amount: 10, max_amount: 1000 },
  { id: 3, name: 'Banglalink', code: 'BL', min_amount: 10, max_amount: 1000 },
  { id: 4, name: 'Teletalk', code: 'TT', min_amount: 10, max_amount: 500 },
  { id: 5, name: 'Airtel', code: 'AT', min_amount: 10, max_amount: 1000 },
];

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4]);
else await main();

async function main() {
  const arg = (name, def) => {
    const i = process.argv.indexOf(name);
    return i === -1 ? def : Number(process.argv[i + 1]);
  };
  const rows = arg('--rows', 1_000_000);
  const runs = arg('--runs', 3);
  const dist = join(root, 'dist/validate/index.js');
  if (!existsSync(dist)) {
    console.error(`bench/validate: ${dist} is missing; run \`npm run build\` first`);
    process.exit(1);
  }
  const file = join(root, 'bench/.data', `payroll-${rows}.csv`);
  if (!existsSync(file)) await generate(file, rows);
  const mb = statSync(file).size / 1e6;

  const cases = ['csv-parse', 'validate', 'validate --out'];
  const results = Object.fromEntries(cases.map((c) => [c, []]));
  for (let r = 0; r < runs; r++) {
    for (const c of cases) {
      const p = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', c, file], {
        encoding: 'utf8',
      });
      if (p.status !== 0) {
        console.error(`bench/validate: child "${c}" failed:\n${p.stderr}`);
        process.exit(1);
      }
      results[c].push(JSON.parse(p.stdout.trim().split('\n').pop()));
    }
  }
  const median = (list, key) => list.map((x) => x[key]).sort((a, b) => a - b)[Math.floor(list.length / 2)];
  const m = Object.fromEntries(
    cases.map((c) => [
      c,
      { ms: median(results[c], 'ms'), rss: median(results[c], 'rssMB'), rows: results[c][0].rows },
    ]),
  );
  for (const c of cases) {
    if (m[c].rows !== rows) throw new Error(`${c} saw ${m[c].rows} rows, expected ${rows}`);
  }
  const base = m['csv-parse'];
  console.log(
    `validate: ${rows.toLocaleString('en-US')} rows (${mb.toFixed(1)} MB), median of ${runs} runs, ` +
      `${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`,
  );
  console.log(
    `  ${'case'.padEnd(22)}${'time'.padStart(9)}${'rows/s'.padStart(12)}${'peak RSS'.padStart(11)}${'time ×'.padStart(9)}${'RSS ×'.padStart(8)}`,
  );
  for (const c of cases) {
    const x = m[c];
    console.log(
      `  ${(c === 'csv-parse' ? 'csv-parse (bare)' : `validateCsv${c.slice(8)}`).padEnd(22)}` +
        `${(x.ms / 1000).toFixed(2).padStart(7)} s${Math.round(rows / (x.ms / 1000))
          .toLocaleString('en-US')
          .padStart(12)}` +
        `${x.rss.toFixed(0).padStart(7)} MB${(x.ms / base.ms).toFixed(2).padStart(8)}×${(x.rss / base.rss).toFixed(2).padStart(7)}×`,
    );
  }
  const v = m.validate;
  const ok = v.ms <= 2 * base.ms && v.rss < 250;
  console.log(
    `  target: validateCsv ≤ 2× csv-parse time and < 250 MB peak RSS: ${ok ? 'met' : 'NOT MET'} ` +
      `(${(v.ms / base.ms).toFixed(2)}×, ${v.rss.toFixed(0)} MB)`,
  );
}

async function child(kind, file) {
  const t0 = performance.now();
  let rows;
  if (kind === 'csv-parse') {
    const { parse } = await import('csv-parse');
    rows = -1; // header
    for await (const _ of createReadStream(file).pipe(parse())) rows++;
  } else {
    const { validateCsv } = await import(pathToFileURL(join(root, 'dist/validate/index.js')).href);
    const out = kind === 'validate --out' ? join(dirname(file), 'report.csv') : undefined;
    const summary = await validateCsv(file, { operators: OPERATORS, out });
    if (summary.invalid !== 0)
      throw new Error(`unexpected invalid rows: ${JSON.stringify(summary.invalidByCode)}`);
    rows = summary.rows;
  }
  const ms = performance.now() - t0;
  console.log(JSON.stringify({ rows, ms, rssMB: process.resourceUsage().maxRSS / 1024 }));
}

/** A payroll export like fixtures/payroll.csv: unique numbers, mostly plain, some +880 / dashed. */
function generate(file, rows) {
  const first = [
    'Md. Abdur',
    'Farhana',
    'Tanvir',
    'Nusrat',
    'Shakil',
    'Sharmin',
    'Rafiqul',
    'Taslima',
    'Sadia',
    'Arif',
  ];
  const last = [
    'Rahman',
    'Hossain',
    'Islam',
    'Ahmed',
    'Chowdhury',
    'Khan',
    'Akter',
    'Begum',
    'Uddin',
    'Sarker',
    'Miah',
  ];
  const depts = ['Accounts', 'Sales', 'Operations', 'Human Resources', 'IT', 'Logistics', 'Production'];
  const prefixes = ['017', '018', '019', '016', '013', '014', '015'];
  const amounts = [50, 100, 150, 200, 250, 300, 400, 500, 600, 750, 800, 1000];
  return writeGeneratedCsv(file, 'Employee ID,Name,Department,Mobile Number,Amount (BDT)', rows, (i) => {
    const prefix = prefixes[i % 7];
    // i → i·7919 mod 10^8 is one-to-one, so numbers never repeat
    const rest = String((i * 7919 + 12345) % 100_000_000).padStart(8, '0');
    let number = prefix + rest;
    if (i % 20 === 3) number = `+880 ${number.slice(1, 5)}-${number.slice(5)}`;
    else if (i % 20 === 7) number = `${number.slice(0, 5)}-${number.slice(5)}`;
    let amount = amounts[(i * 13) % amounts.length];
    if (prefix === '015' && amount > 500) amount = 500;
    const name =
      i % 25 === 0 ? `"${last[i % 11]}, ${first[i % 10]}"` : `${first[i % 10]} ${last[(i >> 3) % 11]}`;
    return `EMP-${100000 + i},${name},${depts[i % 7]},${number},${amount}`;
  });
}
