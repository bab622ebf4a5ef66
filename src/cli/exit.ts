/** Exit codes (SPEC §2), one meaning each. The only table that maps error codes to them. */
import type { ErrorCode } from '../errors.js';
import type { JobResult } from '../job/runner.js';

export const EXIT = {
  OK: 0,
  SOME_FAILED: 1,
  USAGE: 2,
  API: 3,
  STOPPED: 4,
} as const;

export const EXIT_HELP = `Exit codes:
  0  every row completed (validate: every row valid)
  1  finished, but some rows are failed, invalid or unknown
  2  usage or input error: bad option, unreadable/invalid file, job locked, job already finished; nothing was submitted
  3  API access error: key rejected (401), base URL unreachable, unusable response at start-up
  4  stopped early and resumable: balance short, interrupted by a signal, rows still processing at --poll-timeout`;

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'API_UNAUTHORIZED':
    case 'API_UNREACHABLE':
    case 'API_TIMEOUT':
    case 'API_BAD_RESPONSE':
    case 'API_ERROR':
      return EXIT.API;
    case 'INSUFFICIENT_BALANCE':
    case 'INTERRUPTED':
    case 'POLL_TIMEOUT':
    case 'INTERNAL':
      return EXIT.STOPPED;
    default:
      return EXIT.USAGE;
  }
}

export function exitCodeForResult(r: JobResult): number {
  if (r.stopped) return exitCodeFor(r.stopped.code);
  const c = r.counts;
  if (c.pending + c.processing > 0) return EXIT.STOPPED;
  return c.failed + c.invalid + c.unknown > 0 ? EXIT.SOME_FAILED : EXIT.OK;
}
