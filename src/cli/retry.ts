/** `retry <job>` (SPEC §2): resubmit failed rows as a new attempt, with new references. */
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
        'also resend unknown rows with their original reference (only safe if the API rejects or replays a reused reference)',
    }),
  run: async (a, o, cli) =>
    jobCommand(
      'retry',
      await resolveJob(a.job, o.stateDir, 'retry'),
      o,
      { includeUnknown: a['include-unknown'] },
      cli.io,
      cli.stopSignal(),
    ),
};
