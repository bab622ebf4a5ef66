#!/usr/bin/env node
/**
 * `npm run test:stress [-- --runs N --load K --suite test/unit]`: runs a test suite N times
 * while K busy processes load the CPU, the way a shared CI machine is loaded, and reports
 * every test that failed in any run. A test that fails here and not on a quiet machine
 * depends on timing: fix it (fake timers or the injected clock), never retry it.
 * Not part of `npm test`: it takes minutes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const runs = Number(opt('runs', 5));
const load = Number(opt('load', 2));
const suite = opt('suite', 'test/unit');

// each busy process checks every 200 ms that this script is still alive, so none outlives it
const hog = `for (;;) { const t = Date.now() + 200; while (Date.now() < t); try { process.kill(${process.pid}, 0) } catch { process.exit() } }`;
const hogs = Array.from({ length: load }, () => spawn(process.execPath, ['-e', hog], { stdio: 'ignore' }));
const stopHogs = () => hogs.forEach((h) => h.kill('SIGKILL'));
process.on('exit', stopHogs);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

const failures = new Map();
let failedRuns = 0;
const dir = mkdtempSync(join(tmpdir(), 'stress-'));
// a figure means little without the load it was taken under: the machine may be shared
const loadNow = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(', ');
console.log(
  `running ${suite} ${runs} times with ${load} busy process(es) loading the CPU (load average ${loadNow()})`,
);
for (let i = 1; i <= runs; i++) {
  const out = join(dir, `run-${i}.json`);
  const t0 = Date.now();
  const r = spawnSync('npx', ['vitest', 'run', suite, '--reporter=json', `--outputFile=${out}`], {
    stdio: 'ignore',
  });
  let report;
  try {
    report = JSON.parse(readFileSync(out, 'utf8'));
  } catch {
    console.log(`run ${i}: no report (exit ${r.status})`);
    failedRuns++;
    continue;
  }
  const failed = report.testResults.flatMap((f) =>
    f.assertionResults
      .filter((a) => a.status === 'failed')
      .map((a) => `${f.name.replace(process.cwd() + '/', '')} > ${a.fullName}`),
  );
  if (failed.length > 0 || r.status !== 0) failedRuns++;
  for (const name of failed) failures.set(name, (failures.get(name) ?? 0) + 1);
  console.log(
    `run ${i}: ${report.numPassedTests} passed, ${report.numFailedTests} failed (${((Date.now() - t0) / 1000).toFixed(0)} s)`,
  );
}
console.log(`load average at the end: ${loadNow()}`);
stopHogs();
if (failures.size === 0 && failedRuns === 0) {
  console.log(`no failure in ${runs} runs`);
} else {
  console.log(`${failedRuns} of ${runs} runs failed:`);
  for (const [name, n] of failures) console.log(`  ${n}× ${name}`);
  process.exitCode = 1;
}
