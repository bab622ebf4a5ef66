#!/usr/bin/env node
/**
 * Rate-limit use (SPEC §6): does our RateLimiter (dist/, run `npm run build` first) use the
 * allowed rate and rarely draw a 429, against the sandbox enforcing a fixed or a sliding window?
 *
 *   node bench/ratelimit.mjs [--case <text>] [--dist <dir of another build>]
 *
 * `--case` (also `--only`) runs the cases whose name contains the text, or only the one whose
 * name is exactly the text.
 *
 * Each case starts a sandbox with a rate limit, and a client whose limiter is configured with a
 * rate (the same as the server's, or 10 % above it: a misconfigured plan). Four workers then
 * loop as fast as the limiter lets them: a POST /recharge (a unique number) followed by a
 * GET /transaction of its id, until the case's number of calls is done. The figures come from
 * the sandbox's own request log:
 *
 *   achieved % = accepted requests per second over the span from the first to the last
 *                accepted one, (accepted − 1) / span, as a percentage of limit / window;
 *   429 %      = requests answered 429 / requests received.
 *
 * From the limiter's own stats, to see why: its margin and interval at the end (429s widen the
 * margin), the spread of its measured round trips (slowest − fastest of one kind) and how many
 * sends it held back for the lateness of the request `limit` places before (issue #13).
 *
 * Goal (SPEC §6): ≥ 95 % of the allowed rate used, ≤ 0.5 % of requests answered 429. The figures
 * are reported, not asserted: the script exits non-zero only if a case crashes.
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// --dist DIR: measure another build (e.g. an older version's, for a before/after figure)
const distDir = process.argv.includes('--dist')
  ? resolve(process.argv[process.argv.indexOf('--dist') + 1])
  : join(root, 'dist');
const dist = join(distDir, 'index.js');
if (!existsSync(dist)) {
  console.error(`bench/ratelimit: ${dist} is missing; run \`npm run build\` first`);
  process.exit(1);
}
const { startSandbox, AlsamiflexiClient, RateLimiter } = await import(pathToFileURL(dist).href);

const WORKERS = 4;

/**
 * name, server rate, server window kind, the limiter's configured rate (default: the server's),
 * calls to make; `jitterMs` delays each request's arrival at the sandbox by a random 0..jitterMs
 * (seeded); `headers: false` turns off the sandbox's X-RateLimit-* headers (429 +
 * Retry-After only). The sandbox's fixed windows start when it starts, so each sandbox is started
 * at a chosen millisecond of the wall-clock second (`phase`, default 999: every window ends 1 ms
 * before a whole second, as if aligned to whole seconds). This matters because
 * `X-RateLimit-Reset` is in whole epoch seconds, rounded up: a client waiting for it waits
 * (1000 − phase) ms past the real end of a fixed window.
 */
const CASES = [
  { name: 'fixed 20/1s', server: { limit: 20, windowMs: 1000 }, window: 'fixed', calls: 400 },
  {
    name: 'fixed 20/1s, windows end mid-second',
    server: { limit: 20, windowMs: 1000 },
    window: 'fixed',
    phase: 500,
    calls: 400,
  },
  { name: 'sliding 20/1s', server: { limit: 20, windowMs: 1000 }, window: 'sliding', calls: 400 },
  { name: 'fixed 60/6s', server: { limit: 60, windowMs: 6000 }, window: 'fixed', calls: 180 },
  { name: 'sliding 60/6s', server: { limit: 60, windowMs: 6000 }, window: 'sliding', calls: 180 },
  {
    name: 'fixed 20/1s, limiter 22/1s',
    server: { limit: 20, windowMs: 1000 },
    window: 'fixed',
    limiter: { limit: 22, windowMs: 1000 },
    calls: 200,
  },
  {
    name: 'fixed 60/6s, limiter 66/6s',
    server: { limit: 60, windowMs: 6000 },
    window: 'fixed',
    limiter: { limit: 66, windowMs: 6000 },
    calls: 180,
  },
  // SPEC §6: each request's arrival delayed by a random 0–40 ms (the sandbox's arrivalJitterMs)
  {
    name: 'sliding 20/1s, 0–40 ms arrival jitter',
    server: { limit: 20, windowMs: 1000 },
    window: 'sliding',
    jitterMs: 40,
    calls: 600,
  },
  // the same for 3 minutes: what a batch of a few thousand rows sees once the margin has adapted
  {
    name: 'sliding 20/1s, 0–40 ms arrival jitter, 3 min',
    server: { limit: 20, windowMs: 1000 },
    window: 'sliding',
    jitterMs: 40,
    calls: 3600,
  },
  {
    name: 'fixed 20/1s, 0–40 ms arrival jitter',
    server: { limit: 20, windowMs: 1000 },
    window: 'fixed',
    jitterMs: 40,
    calls: 600,
  },
  {
    name: 'fixed 60/6s, limiter 66/6s, no headers',
    server: { limit: 60, windowMs: 6000 },
    window: 'fixed',
    limiter: { limit: 66, windowMs: 6000 },
    headers: false,
    calls: 360,
  },
];

// --case (or --only) TEXT: the cases whose name contains TEXT, or only the one named exactly TEXT
const flag = ['--case', '--only'].find((f) => process.argv.includes(f));
const only = flag ? process.argv[process.argv.indexOf(flag) + 1] : undefined;
const exact = CASES.filter((c) => c.name === only);
const cases = exact.length > 0 ? exact : CASES.filter((c) => !only || c.name.includes(only));

console.log(
  `ratelimit: ${cases.length} cases, ${WORKERS} workers, recharge + transaction calls, ` +
    `${cpus().length} × ${cpus()[0]?.model.trim()}, node ${process.version}`,
);
const rows = [];
for (const c of cases) {
  const r = await runCase(c);
  rows.push(r);
  console.log(
    `  ${c.name}: ${r.received} requests, ${pct(r.achieved)} of the allowed rate, ${pct(r.share429, 2)} answered 429 ` +
      `(${(r.wallMs / 1000).toFixed(1)} s)`,
  );
}

console.log('');
const head = [
  'case',
  'requests',
  'accepted',
  'achieved',
  '429s',
  '429 %',
  'gate time',
  'longest gap',
  'max in window',
  'interval at end',
  'margin at end',
  'round-trip spread',
  'held for lateness',
];
const table = rows.map((r) => [
  r.name,
  String(r.received),
  String(r.accepted),
  pct(r.achieved),
  String(r.rejected),
  pct(r.share429, 2),
  `${(r.backOffMs / 1000).toFixed(1)} s`,
  `${r.longestGapMs} ms`,
  `${r.maxInWindow}/${r.limit}`,
  `${r.intervalMs.toFixed(2)} ms`,
  pct(r.margin, 2),
  `${r.roundTripSpreadMs.toFixed(1)} ms`,
  String(r.heldForLateness),
]);
const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
const line = (cells) =>
  `  ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ')}`;
console.log(line(head));
for (const row of table) console.log(line(row));
console.log('');
for (const r of rows) {
  const ok = r.achieved >= 0.95 && r.share429 <= 0.005;
  console.log(`  SPEC §6 goal (≥ 95 % used, ≤ 0.5 % 429) ${r.name}: ${ok ? 'met' : 'NOT MET'}`);
  if (r.rejected > 0 && r.window === 'fixed')
    console.log(`    429s arrived at ${r.phases.join(', ')} into their window (window ${r.windowMs} ms)`);
  if (r.rejected > 0) console.log(`    429s at ${r.times.join(', ')} after the first request`);
}

// bench/run.mjs collects every script's figures into bench/results.json
if (process.env.BENCH_RESULT_FILE) {
  const { writeFileSync } = await import('node:fs');
  const cases = rows.map(({ phases: _phases, times: _times, ...r }) => ({
    ...r,
    achieved: round(r.achieved, 4),
    share429: round(r.share429, 5),
    goalMet: r.achieved >= 0.95 && r.share429 <= 0.005,
  }));
  writeFileSync(
    process.env.BENCH_RESULT_FILE,
    JSON.stringify({ workers: WORKERS, goal: { achieved: 0.95, share429: 0.005 }, cases }),
  );
}

async function runCase(c) {
  const { limit, windowMs } = c.server;
  const origin = await atPhase(c.phase ?? 999);
  // startSandbox reads the clock before its first await: its fixed windows start at `origin`
  const sb = await startSandbox({
    apiKey: 'k',
    port: 0,
    rateLimit: { limit, windowMs },
    rateLimitWindow: c.window,
    rateLimitHeaders: c.headers ?? true,
    completeAfterMs: 100,
    balance: 1e9,
    arrivalJitterMs: c.jitterMs ?? 0,
    seed: 13,
  });
  const limiter = new RateLimiter({ rate: c.limiter ?? c.server, concurrency: WORKERS });
  const client = new AlsamiflexiClient({ apiKey: 'k', baseUrl: sb.url, scheduler: limiter });
  const t0 = Date.now();
  try {
    let issued = 0;
    let serial = 0;
    const tag = Math.floor(Math.random() * 1e6).toString(36);
    const worker = async () => {
      while (issued < c.calls) {
        issued++;
        const n = serial++;
        const txn = await client.recharge({
          operator_id: 1,
          mobile_number: `017${String(n).padStart(8, '0')}`,
          amount: 10,
          reference: `bench-${tag}-${n}`,
        });
        if (issued >= c.calls) break;
        issued++;
        await client.getTransaction(txn.transaction_id);
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, worker));
    const wallMs = Date.now() - t0;
    const log = sb.requestLog();
    const accepted = log.filter((e) => e.status !== 429).map((e) => e.at);
    const rejected = log.filter((e) => e.status === 429);
    const span = accepted.at(-1) - accepted[0];
    const allowedPerMs = limit / windowMs;
    let longestGapMs = 0;
    for (let i = 1; i < accepted.length; i++)
      longestGapMs = Math.max(longestGapMs, accepted[i] - accepted[i - 1]);
    return {
      name: c.name,
      window: c.window,
      limit,
      windowMs,
      wallMs,
      received: log.length,
      accepted: accepted.length,
      rejected: rejected.length,
      achieved: (accepted.length - 1) / span / allowedPerMs,
      share429: rejected.length / log.length,
      backOffMs: limiter.stats().backOffMs,
      longestGapMs,
      maxInWindow: maxInWindow(accepted, c.window, windowMs, origin),
      intervalMs: limiter.interval,
      margin: limiter.stats().margin,
      roundTripSpreadMs: limiter.stats().roundTripSpreadMs,
      heldForLateness: limiter.stats().heldForLateness,
      times: rejected
        .slice(0, 12)
        .map((e) => `${((e.at - log[0].at) / 1000).toFixed(2)} s`)
        .concat(rejected.length > 12 ? ['…'] : []),
      phases: rejected
        .slice(0, 12)
        .map((e) => `${(e.at - origin) % windowMs} ms`)
        .concat(rejected.length > 12 ? ['…'] : []),
    };
  } finally {
    await limiter.stop();
    await client.close();
    await sb.close();
  }
}

/** Waits until the wall clock's milliseconds read `phase` (a timer, then a short spin); returns that time. */
async function atPhase(phase) {
  for (;;) {
    const now = Date.now();
    const wait = (phase - (now % 1000) + 1000) % 1000;
    if (wait === 0) return now;
    if (wait > 20) await sleep(wait - 15);
  }
}

/** The most accepted requests in one server window (fixed) or any trailing window (sliding). */
function maxInWindow(times, window, windowMs, origin) {
  let max = 0;
  if (window === 'fixed') {
    const counts = new Map();
    for (const t of times) {
      const k = Math.floor((t - origin) / windowMs);
      counts.set(k, (counts.get(k) ?? 0) + 1);
      max = Math.max(max, counts.get(k));
    }
    return max;
  }
  let lo = 0;
  for (let hi = 0; hi < times.length; hi++) {
    while (times[lo] + windowMs <= times[hi]) lo++;
    max = Math.max(max, hi - lo + 1);
  }
  return max;
}

function round(x, digits) {
  return Number(x.toFixed(digits));
}

function pct(x, digits = 1) {
  return `${(x * 100).toFixed(digits)} %`;
}
