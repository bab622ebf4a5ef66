/** `resume <job>` (SPEC §2): continue a stopped job — submit pending rows, poll processing rows. */
import { jobPositional, COMMON, ENGINE, type Command } from './command.js';
import { jobCommand } from './engine.js';
import { resolveJob } from './target.js';

export const resume: Command<{ job: string }> = {
  command: 'resume <job>',
  describe: 'continue a stopped job: submit pending rows, poll processing rows',
  uses: [...ENGINE, 'out', ...COMMON],
  builder: jobPositional,
  run: async (a, o, cli) =>
    jobCommand('resume', await resolveJob(a.job, o.stateDir, 'resume'), o, {}, cli.io, cli.stopSignal()),
};
