/** `run <csv>` (SPEC §2): validate, check the balance, submit, poll, write results; resumes this file's unfinished job. */
import { csvPositional, COMMON, ENGINE, FILE, type Command } from './command.js';
import { jobCommand } from './engine.js';
import { readHead } from '../csv/encoding.js';

export const run: Command<{ csv: string }> = {
  command: 'run <csv>',
  describe: "validate, check the balance, submit, poll and write results; resumes this file's unfinished job",
  uses: [...ENGINE, ...FILE, 'job', 'out', ...COMMON],
  builder: csvPositional,
  run: async (a, o, cli) => {
    // a missing or unreadable file is the first thing to hear, before the key or the API
    await readHead(a.csv);
    return jobCommand('run', a.csv, o, {}, cli.io, cli.stopSignal());
  },
};
