/**
 * Where a job's outputs go (SPEC §4): the results CSV and the failed- and unknown-rows CSVs
 * beside it, named after the input or after `--out`; the job remembers its results path
 * (`job.json` `results`), so `resume`, `retry` and `report` write where `run` did. And the
 * shape of the writer that fills them: the engine calls it through
 * `EngineOptions.writeResults`, so `job/` never imports `report/` (docs/design.md, "Import
 * direction"); `report/results.ts` is the one the library and the CLI pass.
 */
import { promises as fsp } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { BatchError } from '../errors.js';
import type { JobMeta } from './job.js';
import type { RowState } from './rows.js';

/** Absolute paths of a job's three CSVs. */
export interface Outputs {
  results: string;
  failed: string;
  /** written only when some rows are unknown; removed when none are */
  unknown: string;
}

export interface WrittenResults {
  results: string;
  failed: string;
  /** null when no row is unknown (and no unknown CSV exists) */
  unknown: string | null;
  /** why the input could not be used (changed or gone): the files came from the job's record */
  inputChanged: string | null;
}

/**
 * Writes the three files of `outputs` for `rows` (indexed by row number); `bom` starts each
 * with a UTF-8 BOM. Throws the fs error of an output that cannot be written, never because of
 * the input. `writeResults` of `report/results.ts` is the one the library and the CLI use.
 */
export type ResultsWriter = (
  meta: JobMeta,
  rows: RowState[],
  outputs: Outputs,
  options: { bom?: boolean },
) => Promise<WrittenResults>;

/**
 * `<input dir>/<basename>.results.csv`, with `.failed.csv` and `.unknown.csv` beside it; with
 * `out`, the results there and the others beside it, named after it (`x.results.csv` → `x`).
 */
export function defaultOutputs(inputPath: string, out?: string): Outputs {
  const results = out
    ? resolve(out)
    : join(dirname(inputPath), `${basename(inputPath, extname(inputPath))}.results.csv`);
  const base = basename(results).replace(/(\.results)?\.csv$/i, '');
  return {
    results,
    failed: join(dirname(results), `${base}.failed.csv`),
    unknown: join(dirname(results), `${base}.unknown.csv`),
  };
}

/** A job's outputs: `out` when given, else the results path the job remembers (SPEC §4). */
export function jobOutputs(meta: { input: { path: string }; results?: string }, out?: string): Outputs {
  return defaultOutputs(meta.input.path, out ?? meta.results);
}

/**
 * Refuses outputs that would replace the input file (SPEC §4), comparing real paths (and the
 * file's identity, for hard links), before anything is sent.
 * @throws BatchError USAGE naming the output
 */
export async function refuseInputAsOutput(
  input: string,
  outputs: Outputs | { report: string },
): Promise<void> {
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
