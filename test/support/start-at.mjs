// Preload (node --import) for race tests: holds the process until the wall-clock instant in
// RB_START_AT (ms since the epoch), so several processes run their first line of real code at
// once. It sleeps until just before the instant, then spins: a timer alone would scatter them.
const at = Number(process.env.RB_START_AT);
if (at > 0) {
  const ms = at - Date.now() - 3;
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  while (Date.now() < at);
}
