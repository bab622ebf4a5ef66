#!/usr/bin/env node
/** `npm run bench`: every bench/*.mjs except this one, in sequence, each in its own process. */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const here = dirname(self);
const scripts = readdirSync(here)
  .filter((f) => f.endsWith('.mjs') && f !== basename(self) && f !== 'lib.mjs')
  .sort();
let failed = 0;
for (const script of scripts) {
  console.log(`\n== bench/${script}`);
  const p = spawnSync(process.execPath, [join(here, script), ...process.argv.slice(2)], { stdio: 'inherit' });
  if (p.status !== 0) {
    failed++;
    console.error(`bench/${script} exited with ${p.status ?? p.signal}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
