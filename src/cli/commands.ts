/** Every command, in the order `--help` lists them (SPEC §2). */
import { run } from './run.js';
import { validate } from './validate.js';
import { resume } from './resume.js';
import { retry } from './retry.js';
import { watch } from './watch.js';
import { status } from './status.js';
import { jobs } from './jobs.js';
import { report } from './report.js';
import { balance } from './balance.js';
import { operators } from './operators.js';
import { sandbox } from './sandbox.js';
import { demo } from './demo.js';

export const COMMANDS = [
  run,
  validate,
  resume,
  retry,
  watch,
  status,
  jobs,
  report,
  balance,
  operators,
  sandbox,
  demo,
] as const;
