#!/usr/bin/env node
/**
 * The command line (SPEC §2): yargs, strict. The only place that prints for humans and turns
 * errors into exit codes. Each command is in `src/cli/<command>.ts` and names the options it
 * uses; this file wires them: `--help` of a command lists its own options, then the shared
 * ones it uses; the shared options it does not use are accepted and ignored (README "Options").
 */
import { readFileSync } from 'node:fs';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import {
  OPTIONS,
  OPTION_NAMES,
  envName,
  resolveOptions,
  type OptionName,
  type OptionSpec,
} from './config.js';
import { BatchError, isBatchError, localIoError } from './errors.js';
import { apiHint, apiHintText, legacyStateDirNotice, redactingIo, type Io } from './cli/context.js';
import type { CliEnv, Command } from './cli/command.js';
import { EXIT, EXIT_HELP, exitCodeFor } from './exit.js';
import { checkSendableKey } from './api/key.js';
import { usageLine } from './cli/usage.js';
import { endOfOptions, optionWords, type EndOfOptions } from './cli/end-of-options.js';
import { COMMANDS } from './cli/commands.js';
import { stopSignal } from './cli/signals.js';
import {
  allOwnOptionNames,
  ownFromConfig,
  ownOptionNames,
  refusedByCoerce,
  yargsOptions,
} from './cli/own-options.js';

const version = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

// A closed pipe (`recharge-batch jobs | head -1`) or a terminal that hung up (EIO: the window
// closed, the SSH session dropped) must not crash the process, least of all in the middle of a
// batch: output is dropped, the work and the exit code go on.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'EIO') throw err;
  });
}

let resolvedKey: string | undefined;
let resolvedBaseUrl: string | undefined;
const shown: Io = redactingIo(() => resolvedKey);
/** whether anything went to stdout: with --json, the one object is out (see exitAtOnce) */
let outWritten = false;
const io: Io = {
  ...shown,
  out: (line) => {
    outWritten = true;
    shown.out(line);
  },
};
/** the options as typed, the words before `--` (src/cli/end-of-options.ts) */
const typedOptions = optionWords(hideBin(process.argv));
let debug = typedOptions.includes('--debug');
/**
 * `--json` promises one object on stdout for every run, so a JSON log has a line for every
 * night: a command that ends in an error (exit 2, 3, 4 before a summary exists) prints
 * `{ exit_code, error: { code, message } }`. Set from the resolved options (flag, environment
 * or config file); before they are resolved (a usage error), from the command line itself.
 */
let jsonMode =
  typedOptions.includes('--json') || /^(1|true|yes)$/i.test(process.env.RECHARGE_BATCH_JSON ?? '');
let exitCode: number = EXIT.OK;

const cli: CliEnv = {
  io,
  stopSignal: () => stopSignal({ io, json: () => jsonMode, outWritten: () => outWritten }),
};

function reportError(err: unknown): number {
  const code = reportLine(err);
  if (jsonMode) {
    const e = err as { code?: unknown; message?: unknown };
    const errorCode = isBatchError(err) ? err.code : 'INTERNAL';
    // the same hint as the human line (a wrong base URL), in its own field
    const hint = isBatchError(err) ? apiHintText(err, resolvedBaseUrl) : undefined;
    const error = { code: errorCode, message: String(e?.message ?? err), ...(hint ? { hint } : {}) };
    io.out(JSON.stringify({ exit_code: code, error }));
  }
  return code;
}

/** `--debug`: the stack, then each `cause` the error was rewrapped from, so the first failure shows. */
function printStack(err: unknown): void {
  if (!debug) return;
  let e: unknown = err;
  for (let depth = 0; e && depth < 10; depth++) {
    const text = e instanceof Error ? (e.stack ?? e.message) : String(e);
    io.err(depth === 0 ? text : `caused by: ${text}`);
    e = e instanceof Error ? e.cause : undefined;
  }
}

function reportLine(err: unknown): number {
  if (isBatchError(err)) {
    io.err(`error: ${err.message}${apiHint(err, resolvedBaseUrl)}`);
    printStack(err);
    return exitCodeFor(err.code);
  }
  // a disk that is full or read-only is not a bug: one line naming the path (SPEC §5 additions);
  // errors after a POST was sent have already been turned into LOCAL_IO_STOPPED by the runner
  const local = localIoError(err, false);
  if (local) {
    io.err(`error: ${local.message}`);
    printStack(err);
    return exitCodeFor(local.code);
  }
  const e = err as Error;
  io.err(
    `internal error (this is a bug, please report it): ${e?.message ?? String(err)}; the job's journal is intact — run again to resume`,
  );
  printStack(err);
  return EXIT.STOPPED;
}

/** A shared option as yargs takes it; its help text names its default and environment variables. */
function sharedOption(name: OptionName, hidden: boolean) {
  const spec: OptionSpec = OPTIONS[name];
  const envs = [envName(name), ...(spec.env ?? [])].join(', ');
  return {
    // numbers reach config.ts as typed, so `--concurrency abc` can be answered with "abc", not "NaN"
    ...(spec.kind === 'number'
      ? { requiresArg: true }
      : { type: spec.kind === 'duration' ? ('string' as const) : spec.kind }),
    // `--out` at the end of the line, its value forgotten, was taken as '' and silently ignored
    // (the default results path, the plan's rate, the default job name): it needs a value
    ...(spec.kind !== 'boolean' ? { requiresArg: true } : {}),
    describe: `${spec.describe}${spec.default !== undefined && name !== 'base-url' ? ` [default: ${String(spec.default)}]` : ''} [env ${envs}]`,
    ...(spec.kind === 'array' ? { string: true } : {}),
    hidden,
  };
}

const FORMS = COMMANDS.map((c) => c.command);
/** The options of the command being run (own and shared), for "did you mean" on a misspelt one. */
let knownOptions: string[] = [];
/** Its options that take no value, so its positionals can be told from option values. */
let flagOptions: string[] = [];
/** Every command's own options: a config file may hold them too (README "Options"). */
let ownKeys: string[] | undefined;
const allOwnKeys = () => (ownKeys ??= allOwnOptionNames(COMMANDS));

/**
 * One command on yargs: its positionals and own options first (their own group in --help),
 * then the shared options it uses; the shared options it does not use are hidden and ignored.
 */
function wire<A>(y: Argv, def: Command<A>, args: string[], words: EndOfOptions): void {
  const name = def.command.split(' ')[0]!;
  /** a config-file value of this command's own options that was refused, said when it runs */
  let refused: BatchError | undefined;
  y.command<A>(
    def.command,
    def.describe,
    (c) => {
      const b = def.builder ? def.builder(c) : c;
      const { key, hiddenOptions, boolean } = yargsOptions(b);
      const positionals = [...def.command.matchAll(/<(\w+)>/g)].map((m) => m[1]!);
      const own = Object.keys(key).filter(
        (k) => !['help', 'version', ...positionals].includes(k) && !hiddenOptions.includes(k),
      );
      // the config file's values for this command's own options, below its command line
      const fromFile = ownFromConfig(b, args, ownOptionNames(b, def.command), allOwnKeys());
      refused = fromFile.refused;
      if (Object.keys(fromFile.values).length > 0) b.config(fromFile.values);
      if (own.length > 0) b.group(own, `Options of ${name}:`);
      const shared = def.uses.filter((n) => !own.includes(n));
      // a shared option named like a positional (`--job` beside `report <job>`) would replace the
      // positional in --help: the positional wins, the option is not declared for this command
      for (const n of OPTION_NAMES)
        if (!positionals.includes(n) && (!(n in key) || !own.includes(n)))
          b.option(n, sharedOption(n, !shared.includes(n) || n in key));
      b.group(shared, 'Options (flag > environment > --config file > default):');
      // its own and shared options first: on a tie, the one this command uses is meant
      knownOptions = [...new Set([...own, ...shared, ...OPTION_NAMES])];
      flagOptions = [...boolean, ...OPTION_NAMES.filter((n) => OPTIONS[n].kind === 'boolean')];
      return b;
    },
    async (argv) => {
      if (refused) throw refused;
      const o = resolveOptions(argv, process.env, def.uses, allOwnKeys());
      resolvedKey = o.apiKey;
      resolvedBaseUrl = o.baseUrl;
      debug = o.debug;
      jsonMode = o.json;
      // a key that cannot be sent is refused by every command that takes one, before anything
      // else, with one line: `report` would otherwise call it another account's job, and a
      // sandbox started with it could never be authenticated against (src/api/key.ts)
      if (def.uses.includes('api-key') && o.apiKey !== undefined) checkSendableKey(o.apiKey);
      if (def.uses.includes('state-dir')) await legacyStateDirNotice(o.stateDir, io);
      // the words after `--` come back in place of their stand-ins (src/cli/end-of-options.ts)
      const a = argv as Record<string, unknown>;
      for (const p of def.command.matchAll(/<(\w+)>/g)) a[p[1]!] = words.restore(a[p[1]!]);
      exitCode = await def.run(argv, o, cli);
    },
  );
}

/**
 * The command word first: options written before it (`recharge-batch --quiet run june.csv`, a
 * cron line) move after it, where the command knows which of them take no value. At the top
 * level yargs does not know that `--quiet` is a yes/no option and takes `run` as its value.
 * It is given the words before `--` only (src/cli/end-of-options.ts): nothing moves past it.
 */
export function commandFirst(args: string[]): string[] {
  const names = new Set(FORMS.map((f) => f.split(' ')[0]!));
  const flags = new Set([
    'help',
    'version',
    'h',
    ...OPTION_NAMES.filter((n) => OPTIONS[n].kind === 'boolean'),
  ]);
  let i = 0;
  while (i < args.length && args[i]!.startsWith('-') && args[i] !== '--') {
    const name = args[i]!.replace(/^--?(no-)?/, '');
    i += name.includes('=') || flags.has(name) ? 1 : 2;
  }
  if (i === 0 || i >= args.length || !names.has(args[i]!)) return args;
  return [args[i]!, ...args.slice(0, i), ...args.slice(i + 1)];
}

export function buildCli(rawArgs: string[]): Argv {
  const words = endOfOptions(rawArgs, new Set(FORMS.map((f) => f.split(' ')[0]!)), commandFirst);
  const args = words.args;
  const y = yargs(args)
    .scriptName('recharge-batch')
    .usage(
      '$0 <command> [options]\n\nTop up Bangladeshi mobile numbers from a CSV through the Alsamiflexi Pro API — every row exactly once.',
    )
    .strict()
    .version(version)
    .help()
    .alias('h', 'help')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .epilogue(EXIT_HELP)
    .demandCommand(1, 'name a command, e.g. `recharge-batch validate payroll.csv`')
    .recommendCommands()
    .fail((msg, err) => {
      // yargs' own errors (YError: "Not enough arguments following: x") are usage errors, not bugs
      if (err && err.name !== 'YError') throw err;
      // an own option's number refused by its coerce: its line as it was (src/cli/own-options.ts)
      const own = refusedByCoerce(msg ?? err?.message ?? '');
      if (own) throw own;
      const line = usageLine(msg ?? err?.message ?? '', args, {
        commands: FORMS,
        options: knownOptions,
        flags: flagOptions,
      });
      throw new BatchError('USAGE', words.restoreText(line), {}, { cause: err });
    });
  for (const def of COMMANDS) wire(y, def, args, words);
  return y;
}

async function main(): Promise<void> {
  try {
    await buildCli(hideBin(process.argv)).parseAsync();
  } catch (err) {
    exitCode = reportError(err);
  }
  process.exitCode = exitCode;
  // let stdout drain, then leave even if a keep-alive socket lingers
  setTimeout(() => process.exit(exitCode), 50).unref();
}

void main();
