#!/usr/bin/env node
/**
 * The job engine's own overhead: how fast runJob (dist/, run `npm run build` first) pushes a batch
 * when the API is not the bottleneck, against the same number of POST /recharge sent straight
 * through the client, with no journal, at the same concurrency.
 *
 *   node bench/engine.mjs [--rows 10000] [--limiter-rows 2000] [--rounds 3] [--concurrency 4] [--latency 0]
 *
 * A generated CSV of unique valid rows (name,mobile,amount) is run against an unlimited sandbox
 * (no rate limit, transactions final at once, a huge balance) served by this process; each
 * case runs in a fresh child process, which reports its time and peak RSS
 * (`process.resourceUsage().maxRSS`). Each pair runs twice: with a client whose RateLimiter is
 * set to 1,000,000 requests/s (maxConcurrent = the concurrency), as the CLI always has one, and
 * with a client that has no scheduler at all — Bottleneck's own cost per request (a few ms, see
 * bench/README.md) would otherwise hide the engine's (the RateLimiter case runs `--limiter-rows`,
 * as it is bound by Bottleneck at a few hundred requests/s).
 *
 * Each case runs `--rounds` times, an engine run and a loop run back to back (the order
 * alternating); its figure is the median of the rounds' paired ratios. On a shared machine one
 * pair swings by ±30 % with the load; the median of paired rounds does not. `--rows` 10,000 by
 * default: rows/s at scale, where the engine's start (planning, a cold process) is a small part.
 *
 * - engine:   runJob({ csv, stateDir: <fresh temp dir>, concurrency: C, pollAfterMs: 0, … }):
 *             plan (validate, write plan.jsonl), balance check, then per row an fsync'd intent,
 *             the POST, the fsync'd transaction id; results CSV at the end. The journal's fsync
 *             count is read from the Journal instance (its `syncs` counter).
 * - baseline: C workers sending the same rows' POST /recharge through the same kind of client,
 *             no journal, no plan, no results file.
 *
 * `--latency <ms>`: the sandbox waits that long before answering each request (default 0), a
 * remote API's round trip instead of loopback's, where the engine's durable write per row no
 * longer weighs as much as a request.
 *
 * Two flows, each against its own sandbox:
 * - POST:     transactions final at once (`completeAfterMs: 0`): one request per row, the
 *             engine's per-row cost (intent, transaction id) against a bare POST loop only;
 * - POST+GET: the flow of issue #13's "bare POST+GET loop": each POST is answered `processing`
 *             and the transaction is final by the first GET (the sandbox's clock moves 2 ms at
 *             every reading, and transactions complete 3 ms after they are committed); the
 *             engine records the answer, polls at once and records the final state; the baseline
 *             sends one GET /transaction after each POST (again every 10 ms while processing).
 *             `requests/row` shows that neither side polled more than once. No limiter.
 */
import { existsSync, promises as fsp, readFileSync, writeFileSync } from 'node:fs';
import { cliArg, requireBuild, writeGeneratedCsv, runScriptChild } from './lib.mjs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const distUrl = (path) => pathToFileURL(join(root, 'dist', path)).href;
/** The limiter of the 'limiter' cases: far above what loopback can do (its minTime is 1 ms). */
const HIGH_RATE = { limit: 1_000_000, windowMs: 1000 };
/** The baseline's operator ids: Grameenphone, Robi, Banglalink in the sandbox's DEFAULT_OPERATORS. */
const OPERATOR_BY_PREFIX = { '017': 1, '018': 2, '019': 3 };

if (process.argv[2] === '--child')
  await child(
    process.argv[3],
    process.argv[4] === 'limiter',
    Number(process.argv[5]),
    process.argv[6],
    process.argv[7],
    process.argv[8] === 'post+get',
  );
else await main();

async function main() {
  const rows = Number(cliArg('--rows', '10000'));
  const limiterRows = Number(cliArg('--limiter-rows', '2000'));
  const rounds = Number(cliArg('--rounds', '3'));
  const levels = cliArg('--concurrency', '4').split(',').map(Number);
  const latencyMs = Number(cliArg('--latency', '0'));
  requireBuild(root, 'engine');
  const { startSandbox } = await import(distUrl('index.js'));
  const csvOf = async (n) => {
    const csv = join(root, 'bench/.data', `engine-${n}.csv`);
    if (!existsSync(csv)) await generate(csv, n);
    return csv;
  };

  const results = [];
  const cases = [
    ...levels.map((c) => ({ mode: 'limiter', c, flow: 'post', n: limiterRows })),
    ...levels.map((c) => ({ mode: 'none', c, flow: 'post', n: rows })),
    ...levels.map((c) => ({ mode: 'none', c, flow: 'post+get', n: rows })),
  ];
  for (const { mode, c, flow, n } of cases) {
    const csv = await csvOf(n);
    const r = { mode, c, flow, n, rounds: [] };
    for (let round = 0; round < rounds; round++) {
      const pair = {};
      // the order alternates, so a load that rises or falls during the case weighs on both sides
      for (const kind of round % 2 === 0 ? ['engine', 'baseline'] : ['baseline', 'engine']) {
        const sb = await startSandbox({
          apiKey: 'k',
          port: 0,
          rateLimit: null,
          balance: 1e12,
          latencyMs,
          ...(flow === 'post' ? { completeAfterMs: 0 } : { completeAfterMs: 3, clock: steppingClock() }),
        });
        try {
          const out = await runChild([kind, mode, String(c), sb.url, csv, flow]);
          const charged = sb.ledger().length;
          if (out.completed !== n || charged !== n) {
            throw new Error(
              `${kind} C=${c}: ${out.completed} rows completed, ${charged} charged by the sandbox, expected ${n}`,
            );
          }
          pair[kind] = { ...out, requestsPerRow: sb.stats().requests / n };
        } finally {
          await sb.close();
        }
      }
      r.rounds.push(pair);
      console.log(
        `  ${clientName(mode)}, ${flow === 'post' ? 'POST' : 'POST+GET'}, C=${c}, round ${round + 1}/${rounds}: ` +
          `engine ${(pair.engine.ms / 1000).toFixed(2)} s, baseline ${(pair.baseline.ms / 1000).toFixed(2)} s, ` +
          `speed vs loop ${(pair.baseline.ms / pair.engine.ms).toFixed(2)}`,
      );
    }
    // the round whose paired ratio is the median stands for the case (its times, fsyncs, RSS)
    const ratios = r.rounds.map((p) => p.baseline.ms / p.engine.ms);
    const order = ratios.map((x, i) => [x, i]).sort((a, b) => a[0] - b[0]);
    const mid = r.rounds[order[(order.length - 1) >> 1][1]];
    Object.assign(r, { engine: mid.engine, baseline: mid.baseline, ratios, speed: median(ratios) });
    r.sendSpeed = median(r.rounds.map((p) => p.baseline.ms / p.engine.sendMs));
    results.push(r);
  }

  console.log(
    `\nengine: ${rows.toLocaleString('en-US')} rows (${limiterRows.toLocaleString('en-US')} through the RateLimiter), ` +
      `${rounds} rounds a case, unlimited sandbox in the parent process` +
      `${latencyMs ? ` answering after ${latencyMs} ms` : ''}, ` +
      `${cpus().length} × ${cpus()[0]?.model.trim()}, node ${process.version}`,
  );
  const head = [
    'client',
    'flow',
    'C',
    'rows',
    'engine time',
    'rows/s',
    'send phase',
    'fsyncs',
    'journal lines',
    'requests/row',
    'peak RSS',
    'baseline time',
    'req/s',
    'peak RSS',
    'speed vs loop',
    'rounds',
    'send phase vs loop',
  ];
  const table = results.map(({ mode, c, flow, n, engine: e, baseline: b, ratios, speed, sendSpeed }) => [
    clientName(mode),
    flow === 'post' ? 'POST' : 'POST+GET',
    String(c),
    n.toLocaleString('en-US'),
    `${(e.ms / 1000).toFixed(2)} s`,
    Math.round(n / (e.ms / 1000)).toLocaleString('en-US'),
    `${(e.sendMs / 1000).toFixed(2)} s`,
    e.syncs === null ? 'n/a' : e.syncs.toLocaleString('en-US'),
    e.journalLines.toLocaleString('en-US'),
    `${e.requestsPerRow.toFixed(2)} / ${b.requestsPerRow.toFixed(2)}`,
    `${e.rssMB.toFixed(0)} MB`,
    `${(b.ms / 1000).toFixed(2)} s`,
    Math.round(n / (b.ms / 1000)).toLocaleString('en-US'),
    `${b.rssMB.toFixed(0)} MB`,
    speed.toFixed(2),
    ratios.map((x) => x.toFixed(2)).join(' '),
    sendSpeed.toFixed(2),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cells) =>
    `  ${cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ')}`;
  console.log(line(head));
  for (const row of table) console.log(line(row));
  console.log(
    "  (speed vs loop = baseline time / engine time: the engine's rows/s as a share of the bare loop's, " +
      'the median of the rounds, each round an engine run and a loop run back to back (issue #13 goal: ' +
      "≥ 0.6 at C = 4); the times, fsyncs and RSS shown are the median round's; send phase = first " +
      'intent to last final row (planning, start-up and the results file left out); fsyncs = the ' +
      "journal's, plan and results files not counted)",
  );
  if (process.env.BENCH_RESULT_FILE) {
    const figures = { rows, limiter_rows: limiterRows, rounds, latency_ms: latencyMs, cases: {} };
    for (const { mode, c, flow, engine: e, baseline: b, ratios, speed, sendSpeed } of results) {
      const key = `${mode === 'limiter' ? 'limiter' : 'no_limiter'}${flow === 'post' ? '' : '_post_get'}_c${c}`;
      figures.cases[key] = {
        speed_vs_loop: speed,
        speed_vs_loop_rounds: ratios,
        send_phase_vs_loop: sendSpeed,
        engine_s: e.ms / 1000,
        baseline_s: b.ms / 1000,
        fsyncs: e.syncs,
        journal_lines: e.journalLines,
        requests_per_row: { engine: e.requestsPerRow, baseline: b.requestsPerRow },
        engine_rss_mb: e.rssMB,
        baseline_rss_mb: b.rssMB,
      };
    }
    writeFileSync(process.env.BENCH_RESULT_FILE, JSON.stringify(figures));
  }
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function runChild(args) {
  return runScriptChild(import.meta.url, args, { name: args.slice(0, 2).join(' ') });
}

/**
 * A clock for the POST+GET sandbox: 2 ms later at every reading. A POST reads it to commit the
 * transaction and once more before it answers (still processing, 3 ms not reached); any later
 * request has read it at least twice more, so the first GET finds the transaction final.
 */
function steppingClock() {
  let ticks = 0;
  return { now: () => Date.now() + 2 * ++ticks, sleep: (ms, signal) => sleep(ms, undefined, { signal }) };
}

function clientName(mode) {
  return mode === 'limiter' ? 'RateLimiter 1e6/s' : 'no limiter';
}

async function child(kind, withLimiter, concurrency, url, csv, withGet) {
  const { AlsamiflexiClient, RateLimiter, DEFAULT_OPERATORS, JobEvents, runJob } = await import(
    distUrl('index.js')
  );
  const limiter = withLimiter ? new RateLimiter({ rate: HIGH_RATE, concurrency }) : undefined;
  const client = new AlsamiflexiClient({ apiKey: 'k', baseUrl: url, scheduler: limiter });
  try {
    if (kind === 'engine') {
      // the Journal is internal: wrap its factory to reach the instance and its fsync counter
      let journals = [];
      try {
        const { Journal } = await import(distUrl('job/journal.js'));
        const open = Journal.open;
        Journal.open = async function (...args) {
          const j = await open.apply(this, args);
          journals.push(j);
          return j;
        };
      } catch {
        journals = null;
      }
      const stateDir = await fsp.mkdtemp(join(tmpdir(), 'rb-bench-engine-'));
      try {
        const events = new JobEvents();
        let first = 0;
        let last = 0;
        events.once('row:submitted', () => (first = performance.now()));
        events.on('row:final', () => (last = performance.now()));
        const t0 = performance.now();
        const result = await runJob({
          csv,
          stateDir,
          out: join(stateDir, 'results.csv'),
          client,
          concurrency,
          pollAfterMs: 0,
          pollEveryMs: 10,
          pollTimeoutMs: 60_000,
          operators: DEFAULT_OPERATORS,
          events,
        });
        const ms = performance.now() - t0;
        const journalLines = readFileSync(join(result.dir, 'journal.log'), 'utf8')
          .split('\n')
          .filter(Boolean).length;
        const syncs =
          journals && journals.length > 0 ? journals.reduce((s, j) => s + (j.syncs ?? 0), 0) : null;
        report({ ms, sendMs: last - first, completed: result.counts.completed, syncs, journalLines });
      } finally {
        await fsp.rm(stateDir, { recursive: true, force: true });
      }
    } else {
      const bodies = readFileSync(csv, 'utf8')
        .split('\n')
        .slice(1)
        .filter(Boolean)
        .map((line, i) => {
          const [, mobile, amount] = line.split(',');
          return {
            operator_id: OPERATOR_BY_PREFIX[mobile.slice(0, 3)],
            mobile_number: mobile,
            amount: Number(amount),
            reference: `base-${i}`,
          };
        });
      let next = 0;
      let completed = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < bodies.length) {
            let txn = await client.recharge(bodies[next++]);
            // POST+GET: the engine's poll rule (first poll at once, then every 10 ms)
            while (withGet && txn.status === 'processing') {
              txn = await client.getTransaction(txn.transaction_id);
              if (txn.status === 'processing') await sleep(10);
            }
            if (txn.status === 'completed') completed++;
          }
        }),
      );
      const ms = performance.now() - t0;
      report({ ms, completed });
    }
  } finally {
    await limiter?.stop();
    await client.close();
  }
}

function report(figures) {
  console.log(JSON.stringify({ ...figures, rssMB: process.resourceUsage().maxRSS / 1024 }));
}

/** name,mobile,amount: unique numbers 017/018/019 + 8 digits, whole amounts 10–500. */
function generate(file, rows) {
  const prefixes = ['017', '018', '019'];
  return writeGeneratedCsv(file, 'name,mobile,amount', rows, (i) => {
    // i → i·7919 mod 10^8 is one-to-one, so numbers never repeat
    const number = prefixes[i % 3] + String((i * 7919 + 12345) % 100_000_000).padStart(8, '0');
    return `Employee ${i + 1},${number},${10 + ((i * 37) % 491)}`;
  });
}
