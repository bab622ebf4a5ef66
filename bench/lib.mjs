/** Shared by the benchmarks (not a benchmark itself: bench/run.mjs skips it). */
import { createWriteStream, mkdirSync, renameSync } from 'node:fs';
import { once } from 'node:events';
import { dirname } from 'node:path';

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
