// A contender for the lock race test (test/e2e/lock-race.test.ts). It reads one JSON command
// per line on stdin: {dir, at} → wait until the wall-clock instant `at` (shared by every
// contender, so they all try at once), try the lock of `dir`, print {ok, code, pid};
// "release" → release the lock taken in the last round, print "released".
import { createInterface } from 'node:readline';

const { acquireLock } = await import(process.env.LOCK_MODULE);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
let lock = null;

/** Sleeps until shortly before `at`, then spins: a timer alone would scatter the start by ms. */
function waitUntil(at) {
  const sleepMs = at - Date.now() - 3;
  if (sleepMs > 0) Atomics.wait(sleeper, 0, 0, sleepMs);
  while (Date.now() < at);
}

for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'release') {
    await lock?.release();
    lock = null;
    process.stdout.write('released\n');
    continue;
  }
  const { dir, at } = JSON.parse(line);
  waitUntil(at);
  try {
    lock = await acquireLock(dir, 'race');
    process.stdout.write(JSON.stringify({ ok: true, pid: process.pid }) + '\n');
  } catch (err) {
    process.stdout.write(
      JSON.stringify({ ok: false, code: err.code ?? String(err), pid: process.pid }) + '\n',
    );
  }
}
