/** `retry <job>` (SPEC §2): resubmit failed rows as a new attempt, with new references. */
import { BatchError } from '../errors.js';
import { jobPositional, COMMON, ENGINE, type Command } from './command.js';
import { jobCommand } from './engine.js';
import { resolveJob } from './target.js';

export const retry: Command<{ job: string; 'include-unknown': boolean }> = {
  command: 'retry <job>',
  describe: 'resubmit failed rows as a new attempt (new references)',
  uses: [...ENGINE, 'out', ...COMMON],
  builder: (y) =>
    jobPositional(y).option('include-unknown', {
      type: 'boolean',
      default: false,
      describe:
        'also resend unknown rows with their original reference; needs --reference-dedup (safe only if the API rejects or replays a reused reference)',
    }),
  run: async (a, o, cli) => {
    // An unknown row may have been paid. Resending it with its reference is safe only when the
    // API refuses or replays a reused reference — what --reference-dedup declares (SPEC §5);
    // without that declaration the resend could pay the number twice, so nothing is sent.
    if (a['include-unknown'] && !o.referenceDedup) throw new BatchError('USAGE', UNKNOWN_NEEDS_DEDUP);
    return jobCommand(
      'retry',
      await resolveJob(a.job, o.stateDir, 'retry'),
      o,
      { includeUnknown: a['include-unknown'] },
      cli.io,
      cli.stopSignal(),
    );
  },
};

const UNKNOWN_NEEDS_DEDUP =
  'retry --include-unknown resends rows that may already have been paid, with their first reference: ' +
  'add --reference-dedup only if Alsamiflexi refuses or replays a reused reference; otherwise check ' +
  'each row of the .unknown.csv with Alsamiflexi, and pay the ones it never received from a new CSV ' +
  'with --allow-repeat. Nothing was sent.';
