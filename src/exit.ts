/** Exit codes (SPEC §2), one meaning each. The only table that maps error codes to them. */
import type { ErrorCode } from './errors.js';
import type { JobResult } from './job/runner.js';

export const EXIT = {
  OK: 0,
  SOME_FAILED: 1,
  USAGE: 2,
  API: 3,
  STOPPED: 4,
} as const;

export const EXIT_HELP = `Exit codes:
  0  every row completed, or skipped as already paid by a completed transaction (validate: every row valid)
  1  finished, but some rows are failed, invalid, unknown, or skipped as maybe paid
  2  usage or input error: bad option, unreadable/invalid file, job locked, job already finished; nothing was submitted
  3  API access error: key rejected (401), base URL unreachable, unusable response at start-up, answers that cannot be read
  4  stopped early and resumable: balance short, interrupted by a signal, rows still processing at --poll-timeout, a wait longer than --max-wait, a local disk failure after sending,
     the input file changed or disappeared during the run`;

/** One of the five exit codes of SPEC §2. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * Every error code's exit code: exhaustive (a `Record` over ErrorCode), so a new code does not
 * compile until it has one — it can never fall to exit 2 by default.
 */
export const EXIT_FOR: Readonly<Record<ErrorCode, ExitCode>> = {
  USAGE: EXIT.USAGE,
  CONFIG_INVALID: EXIT.USAGE,
  FILE_NOT_FOUND: EXIT.USAGE,
  FILE_UNREADABLE: EXIT.USAGE,
  FILE_EMPTY: EXIT.USAGE,
  FILE_NO_DATA: EXIT.USAGE,
  FILE_BINARY: EXIT.USAGE,
  FILE_ENCODING: EXIT.USAGE,
  FILE_IS_OUTPUT: EXIT.USAGE,
  CSV_PARSE: EXIT.USAGE,
  HEADER_MISSING_COLUMN: EXIT.USAGE,
  HEADER_AMBIGUOUS: EXIT.USAGE,
  HEADER_MAP_INVALID: EXIT.USAGE,
  OPERATORS_FILE_INVALID: EXIT.USAGE,
  MAX_TOTAL_EXCEEDED: EXIT.USAGE,
  JOB_NOT_FOUND: EXIT.USAGE,
  JOB_LOCKED: EXIT.USAGE,
  JOB_FINISHED: EXIT.USAGE,
  JOB_MISMATCH: EXIT.USAGE,
  JOB_CORRUPT: EXIT.USAGE,
  LOCAL_IO: EXIT.USAGE,
  API_UNAUTHORIZED: EXIT.API,
  API_UNREACHABLE: EXIT.API,
  API_TIMEOUT: EXIT.API,
  API_BAD_RESPONSE: EXIT.API,
  API_ERROR: EXIT.API,
  API_RATE_LIMITED: EXIT.API,
  API_UNREADABLE: EXIT.API,
  INSUFFICIENT_BALANCE: EXIT.STOPPED,
  INTERRUPTED: EXIT.STOPPED,
  POLL_TIMEOUT: EXIT.STOPPED,
  RATE_LIMITED: EXIT.STOPPED,
  LOCAL_IO_STOPPED: EXIT.STOPPED,
  INPUT_CHANGED: EXIT.STOPPED,
  INTERNAL: EXIT.STOPPED,
};

/**
 * The exit code of an error code. A code that is not one (only a value cast past the type
 * could be) is treated as a bug: exit 4, the journal intact, resumable.
 */
export function exitCodeFor(code: ErrorCode): ExitCode {
  return Object.hasOwn(EXIT_FOR, code) ? EXIT_FOR[code] : EXIT_FOR.INTERNAL;
}

export function exitCodeForResult(r: JobResult): ExitCode {
  if (r.stopped) return exitCodeFor(r.stopped.code);
  const c = r.counts;
  if (c.pending + c.processing > 0) return EXIT.STOPPED;
  // SPEC §5a: a skipped row is a success only as ALREADY_PAID of a completed transaction
  return c.failed + c.invalid + c.unknown + r.repeats.unsettled > 0 ? EXIT.SOME_FAILED : EXIT.OK;
}
