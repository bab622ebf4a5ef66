/** Shared by the benchmarks (not a benchmark itself: bench/run.mjs skips it). */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, renameSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { dirname, join } from 'node:path';

/** The value after `--name` on the command line, or `def` when the option is not there. */
export function cliArg(name, def) {
  const i = process.argv.indexOf(name);
  return i === -1 ? def : process.argv[i + 1];
}

/** Exits with one line when the build output the benchmarks load (`root`/dist) is missing. */
export function requireBuild(root, bench) {
  if (existsSync(join(root, 'dist/index.js'))) return;
  console.error(`bench/${bench}: dist/index.js is missing; run \`npm run build\` first`);
  process.exit(1);
}

/**
 * Writes `header` and then `lineFor(i)` for i < rows, streamed in 64 KiB pieces, to a temp
 * file renamed into place when complete (an interrupted run leaves no half file to reuse).
 */
export async function writeGeneratedCsv(file, header, rows, lineFor) {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const out = createWriteStream(tmp);
  let buf = `${header}\n`;
  for (let i = 0; i < rows; i++) {
    buf += `${lineFor(i)}\n`;
    if (buf.length > 1 << 16) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
  renameSync(tmp, file);
}

/**
 * Runs `node [nodeFlags] <script> --child ...args` (a benchmark running one case of itself in a
 * fresh process) and resolves with the JSON object on the last line of its stdout; rejects
 * with its stderr, naming the case `name`, when it exits with anything but 0.
 */
export function runScriptChild(scriptUrl, args, { nodeFlags = [], name = args.join(' ') } = {}) {
  return new Promise((resolveChild, reject) => {
    const p = spawn(process.execPath, [...nodeFlags, fileURLToPath(scriptUrl), '--child', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code, signal) => {
      if (code !== 0) reject(new Error(`child ${name} exited with ${code ?? signal}:\n${stderr}`));
      else resolveChild(JSON.parse(stdout.trim().split('\n').pop()));
    });
  });
}
