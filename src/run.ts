/**
 * runJob, resumeJob and retryJob as the library (`src/index.ts`) and the CLI call them: the
 * job engine (`job/run.ts`) with its results written as CSVs by `report/results.ts`, unless
 * the caller passes a `writeResults` of its own. The engine never imports `report/`; this is
 * where the two meet (docs/design.md, "Import direction").
 */
import * as engine from './job/run.js';
import type { ResultsWriter } from './job/outputs.js';
import { writeResults } from './report/results.js';

export type { JobResult } from './job/run.js';

/** The engine's options, the results writer optional (default: the CSVs of SPEC §4). */
type WithWriter<T> = Omit<T, 'writeResults'> & {
  /** writes the results, failed and unknown CSVs; default `writeResults` of report/results.ts */
  writeResults?: ResultsWriter;
};
export type EngineOptions = WithWriter<engine.EngineOptions>;
export type RunJobOptions = WithWriter<engine.RunJobOptions>;

const withWriter = <T extends { writeResults?: ResultsWriter }>(opts: T) => ({
  ...opts,
  writeResults: opts.writeResults ?? writeResults,
});

/**
 * `run <csv>`: a new job for this file, or the resumption of its unfinished one (SPEC §2, §5).
 * @throws BatchError as `job/run.ts` runJob: JOB_FINISHED, JOB_MISMATCH, USAGE, FILE_*, MAX_TOTAL_EXCEEDED, …
 */
export function runJob(opts: RunJobOptions): Promise<engine.JobResult> {
  return engine.runJob(withWriter(opts));
}

/** `resume <job>`: submit its pending rows, poll its processing rows. @throws BatchError JOB_NOT_FOUND, JOB_MISMATCH, … */
export function resumeJob(opts: EngineOptions & { job: string }): Promise<engine.JobResult> {
  return engine.resumeJob(withWriter(opts));
}

/**
 * `retry <job>`: failed rows (and with `includeUnknown`, unknown rows) become pending again
 * (SPEC §2). @throws BatchError JOB_NOT_FOUND, JOB_MISMATCH, …
 */
export function retryJob(
  opts: EngineOptions & { job: string; includeUnknown?: boolean },
): Promise<engine.JobResult> {
  return engine.retryJob(withWriter(opts));
}
