#!/usr/bin/env node
/**
 * Memory and resume figures of the job engine (SPEC §11, issue #13): `runJob` (dist/, run
 * `npm run build` first) of a 1,000,000-row file, all valid and all invalid, must stay under
 * 300 MB peak RSS; a resume of a 100,000-row job with half its rows done must send its first
 * POST within 2 s of starting.
 *
 *   node bench/memory.mjs [--rows 1000000] [--resume-rows 100000] [--only run|growth|resume]
 *
 * - run, valid rows: the job is planned, the balance checked, and the run stopped (as by a
 *   signal) after the first 2,000 rows were sent: planning, the per-row state of every row and
 *   the results CSV of all rows at the stop are what memory holds, the sending phase adds only
 *   what is in flight. Peak RSS is the child process's `resourceUsage().maxRSS`.
 * - growth: what a run keeps per row it has sent, which the stopped run above cannot show: the
 *   heap after a full GC at 2,000 and at 20,000 final rows of one run, per row between them.
 * - run, invalid rows: every number is malformed; nothing is sent; the results are written.
 * - resume: a 100,000-row job is run once until half its rows are completed (then stopped) and
 *   its state dir kept in bench/.data; each measurement copies it to a fresh state dir and runs
 *   the same file again — as `node dist/cli.js run <csv>` (what a user re-runs) and as `runJob`
 *   in a child process. The figure is the time from spawning the process to the first POST the
 *   sandbox receives (its ledger, polled by this process every millisecond), Node start-up and
 *   module loading included; the CLI is then stopped with SIGINT.
 *
 * Figures go to BENCH_RESULT_FILE (bench/run.mjs) when it is set.
 */
import { spawn } from 'node:child_process';
import { existsSync, promises as fsp, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setInterval, clearInterval } from 'node:timers';
import { URL, fileURLToPath, pathToFileURL } from 'node:url';
import { cliArg, requireBuild, writeGeneratedCsv, runScriptChild } from './lib.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const data = join(root, 'bench/.data');
const distUrl = (path) => pathToFileURL(join(root, 'dist', path)).href;
/** Rows sent before the valid-rows run is stopped. */
const SEND_BEFORE_STOP = 2000;
/** The heap is read (after a full GC) when this many rows are final, then this many. */
const GROWTH_FROM = 2000;
const GROWTH_TO = 20_000;

if (process.argv[2] === '--child') await child(JSON.parse(process.argv[3]));
else await main();

async function main() {
  const rows = Number(cliArg('--rows', '1000000'));
  const resumeRows = Number(cliArg('--resume-rows', '100000'));
  const only = cliArg('--only', '');
  requireBuild(root, 'memory');
  const figures = {};
  if (only === '' || only === 'run') {
    for (const kind of ['valid', 'invalid']) {
      const csv = join(data, `memory-${kind}-${rows}.csv`);
      if (!existsSync(csv)) await generate(csv, rows, kind === 'valid');
      const out = await withSandbox({}, (sb) =>
        runChild({ mode: 'run', csv, url: sb.url, stopAfterSent: kind === 'valid' ? SEND_BEFORE_STOP : 0 }),
      );
      figures[`run_${kind}`] = { rows, ...out };
      console.log(
        `  run ${rows.toLocaleString('en-US')} ${kind} rows: ${(out.ms / 1000).toFixed(1)} s, ` +
          `peak RSS ${out.rssMB.toFixed(0)} MB (sent ${out.sent})`,
      );
    }
  }
  if (only === '' || only === 'growth') {
    // what a run keeps per row it has sent: the heap (after a full GC) at two points of one run
    const csv = join(data, `memory-valid-${resumeRows}.csv`);
    if (!existsSync(csv)) await generate(csv, resumeRows, true);
    const at = [GROWTH_FROM, GROWTH_TO];
    const out = await withSandbox({}, (sb) =>
      runChild({ mode: 'run', csv, url: sb.url, heapAt: at, stopAfterDone: GROWTH_TO }, ['--expose-gc']),
    );
    const perRow = (out.heap[1] - out.heap[0]) / (GROWTH_TO - GROWTH_FROM);
    figures.growth = {
      from_rows: GROWTH_FROM,
      to_rows: GROWTH_TO,
      heap_mb: out.heap.map((b) => b / 2 ** 20),
      bytes_per_row: perRow,
    };
    console.log(
      `  heap while sending: ${(out.heap[0] / 2 ** 20).toFixed(1)} MB after ${GROWTH_FROM.toLocaleString('en-US')} rows final, ` +
        `${(out.heap[1] / 2 ** 20).toFixed(1)} MB after ${GROWTH_TO.toLocaleString('en-US')}: ${perRow.toFixed(0)} bytes per row sent`,
    );
  }
  if (only === '' || only === 'resume') {
    const state = await prepareResume(resumeRows);
    figures.resume = { rows: resumeRows, done: state.done };
    for (const via of ['cli', 'library']) {
      const runs = [];
      for (let i = 0; i < 3; i++) runs.push(await measureResume(state, via));
      runs.sort((a, b) => a - b);
      figures.resume[`first_post_ms_${via}`] = runs[1];
      figures.resume[`runs_${via}`] = runs;
      console.log(
        `  resume of ${resumeRows.toLocaleString('en-US')} rows, ${state.done.toLocaleString('en-US')} done, ` +
          `${via === 'cli' ? '`node dist/cli.js run`' : 'runJob from dist/index.js'}: first POST after ` +
          `${runs.map((ms) => `${ms.toFixed(0)} ms`).join(', ')} (median ${runs[1].toFixed(0)} ms)`,
      );
    }
  }
  console.log(`  (${cpus().length} × ${cpus()[0]?.model.trim()}, node ${process.version})`);
  if (process.env.BENCH_RESULT_FILE) writeFileSync(process.env.BENCH_RESULT_FILE, JSON.stringify(figures));
}

async function withSandbox(extra, fn) {
  const { startSandbox } = await import(distUrl('index.js'));
  const sb = await startSandbox({
    apiKey: 'k',
    port: 0,
    rateLimit: null,
    completeAfterMs: 0,
    balance: 1e12,
    ...extra,
  });
  try {
    return await fn(sb);
  } finally {
    await sb.close();
  }
}

/** The 100k-row job, half done, kept in bench/.data (made once: about a minute or two). */
async function prepareResume(rows) {
  const csv = join(data, `memory-valid-${rows}.csv`);
  if (!existsSync(csv)) await generate(csv, rows, true);
  const dir = join(data, `resume-${rows}`);
  const infoFile = join(dir, 'info.json');
  if (existsSync(infoFile)) return { ...JSON.parse(readFileSync(infoFile, 'utf8')), dir, csv };
  await fsp.rm(dir, { recursive: true, force: true });
  await fsp.mkdir(dir, { recursive: true });
  const half = Math.floor(rows / 2);
  console.log(
    `  preparing a ${rows.toLocaleString('en-US')}-row job with ${half.toLocaleString('en-US')} rows done…`,
  );
  const port = await withSandbox({}, async (sb) => {
    const out = await runChild({
      mode: 'run',
      csv,
      url: sb.url,
      stateDir: join(dir, 'state'),
      stopAfterDone: half,
    });
    if (sb.ledger().length < half) throw new Error(`only ${sb.ledger().length} rows were sent`);
    console.log(`  prepared in ${(out.ms / 1000).toFixed(0)} s`);
    return Number(new URL(sb.url).port);
  });
  const info = { port, done: half };
  writeFileSync(infoFile, JSON.stringify(info));
  return { ...info, dir, csv };
}

/**
 * Time from spawning the process to the first POST the sandbox records. `cli`: the command a
 * user re-runs (`run <csv>`), stopped with SIGINT once that POST is seen; `library`: runJob in
 * a child that stops itself after its first send.
 */
async function measureResume(state, via) {
  const stateDir = await fsp.mkdtemp(join(tmpdir(), 'rb-bench-resume-'));
  try {
    await fsp.cp(join(state.dir, 'state'), stateDir, { recursive: true });
    // the account is derived from the base URL: the sandbox must listen where the job was made
    return await withSandbox({ port: state.port }, async (sb) => {
      let firstPostMs = null;
      let cli = null;
      const t0 = performance.now();
      const watch = setInterval(() => {
        if (firstPostMs !== null || sb.ledger().length === 0) return;
        firstPostMs = performance.now() - t0;
        cli?.kill('SIGINT');
      }, 1);
      try {
        if (via === 'library') {
          await runChild({ mode: 'run', csv: state.csv, url: sb.url, stateDir, stopAfterSent: 1 });
        } else {
          cli = spawn(
            process.execPath,
            // a rate far above the plans': at 60/min the first POST would also wait one pacing
            // interval (1.02 s) after the balance check, which is the rate limit, not the resume
            [
              join(root, 'dist/cli.js'),
              'run',
              state.csv,
              '--state-dir',
              stateDir,
              '--base-url',
              sb.url,
            ].concat(['--rate-limit', '1000/s', '--quiet']),
            { stdio: 'ignore', env: { ...process.env, ALSAMIFLEXI_API_KEY: 'k' } },
          );
          await new Promise((done) => cli.on('close', done));
        }
        if (firstPostMs === null) throw new Error(`the resume (${via}) sent nothing`);
        return firstPostMs;
      } finally {
        clearInterval(watch);
      }
    });
  } finally {
    await fsp.rm(stateDir, { recursive: true, force: true });
  }
}

function runChild(args, nodeFlags = []) {
  return runScriptChild(import.meta.url, [JSON.stringify(args)], { nodeFlags, name: args.mode });
}

async function child({ csv, url, stateDir, stopAfterSent = 0, stopAfterDone = 0, heapAt = [] }) {
  const { AlsamiflexiClient, DEFAULT_OPERATORS, JobEvents, runJob } = await import(distUrl('index.js'));
  const client = new AlsamiflexiClient({ apiKey: 'k', baseUrl: url });
  const ownDir = !stateDir;
  const dir = stateDir ?? (await fsp.mkdtemp(join(tmpdir(), 'rb-bench-memory-')));
  try {
    const events = new JobEvents();
    const stop = new globalThis.AbortController();
    let sent = 0;
    let done = 0;
    events.on('row:submitted', () => {
      if (++sent === stopAfterSent) stop.abort();
    });
    const heap = [];
    events.on('row:final', () => {
      if (heapAt.includes(++done)) {
        globalThis.gc();
        heap.push(process.memoryUsage().heapUsed);
      }
      if (done === stopAfterDone) stop.abort();
    });
    const t0 = performance.now();
    const result = await runJob({
      csv,
      stateDir: dir,
      out: join(dir, 'results.csv'),
      client,
      concurrency: 4,
      pollAfterMs: 0,
      pollEveryMs: 10,
      pollTimeoutMs: 60_000,
      operators: DEFAULT_OPERATORS,
      events,
      signal: stop.signal,
    });
    const ms = performance.now() - t0;
    console.log(
      JSON.stringify({
        ms,
        sent,
        resumed: result.resumed,
        heap,
        rssMB: process.resourceUsage().maxRSS / 1024,
      }),
    );
  } finally {
    await client.close();
    if (ownDir) await fsp.rm(dir, { recursive: true, force: true });
  }
}

/** name,mobile,amount: unique numbers (valid), or numbers that are not mobile numbers (invalid). */
function generate(file, rows, valid) {
  const prefixes = ['017', '018', '019'];
  return writeGeneratedCsv(file, 'name,mobile,amount', rows, (i) => {
    const digits = String((i * 7919 + 12345) % 100_000_000).padStart(8, '0');
    const number = valid ? prefixes[i % 3] + digits : `02${digits}x`;
    return `Employee ${i + 1},${number},${10 + ((i * 37) % 491)}`;
  });
}
