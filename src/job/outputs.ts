/**
 * Where a job's outputs go (SPEC §4): the results CSV and the failed- and unknown-rows CSVs
 * beside it, named after the input or after `--out`; the job remembers its results path
 * (`job.json` `results`), so `resume`, `retry` and `report` write where `run` did. And the
 * shape of the writer that fills them: the engine calls it through
 * `EngineOptions.writeResults`, so `job/` never imports `report/` (docs/design.md, "Import
 * direction"); `report/results.ts` is the one the library and the CLI pass.
 */
import { access } from 'node:fs/promises';
import { constants } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { BatchError } from '../errors.js';
import type { JobMeta } from './job.js';
import type { RowState } from './rows.js';

/** Absolute paths of a job's three CSVs. */
export interface Outputs {
  results: string;
  /** written only when some rows are failed or invalid; removed (if this job wrote it) when none are */
  failed: string;
  /** written only when some rows are unknown; removed (if this job wrote it) when none are */
  unknown: string;
}

export interface WrittenResults {
  results: string;
  /** null when no row is failed or invalid (and no failed CSV of this job exists) */
  failed: string | null;
  /** null when no row is unknown (and no unknown CSV exists) */
  unknown: string | null;
  /** rows written to the failed CSV: failed and invalid ones, not DUPLICATE_ROW (SPEC §4); absent from other writers */
  failedRows?: number;
  /** why the input could not be used (changed or gone): the files came from the job's record */
  inputChanged: string | null;
  /** one line each: a failed/unknown CSV of another job replaced, or a stale one not this job's left as it is */
  warnings?: string[];
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
  /** `jobDir`: the job's state directory, where it records which files it wrote (report/owned.ts) */
  options: { bom?: boolean; jobDir?: string },
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
 * The folder of the results CSV `file` exists and is writable: found before anything is sent,
 * not at the end. @throws BatchError USAGE naming the folder
 */
export async function checkWritable(file: string): Promise<void> {
  const dir = dirname(file);
  try {
    await access(dir, constants.W_OK);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'is not writable';
    throw new BatchError(
      'USAGE',
      `the results cannot be written: folder ${dir} ${why} (choose another with --out); nothing was sent`,
      {},
      { cause: err },
    );
  }
}
