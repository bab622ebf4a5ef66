#!/usr/bin/env node
/**
 * `npm run bench`: every bench/*.mjs except this one and lib.mjs, in sequence, each in its own
 * process, then bench/results.json with every figure.
 *
 *   node bench/run.mjs [script …] [-- args for the scripts]
 *
 * Naming scripts (`ratelimit`, `validate.mjs`) runs only those; other arguments are passed to
 * every script. Each script is given BENCH_RESULT_FILE (a path in a temp dir) in its environment
 * and writes there one JSON object of its figures (ratios, not just times: each ratio is measured
 * within one run of that script). They are merged into bench/results.json under the script's
 * name with the date, the machine and Node; a script that was not run this time keeps its
 * previous entry, so a partial run does not erase the other figures.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const here = dirname(self);
const all = readdirSync(here)
  .filter((f) => f.endsWith('.mjs') && f !== basename(self) && f !== 'lib.mjs')
  .sort();
const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const named = (dash < 0 ? argv : argv.slice(0, dash)).filter(
  (a) => all.includes(a) || all.includes(`${a}.mjs`),
);
const passed = dash < 0 ? argv.filter((a) => !named.includes(a)) : argv.slice(dash + 1);
const scripts =
  named.length > 0 ? all.filter((f) => named.includes(f) || named.includes(f.replace(/\.mjs$/, ''))) : all;

const resultsFile = join(here, 'results.json');
const previous = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')) : {};
const results = { ...previous };
const tmp = mkdtempSync(join(tmpdir(), 'recharge-batch-bench-'));
let failed = 0;
try {
  for (const script of scripts) {
    console.log(`\n== bench/${script}`);
    const out = join(tmp, `${script}.json`);
    const loadBefore = loadavg()[0];
    const p = spawnSync(process.execPath, [join(here, script), ...passed], {
      stdio: 'inherit',
      env: { ...process.env, BENCH_RESULT_FILE: out },
    });
    if (p.status !== 0) {
      failed++;
      console.error(`bench/${script} exited with ${p.status ?? p.signal}`);
      continue;
    }
    if (!existsSync(out)) continue; // a script that reports no figures yet
    results[script.replace(/\.mjs$/, '')] = {
      date: new Date().toISOString(),
      machine: `${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${process.platform}`,
      node: process.version,
      // a loaded machine stretches the times; the ratios are what to compare
      load1: { before: round(loadBefore), after: round(loadavg()[0]) },
      figures: JSON.parse(readFileSync(out, 'utf8')),
    };
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
writeFileSync(`${resultsFile}.tmp`, `${JSON.stringify(results, null, 2)}\n`);
renameSync(`${resultsFile}.tmp`, resultsFile);
console.log(`\nfigures written to ${resultsFile}`);
process.exit(failed === 0 ? 0 : 1);

function round(x) {
  return Math.round(x * 100) / 100;
}
