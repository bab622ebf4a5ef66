/**
 * The one check that no file the tool writes is the input it reads (SPEC §4): the results,
 * failed and unknown CSVs of a job, the report of `validate --out`. Used before anything is
 * sent or written.
 */
import { promises as fsp } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { BatchError } from '../errors.js';

/**
 * Refuses outputs that would replace the input file (SPEC §4), comparing real paths (and the
 * file's identity, for hard links), before anything is sent.
 * @throws BatchError USAGE naming the output
 */
/** The paths to check, by what they are (named so in the message). */
export type OutputPaths = Partial<Record<'results' | 'failed' | 'unknown' | 'report', string>>;

export async function refuseInputAsOutput(input: string, outputs: OutputPaths): Promise<void> {
  const inputReal = await fsp.realpath(input).catch(() => resolve(input));
  const inputStat = await fsp.stat(input).catch(() => null);
  const names: Record<string, string> = {
    results: 'the results CSV',
    failed: 'the failed-rows CSV',
    unknown: 'the unknown-rows CSV',
    report: 'the report (--out)',
  };
  for (const [key, path] of Object.entries(outputs) as [string, string][]) {
    const what = names[key] ?? key;
    const real = await fsp
      .realpath(path)
      .catch(async () => join(await fsp.realpath(dirname(path)).catch(() => dirname(path)), basename(path)));
    const st = await fsp.stat(path).catch(() => null);
    const sameFile =
      st !== null && inputStat !== null && st.dev === inputStat.dev && st.ino === inputStat.ino;
    if (real === inputReal || sameFile) {
      throw new BatchError(
        'USAGE',
        `${what} would be ${path}, which is the input file itself; choose another --out; nothing was sent`,
        { path },
      );
    }
  }
}
