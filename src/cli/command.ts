/**
 * What a command is (SPEC §2): its yargs form, the options it uses, and what it does with
 * them. Each command lives in `src/cli/<command>.ts`; `src/cli.ts` wires them to yargs.
 */
import type { ArgumentsCamelCase, Argv } from 'yargs';
import type { OptionName, ResolvedOptions } from '../config.js';
import type { Io } from './context.js';

/** What every command gets besides its options: output, and the stop signal of SIGINT/SIGTERM/SIGHUP. */
export interface CliEnv {
  io: Io;
  /** installs the SIGINT/SIGTERM/SIGHUP handlers; call once, when the command starts its work */
  stopSignal(): AbortSignal;
}

export interface Command<A = object> {
  /** yargs' form: `run <csv>` */
  command: string;
  describe: string;
  /** the shared options this command reads: `--help` lists these, after the command's own */
  uses: readonly OptionName[];
  /** the command's positionals and own options (typed: yargs infers `A` from them) */
  builder?: (y: Argv) => Argv<A>;
  /** @returns the exit code (src/exit.ts) */
  run(args: ArgumentsCamelCase<A>, options: ResolvedOptions, cli: CliEnv): Promise<number>;
}

/** Every command reads these: where more options come from, and how errors are shown. */
export const COMMON = ['config', 'debug'] as const satisfies readonly OptionName[];

/** A command that makes a few API calls: key, address, and the account's shared rate limit. */
export const API = [
  'api-key',
  'base-url',
  'plan',
  'rate-limit',
  'redis',
  'request-timeout',
  'max-wait',
] as const satisfies readonly OptionName[];

/** A command that runs the job engine (run, resume, retry, watch): SPEC §2, §5, §5a, §10. */
export const ENGINE = [
  ...API,
  'concurrency',
  'state-dir',
  'poll-after',
  'poll-every',
  'poll-timeout',
  'allow-partial',
  'reference-dedup',
  'repeat-window',
  'allow-repeat',
  'webhook-listen',
  'webhook-path',
  'log-file',
  'bom',
  'json',
  'quiet',
] as const satisfies readonly OptionName[];

/** How a new job reads its file (run, watch): SPEC §3. */
export const FILE = [
  'operators',
  'map',
  'allow-duplicates',
  'max-total',
] as const satisfies readonly OptionName[];

export const JOB_DESCRIBE = 'the job name (see `recharge-batch jobs`) or the CSV the job was made from';

/** A `<job>` positional (status, resume, retry, report). */
export function jobPositional(y: Argv) {
  return y.positional('job', { type: 'string', demandOption: true, describe: JOB_DESCRIBE });
}

/** A `<csv>` positional (run, validate). */
export function csvPositional(y: Argv) {
  return y.positional('csv', { type: 'string', demandOption: true, describe: 'the input CSV' });
}
