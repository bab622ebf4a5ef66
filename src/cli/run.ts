/** `run <csv>` (SPEC §2): validate, check the balance, submit, poll, write results; resumes this file's unfinished job. */
import { csvPositional, COMMON, ENGINE, FILE, type Command } from './command.js';
import { jobCommand } from './engine.js';

export const run: Command<{ csv: string }> = {
  command: 'run <csv>',
  describe: "validate, check the balance, submit, poll and write results; resumes this file's unfinished job",
  uses: [...ENGINE, ...FILE, 'job', 'out', ...COMMON],
  builder: csvPositional,
  run: (a, o, cli) => jobCommand('run', a.csv, o, {}, cli.io, cli.stopSignal()),
};
