/**
 * A job's input and results moved by `watch` (SPEC §10: a finished file goes to `done/` with its
 * results beside it): the job is told where they are now, so `resume`, `retry` and `report` find
 * the input (same bytes, so the hash still matches) and write where the results now are, instead
 * of refusing "the input … is missing" and writing a nameless results file into the incoming
 * folder. Under the job's lock (SPEC §5 "one process per job"), written atomically.
 */
import { acquireLock } from './lock.js';
import { jobPaths, readMeta } from './job.js';
import { writeFileAtomic } from '../util/fs.js';

/**
 * Records `input` (absolute path) as job `job`'s input and `results` (absolute) as its results
 * path, then runs `alsoUnderLock`. Returns false, changing nothing, when the job does not exist.
 * @throws BatchError JOB_LOCKED when another process holds the job; fs errors of job.json
 */
export async function refileJob(
  stateDir: string,
  job: string,
  moved: { input: string; results?: string },
  /** more to bring up to date under the same lock (the record of the files the job wrote) */
  alsoUnderLock?: (jobDir: string) => Promise<void>,
): Promise<boolean> {
  const paths = jobPaths(stateDir, job);
  const lock = await acquireLock(paths.dir, job);
  try {
    const meta = await readMeta(paths);
    if (!meta) return false;
    meta.input.path = moved.input;
    if (moved.results) meta.results = moved.results;
    await writeFileAtomic(paths.meta, JSON.stringify(meta, null, 2) + '\n');
    await alsoUnderLock?.(paths.dir);
    return true;
  } finally {
    await lock.release();
  }
}
