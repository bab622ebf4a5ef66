#!/usr/bin/env node
/**
 * Validation throughput and memory (issues #3, #13): a generated 1,000,000-row payroll CSV is
 * read by (a) bare csv-parse, (b) our validateCsv from dist/ (run `npm run build` first) and
 * (c) validateCsv writing the report CSV (`--out`), each in a fresh child process; prints time,
 * rows/s and peak RSS side by side, with each case's time as a ratio to bare csv-parse.
 *
 *   node bench/validate.mjs [--rows 1000000] [--runs 3] [--compare <another build's dist/>]
 *
 * The ratios are measured within this one run: every round runs the cases back to back (in a
 * rotating order, so a load swing does not always hit the same case) and the ratio reported is
 * the median of the rounds' ratios. CPU time (user + system, from `process.resourceUsage()`)
 * is shown beside the wall time: on a shared, loaded machine it swings less. `--compare` adds
 * a case: `--out` through the other build, for a before/after figure under the same load.
 *
 * Targets: validateCsv ≤ 2× the time of bare csv-parse, and validateCsv --out ≤ 2× too
 * (issue #13), peak RSS under 250 MB. Under `bench/run.mjs` the figures go to
 * BENCH_RESULT_FILE as one JSON object.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cliArg, writeGeneratedCsv } from './lib.mjs';
import { cpus, loadavg, totalmem } from 'node:os';
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
const LABELS = {
  'csv-parse': 'csv-parse (bare)',
  validate: 'validateCsv',
  'validate --out': 'validateCsv --out',
  compare: 'validateCsv --out, --compare build',
};

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4], process.argv[5]);
else await main();

async function main() {
  const option = (name) => cliArg(name, undefined);
  const rows = Number(option('--rows') ?? 1_000_000);
  const runs = Number(option('--runs') ?? 3);
  const compare = option('--compare') === undefined ? undefined : resolve(option('--compare'));
  const dist = join(root, 'dist');
  for (const d of [dist, compare]) {
    if (d !== undefined && !existsSync(join(d, 'validate/index.js'))) {
      console.error(
        `bench/validate: ${join(d, 'validate/index.js')} is missing; run \`npm run build\` first`,
      );
      process.exit(1);
    }
  }
  const file = join(root, 'bench/.data', `payroll-${rows}.csv`);
  if (!existsSync(file)) await generate(file, rows);
  const mb = statSync(file).size / 1e6;

  const cases = ['csv-parse', 'validate', 'validate --out', ...(compare ? ['compare'] : [])];
  const results = Object.fromEntries(cases.map((c) => [c, []]));
  const ratios = Object.fromEntries(cases.map((c) => [c, []]));
  const cpuRatios = Object.fromEntries(cases.map((c) => [c, []]));
  const load = [loadavg()[0]];
  for (let r = 0; r < runs; r++) {
    const round = {};
    for (let k = 0; k < cases.length; k++) {
      const c = cases[(k + r) % cases.length];
      const p = spawnSync(
        process.execPath,
        [fileURLToPath(import.meta.url), '--child', c, file, c === 'compare' ? compare : dist],
        { encoding: 'utf8' },
      );
      if (p.status !== 0) {
        console.error(`bench/validate: child "${c}" failed:\n${p.stderr}`);
        process.exit(1);
      }
      round[c] = JSON.parse(p.stdout.trim().split('\n').pop());
      results[c].push(round[c]);
    }
    for (const c of cases) {
      ratios[c].push(round[c].ms / round['csv-parse'].ms);
      cpuRatios[c].push(round[c].cpuMs / round['csv-parse'].cpuMs);
    }
    load.push(loadavg()[0]);
  }
  const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
  const m = Object.fromEntries(
    cases.map((c) => [
      c,
      {
        ms: median(results[c].map((x) => x.ms)),
        rss: median(results[c].map((x) => x.rssMB)),
        cpuMs: median(results[c].map((x) => x.cpuMs)),
        cpuRatio: median(cpuRatios[c]),
        rows: results[c][0].rows,
        ratio: median(ratios[c]),
      },
    ]),
  );
  for (const c of cases) {
    if (m[c].rows !== rows) throw new Error(`${c} saw ${m[c].rows} rows, expected ${rows}`);
  }
  const base = m['csv-parse'];
  console.log(
    `validate: ${rows.toLocaleString('en-US')} rows (${mb.toFixed(1)} MB), median of ${runs} runs, ` +
      `${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ` +
      `1-min load ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)}`,
  );
  console.log(
    `  ${'case'.padEnd(36)}${'time'.padStart(9)}${'rows/s'.padStart(12)}${'peak RSS'.padStart(11)}${'time ×'.padStart(9)}${'CPU'.padStart(9)}${'CPU ×'.padStart(8)}${'RSS ×'.padStart(8)}`,
  );
  for (const c of cases) {
    const x = m[c];
    console.log(
      `  ${LABELS[c].padEnd(36)}` +
        `${(x.ms / 1000).toFixed(2).padStart(7)} s${Math.round(rows / (x.ms / 1000))
          .toLocaleString('en-US')
          .padStart(12)}` +
        `${x.rss.toFixed(0).padStart(7)} MB${x.ratio.toFixed(2).padStart(8)}×` +
        `${(x.cpuMs / 1000).toFixed(2).padStart(7)} s${x.cpuRatio.toFixed(2).padStart(7)}×${(x.rss / base.rss).toFixed(2).padStart(7)}×`,
    );
  }
  const v = m.validate;
  const o = m['validate --out'];
  const okValidate = v.ratio <= 2 && v.rss < 250;
  const okOut = o.ratio <= 2 && o.rss < 250;
  console.log(
    `  target: validateCsv ≤ 2× csv-parse time and < 250 MB peak RSS: ${okValidate ? 'met' : 'NOT MET'} ` +
      `(${v.ratio.toFixed(2)}×, ${v.rss.toFixed(0)} MB)`,
  );
  console.log(
    `  target: validateCsv --out ≤ 2× csv-parse time and < 250 MB peak RSS: ${okOut ? 'met' : 'NOT MET'} ` +
      `(${o.ratio.toFixed(2)}×, ${o.rss.toFixed(0)} MB)`,
  );
  if (process.env.BENCH_RESULT_FILE) {
    const figure = (c) => ({
      seconds: round(m[c].ms / 1000),
      rowsPerSecond: Math.round(rows / (m[c].ms / 1000)),
      peakRssMB: Math.round(m[c].rss),
      timeVsCsvParse: round(m[c].ratio),
      cpuSeconds: round(m[c].cpuMs / 1000),
      cpuVsCsvParse: round(m[c].cpuRatio),
      rssVsCsvParse: round(m[c].rss / base.rss),
    });
    const figures = {
      rows,
      megabytes: round(mb),
      runs,
      load1: { min: round(Math.min(...load)), max: round(Math.max(...load)) },
      cases: Object.fromEntries(cases.map((c) => [LABELS[c], figure(c)])),
      targets: {
        'validateCsv ≤ 2× csv-parse, < 250 MB': okValidate,
        'validateCsv --out ≤ 2× csv-parse, < 250 MB': okOut,
      },
    };
    writeFileSync(process.env.BENCH_RESULT_FILE, JSON.stringify(figures));
  }
}

function round(x) {
  return Math.round(x * 100) / 100;
}

async function child(kind, file, dist) {
  const t0 = performance.now();
  let rows;
  // the report is removed after the clock stops: a 90 MB file per run would fill bench/.data
  const out =
    kind === 'validate --out' || kind === 'compare'
      ? join(dirname(file), `report-${process.pid}.csv`)
      : undefined;
  if (kind === 'csv-parse') {
    const { parse } = await import('csv-parse');
    rows = -1; // header
    for await (const _ of createReadStream(file).pipe(parse())) rows++;
  } else {
    const { validateCsv } = await import(pathToFileURL(join(dist, 'validate/index.js')).href);
    const summary = await validateCsv(file, { operators: OPERATORS, out });
    if (summary.invalid !== 0)
      throw new Error(`unexpected invalid rows: ${JSON.stringify(summary.invalidByCode)}`);
    rows = summary.rows;
  }
  const ms = performance.now() - t0;
  if (out !== undefined) rmSync(out, { force: true });
  const { userCPUTime, systemCPUTime, maxRSS } = process.resourceUsage(); // µs, KiB
  const cpuMs = (userCPUTime + systemCPUTime) / 1000;
  console.log(JSON.stringify({ rows, ms, cpuMs, rssMB: maxRSS / 1024 }));
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
