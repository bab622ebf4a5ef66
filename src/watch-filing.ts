/**
 * Where `watch` files a file whose job has ended (SPEC §10): `done/` with its results, failed and
 * unknown CSVs beside it, or `rejected/` with the one line that refused it. A file filed in
 * `done/` stays its job's input: the job is told its new place (job/refile.ts), so `resume`,
 * `retry` and `report` of it work as they did before the move — a job whose skipped rows a later
 * resume can settle (SPEC §5a) is finished only as far as the watch is concerned.
 */
import { promises as fsp } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { BatchError } from './errors.js';
import { refileJob } from './job/refile.js';
import { OwnedOutputs } from './report/owned.js';
import type { JobResult } from './run.js';

export interface Filed {
  /** every file moved, at its new path (the input first) */
  paths: string[];
  /** old path → new path, for each file moved */
  renamed: Map<string, string>;
}

/**
 * Moves the input and those of `outputs` that exist into `<dir>/<to>/`, under one stem that is
 * free for all of them (`payroll.csv`, then `payroll-2.csv` …), so a re-dropped file never
 * overwrites the record of an earlier one. With `errorLine`, writes `<stem>.error.txt` too.
 * @throws BatchError INTERNAL naming the file when a move fails (the job itself is safe)
 */
export async function moveTogether(
  input: string,
  outputs: string[],
  to: 'done' | 'rejected',
  errorLine?: string,
): Promise<Filed> {
  try {
    return await moveAll(input, outputs, to, errorLine);
  } catch (err) {
    // the job itself has ended and is safe in its journal; only the filing failed
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new BatchError(
      'INTERNAL',
      `${input} could not be moved to ${to}/ (${why}); its job has ended — move it by hand, then run watch again`,
      { path: input },
      { cause: err },
    );
  }
}

/**
 * Tells the job of `result` where `filed` put its input and results (and moves its record of the
 * files it wrote along, report/owned.ts, so a later `report` still knows them for its own).
 * @returns `result` with the new paths; a warning in it when the job could not be told
 */
export async function refile(stateDir: string, result: JobResult, filed: Filed): Promise<JobResult> {
  const to = (p: string | null): string | null => (p === null ? null : (filed.renamed.get(p) ?? p));
  const moved = {
    ...result,
    results: to(result.results)!,
    failed: to(result.failed),
    unknown: to(result.unknown),
  };
  try {
    await refileJob(
      stateDir,
      result.job,
      { input: filed.paths[0]!, results: filed.renamed.get(result.results) },
      async (jobDir) => {
        const owned = new OwnedOutputs(jobDir);
        await owned.load();
        for (const [from, dest] of filed.renamed) owned.moved(from, dest);
        await owned.save();
      },
    );
    return moved;
  } catch (err) {
    const why = (err as Error).message;
    const warning = `job ${result.job} could not be told that its file moved to ${filed.paths[0]} (${why}): to resume or report it, put the file back where it was first`;
    return { ...moved, warnings: [...(result.warnings ?? []), warning] };
  }
}

async function moveAll(
  input: string,
  outputs: string[],
  to: 'done' | 'rejected',
  errorLine?: string,
): Promise<Filed> {
  const folder = join(resolve(input, '..'), to);
  await fsp.mkdir(folder, { recursive: true });
  const ext = extname(input);
  const base = basename(input, ext);
  const present: { from: string; suffix: string }[] = [];
  for (const out of outputs) {
    if (!(await exists(out))) continue;
    const name = basename(out);
    const suffix = name.startsWith(`${base}.`) ? name.slice(base.length) : `.${name}`;
    present.push({ from: out, suffix });
  }
  const suffixes = [ext, ...present.map((p) => p.suffix), ...(errorLine !== undefined ? ['.error.txt'] : [])];
  let stem = base;
  for (let n = 2; (await Promise.all(suffixes.map((s) => exists(join(folder, stem + s))))).some(Boolean); n++)
    stem = `${base}-${n}`;
  const paths = [join(folder, stem + ext)];
  const renamed = new Map<string, string>();
  await fsp.rename(input, paths[0]!);
  renamed.set(resolve(input), paths[0]!);
  for (const p of present) {
    const dest = join(folder, stem + p.suffix);
    await fsp.rename(p.from, dest);
    paths.push(dest);
    renamed.set(resolve(p.from), dest);
  }
  if (errorLine !== undefined) {
    const dest = join(folder, `${stem}.error.txt`);
    await fsp.writeFile(dest, `${errorLine}\n`);
    paths.push(dest);
  }
  return { paths, renamed };
}

async function exists(path: string): Promise<boolean> {
  return fsp.access(path).then(
    () => true,
    () => false,
  );
}
