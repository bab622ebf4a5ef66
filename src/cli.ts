#!/usr/bin/env node
/**
 * The command line (SPEC §2): yargs, strict. The only place that prints for humans and turns
 * errors into exit codes; every command is a thin layer over the library.
 */
import { readFileSync } from 'node:fs';
import { setMaxListeners } from 'node:events';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { OPTIONS, durationOption, envName, resolveOptions, type OptionSpec } from './config.js';
import { BatchError, isBatchError, localIoError } from './errors.js';
import {
  NO_KEY,
  apiContext,
  apiHint,
  apiKey,
  legacyStateDirNotice,
  redactingIo,
  type Io,
  type Options,
} from './cli/context.js';
import { EXIT, EXIT_HELP, exitCodeFor } from './cli/exit.js';
import { jobCommand } from './cli/jobs.js';
import { balanceCommand, jobsCommand, operatorsCommand, reportCommand, statusCommand } from './cli/info.js';
import { demoCommand, sandboxCommand, type SandboxArgs } from './cli/sandbox.js';
import { validateCommand } from './cli/validate.js';
import { watchCommand } from './cli/watch.js';
import { resolveJob } from './cli/target.js';
import { loadOperatorsFile, parseMapOption } from './validate/index.js';

const version = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

// A closed pipe (`recharge-batch jobs | head -1`) must not crash the process, least of all in
// the middle of a batch: output is dropped, the work and the exit code go on.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

let resolvedKey: string | undefined;
let resolvedBaseUrl: unknown;
const io: Io = redactingIo(() => resolvedKey);
let debug = process.argv.includes('--debug');

/** SIGINT/SIGTERM: the first asks the command to stop cleanly, the second exits at once. */
function stopSignal(): AbortSignal {
  const ac = new AbortController();
  // each wait in progress listens to it (requests, polls, sleeps): many at once is no leak
  setMaxListeners(0, ac.signal);
  let count = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      io.err(`${sig}: stopping — no new requests; waiting for those in flight (send again to exit at once)`);
      ac.abort(new BatchError('INTERRUPTED', `interrupted by ${sig}`));
    } else {
      process.exit(EXIT.STOPPED);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return ac.signal;
}

function options(argv: Record<string, unknown>): Options {
  const o = resolveOptions(argv);
  // every duration is checked before anything else, so a typo is named before a job is looked up
  for (const name of ['poll-after', 'poll-every', 'poll-timeout', 'request-timeout'] as const)
    durationOption(o, name);
  resolvedKey = typeof o['api-key'] === 'string' ? o['api-key'] : undefined;
  resolvedBaseUrl = o['base-url'];
  debug = Boolean(o.debug);
  jsonMode = Boolean(o.json);
  return o;
}

/**
 * `--json` promises one object on stdout for every run, so a JSON log has a line for every
 * night: a command that ends in an error (exit 2, 3, 4 before a summary exists) prints
 * `{ exit_code, error: { code, message } }`. Set from the resolved options (flag, environment
 * or config file); before they are resolved (a usage error), from the command line itself.
 */
let jsonMode =
  hideBin(process.argv).includes('--json') || /^(1|true|yes)$/i.test(process.env.RECHARGE_BATCH_JSON ?? '');

/** Options of a command that reads or writes jobs: also points at jobs left in ./.recharge-batch. */
async function jobOptions(argv: Record<string, unknown>): Promise<Options> {
  const o = options(argv);
  await legacyStateDirNotice(String(o['state-dir']), io);
  return o;
}

let exitCode: number = EXIT.OK;

/** What yargs hands a command: positionals and options by name. */
type Args = Record<string, unknown> & { csv: string; job: string };

function handle(fn: (argv: Args) => Promise<number>) {
  return async (argv: unknown) => {
    exitCode = await fn(argv as Args);
  };
}

function report(err: unknown): number {
  const code = reportLine(err);
  if (jsonMode) {
    const e = err as { code?: unknown; message?: unknown };
    const errorCode = isBatchError(err) ? err.code : 'INTERNAL';
    io.out(
      JSON.stringify({ exit_code: code, error: { code: errorCode, message: String(e?.message ?? err) } }),
    );
  }
  return code;
}

function reportLine(err: unknown): number {
  if (isBatchError(err)) {
    io.err(`error: ${err.message}${apiHint(err, resolvedBaseUrl)}`);
    if (debug && err.stack) io.err(err.stack);
    return exitCodeFor(err.code);
  }
  // a disk that is full or read-only is not a bug: one line naming the path (SPEC §5 additions);
  // errors after a POST was sent have already been turned into LOCAL_IO_STOPPED by the runner
  const io2 = localIoError(err, false);
  if (io2) {
    io.err(`error: ${io2.message}`);
    return exitCodeFor(io2.code);
  }
  const e = err as Error;
  io.err(
    `internal error (this is a bug, please report it): ${e?.message ?? String(err)}; the job's journal is intact — run again to resume`,
  );
  if (debug && e?.stack) io.err(e.stack);
  return EXIT.STOPPED;
}

function globalOptions(y: Argv): Argv {
  for (const [name, spec] of Object.entries(OPTIONS) as [string, OptionSpec][]) {
    const envs = [envName(name), ...(spec.env ?? [])].join(', ');
    y.option(name, {
      // numbers reach config.ts as typed, so `--concurrency abc` can be answered with "abc", not "NaN"
      ...(spec.kind === 'number' ? { requiresArg: true } : { type: spec.kind }),
      describe: `${spec.describe}${spec.default !== undefined && name !== 'base-url' ? ` [default: ${String(spec.default)}]` : ''} [env ${envs}]`,
      global: true,
      ...(spec.kind === 'array' ? { string: true } : {}),
    });
  }
  return y.group(Object.keys(OPTIONS), 'Options (flag > environment > --config file > default):');
}

const JOB_DESCRIBE = 'the job name (see `recharge-batch jobs`) or the CSV the job was made from';
const JOB_COMMANDS = ['status', 'resume', 'retry', 'report'];
const FILE_COMMANDS = ['run', 'validate'];
const COMMANDS = [
  'run',
  'validate',
  'resume',
  'retry',
  'status',
  'jobs',
  'report',
  'balance',
  'operators',
  'sandbox',
  'demo',
  'watch',
];

/**
 * yargs' messages are written for programmers ("Not enough non-option arguments: got 0, need at
 * least 1"); this says the same for a payroll clerk: what is missing and what to type. Every
 * line ends by pointing at --help exactly once.
 */
export function usageLine(msg: string, args: string[]): string {
  const command = args.find((a) => !a.startsWith('-'));
  const help = (line: string) => (line.includes('--help') ? line : `${line} (see --help)`);
  if (/^Not enough non-option arguments/.test(msg) && command) {
    if (JOB_COMMANDS.includes(command))
      return `${command} needs a job name (or the job's input CSV): see \`recharge-batch jobs\``;
    if (FILE_COMMANDS.includes(command))
      return `${command} needs the CSV file, e.g. \`recharge-batch ${command} payroll.csv\``;
    if (command === 'watch')
      return 'watch needs the folder to watch, e.g. `recharge-batch watch /srv/payroll/incoming`';
  }
  const following = /^(?:Not enough arguments following|Missing argument value): (\S+)/.exec(msg);
  if (following) return help(`--${following[1]} needs a value`);
  const unknown = /^Unknown arguments?: (.+)$/.exec(msg);
  if (unknown) {
    const names = unknown[1]!.split(', ');
    if (command && names.includes(command) && !COMMANDS.includes(command))
      return help(`"${command}" is not a command: the commands are ${COMMANDS.join(', ')}`);
    return help(
      `${names.length === 1 ? 'unknown option' : 'unknown options'} ${names.map((n) => (n.length === 1 ? `-${n}` : `--${n}`)).join(', ')}`,
    );
  }
  const didYouMean = /^Did you mean (\S+)\?$/.exec(msg);
  if (didYouMean && command) return help(`"${command}" is not a command: did you mean ${didYouMean[1]}?`);
  const choices = /^Invalid values:\s+Argument: (\S+), Given: (.*), Choices: (.*)$/s.exec(msg);
  if (choices) return help(`--${choices[1]} ${choices[2]!.trim()} is not one of ${choices[3]!.trim()}`);
  return help(msg.replace(/\s*\n\s*/g, ' '));
}

export function buildCli(args: string[]): Argv {
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
      throw new BatchError('USAGE', usageLine(msg ?? err?.message ?? '', args));
    });
  globalOptions(y);

  y.command(
    'run <csv>',
    "validate, check the balance, submit, poll and write results; resumes this file's unfinished job",
    (c) => c.positional('csv', { type: 'string', describe: 'the input CSV' }),
    handle(async (a: Args) => jobCommand('run', a.csv, await jobOptions(a), {}, io, stopSignal())),
  );
  y.command(
    'validate <csv>',
    'validation only, nothing is submitted; --out writes the report CSV',
    (c) => c.positional('csv', { type: 'string', describe: 'the input CSV' }),
    handle(async (a: Args) => {
      const o = options(a);
      let operators;
      if (o.operators) operators = await loadOperatorsFile(String(o.operators));
      else {
        // the operator list (amount limits) comes from the API, or offline from a file
        apiKey(
          o,
          `${NO_KEY}; to check a file offline, give the operator list instead: --operators operators.json (saved from \`recharge-batch operators --json\`)`,
        );
        const ctx = apiContext(o);
        try {
          operators = await ctx.client.getOperators();
        } finally {
          await ctx.close();
        }
      }
      return validateCommand(
        {
          csv: a.csv,
          operators,
          map: parseMapOption(o.map as string[] | undefined),
          allowDuplicates: Boolean(o['allow-duplicates']),
          out: o.out ? String(o.out) : undefined,
          bom: o.bom !== false,
          json: Boolean(o.json),
          quiet: Boolean(o.quiet),
          maxTotal: o['max-total'] !== undefined ? Number(o['max-total']) : undefined,
        },
        io,
      );
    }),
  );
  y.command(
    'resume <job>',
    'continue a stopped job: submit pending rows, poll processing rows',
    (c) => c.positional('job', { type: 'string', describe: JOB_DESCRIBE }),
    handle(async (a: Args) => {
      const o = await jobOptions(a);
      return jobCommand(
        'resume',
        await resolveJob(a.job, String(o['state-dir']), 'resume'),
        o,
        {},
        io,
        stopSignal(),
      );
    }),
  );
  y.command(
    'retry <job>',
    'resubmit failed rows as a new attempt (new references)',
    (c) =>
      c.positional('job', { type: 'string', describe: JOB_DESCRIBE }).option('include-unknown', {
        type: 'boolean',
        describe:
          'also resend unknown rows with their original reference (only safe if the API rejects or replays a reused reference)',
      }),
    handle(async (a: Args) => {
      const o = await jobOptions(a);
      return jobCommand(
        'retry',
        await resolveJob(a.job, String(o['state-dir']), 'retry'),
        o,
        { includeUnknown: Boolean(a['include-unknown']) },
        io,
        stopSignal(),
      );
    }),
  );
  y.command(
    'watch <dir>',
    'run every *.csv that lands in <dir> as a job, one at a time: done/ or rejected/ after',
    (c) =>
      c
        .positional('dir', { type: 'string', describe: 'the folder the CSV files land in' })
        .option('once', {
          type: 'boolean',
          default: false,
          describe: 'process what is there now, then exit with the worst exit code (for cron)',
        })
        .option('settle', {
          type: 'string',
          default: '5s',
          describe: 'a file is taken once its size has not changed for this long',
        }),
    handle(async (a: Args) =>
      watchCommand(
        String(a.dir),
        options(a),
        { once: Boolean(a.once), settle: String(a.settle) },
        io,
        stopSignal(),
      ),
    ),
  );
  y.command(
    'status <job>',
    'counts and amounts by status, times, ETA',
    (c) => c.positional('job', { type: 'string', describe: JOB_DESCRIBE }),
    handle(async (a: Args) => {
      const o = await jobOptions(a);
      return statusCommand(await resolveJob(a.job, String(o['state-dir'])), o, io);
    }),
  );
  y.command(
    'jobs',
    'list the jobs in the state dir with their status',
    (c) => c,
    handle(async (a: Args) => jobsCommand(await jobOptions(a), io)),
  );
  y.command(
    'report <job>',
    '(re)write the results and failed CSVs from the checkpoint',
    (c) => c.positional('job', { type: 'string', describe: JOB_DESCRIBE }),
    handle(async (a: Args) => {
      const o = await jobOptions(a);
      return reportCommand(await resolveJob(a.job, String(o['state-dir']), 'report'), o, io);
    }),
  );
  y.command(
    'balance',
    'print the account balance',
    (c) => c,
    handle(async (a: Args) => balanceCommand(options(a), io)),
  );
  y.command(
    'operators',
    'print the operator list with amount limits',
    (c) => c,
    handle(async (a: Args) => operatorsCommand(options(a), io)),
  );
  y.command(
    'sandbox',
    'start the local API simulator',
    (c) =>
      c
        .option('port', { type: 'number', default: 8080, describe: 'port (0 = any free port)' })
        .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on' })
        .option('balance', { type: 'number', default: 50000, describe: 'starting balance (BDT)' })
        .option('window', {
          choices: ['fixed', 'sliding'] as const,
          default: 'fixed' as const,
          describe: 'rate-limit window kind',
        })
        .option('rate-limit-headers', {
          type: 'boolean',
          default: true,
          describe: 'send X-RateLimit-* headers',
        })
        .option('complete-after', {
          type: 'string',
          default: '3s',
          describe: 'processing → completed/failed after this long',
        })
        .option('fail-rate', {
          type: 'number',
          default: 0,
          describe: 'fraction of transactions the operator fails',
        })
        .option('error-rate', { type: 'number', default: 0, describe: 'fraction of requests answered 500' })
        .option('drop-rate', {
          type: 'number',
          default: 0,
          describe: 'fraction of recharges whose connection is cut after commit',
        })
        .option('latency', { type: 'string', default: '0ms', describe: 'delay before each answer' })
        .option('arrival-jitter', {
          type: 'string',
          default: '0ms',
          describe: 'delay each request a random 0..this before it arrives (network jitter)',
        })
        .option('seed', { type: 'number', default: 1, describe: 'seed of the fault generator' })
        .option('dedup', {
          choices: ['replay', 'reject', 'off'] as const,
          default: 'off' as const,
          describe: 'what a reused reference gets',
        })
        .option('webhook-url', { type: 'string', describe: 'POST transaction updates here' })
        // what real APIs do beyond the doc (SPEC §5 additions), to rehearse against
        .option('fault-no-status', {
          type: 'boolean',
          default: false,
          describe: 'POST answers carry the transaction id but no status (schema drift)',
        })
        .option('fault-encoding', {
          choices: ['gzip', 'deflate', 'br'] as const,
          describe: 'encode every answer so, though not asked for',
        })
        .option('fault-reset-format', {
          choices: ['epoch-s', 'epoch-ms', 'delta'] as const,
          default: 'epoch-s' as const,
          describe: 'how X-RateLimit-Reset is written',
        })
        .option('fault-retry-after-format', {
          choices: ['seconds', 'http-date'] as const,
          default: 'seconds' as const,
          describe: 'how Retry-After is written',
        })
        .option('fault-clock-skew', {
          type: 'string',
          default: '0ms',
          describe: "the server's clock runs this far ahead (its Date header, HTTP-date waits, epoch resets)",
        })
        .option('fault-rate-limited', {
          type: 'array',
          string: true,
          choices: ['balance', 'operators', 'recharge', 'transaction'],
          describe: 'these routes answer 429 forever',
        })
        .option('fault-retry-after', {
          type: 'string',
          describe: "the wait every 429 asks for (e.g. 1h), instead of the window's own",
        })
        .option('fault-echo-key', {
          type: 'boolean',
          default: false,
          describe: "error messages echo the request's Authorization header",
        })
        .option('fault-success-false', {
          type: 'number',
          default: 0,
          describe: 'fraction of recharges answered 200 {"success": false, …}, nothing charged',
        })
        .option('status-words', {
          type: 'string',
          describe:
            "the API's words for the statuses, e.g. completed=SUCCESS,failed=declined,processing=queued",
        })
        .option('webhook-duplicates', {
          type: 'number',
          default: 0,
          describe: 'extra copies of every webhook event',
        })
        .option('webhook-forge', {
          type: 'string',
          describe: 'this long after each commit, send a forged "completed" event (e.g. 200ms)',
        })
        .option('webhook-late', {
          type: 'string',
          describe: 'send every webhook event again this long after the first',
        }),
    handle(async (a: Args) => {
      const o = options(a);
      const args: SandboxArgs = {
        port: Number(a.port),
        host: String(a.host),
        apiKey: typeof o['api-key'] === 'string' ? o['api-key'] : undefined,
        balance: Number(a.balance),
        rateLimit: typeof o['rate-limit'] === 'string' ? o['rate-limit'] : '60/min',
        window: a.window as SandboxArgs['window'],
        completeAfter: String(a['complete-after']),
        failRate: Number(a['fail-rate']),
        errorRate: Number(a['error-rate']),
        dropRate: Number(a['drop-rate']),
        latency: String(a.latency),
        arrivalJitter: String(a['arrival-jitter']),
        seed: Number(a.seed),
        dedup: a.dedup as SandboxArgs['dedup'],
        webhookUrl: a['webhook-url'] as string | undefined,
        webhookDuplicates: Number(a['webhook-duplicates']),
        webhookForge: a['webhook-forge'] as string | undefined,
        webhookLate: a['webhook-late'] as string | undefined,
        rateLimitHeaders: Boolean(a['rate-limit-headers']),
        faults: {
          noStatus: Boolean(a['fault-no-status']),
          encoding: (a['fault-encoding'] as SandboxArgs['faults']['encoding']) ?? null,
          resetFormat: a['fault-reset-format'] as SandboxArgs['faults']['resetFormat'],
          retryAfterFormat: a['fault-retry-after-format'] as SandboxArgs['faults']['retryAfterFormat'],
          clockSkew: String(a['fault-clock-skew']),
          rateLimited: (a['fault-rate-limited'] as string[] | undefined) ?? [],
          retryAfter: a['fault-retry-after'] as string | undefined,
          echoKey: Boolean(a['fault-echo-key']),
          successFalseRate: Number(a['fault-success-false']),
          statusWords: a['status-words'] as string | undefined,
        },
      };
      return sandboxCommand(args, io, stopSignal());
    }),
  );
  y.command(
    'demo',
    'start an in-process sandbox and run the sample payroll batch against it',
    (c) => c,
    handle(async (a: Args) => {
      const o = options(a);
      return demoCommand({ json: Boolean(o.json), quiet: Boolean(o.quiet) }, io, stopSignal());
    }),
  );
  return y;
}

async function main(): Promise<void> {
  try {
    await buildCli(hideBin(process.argv)).parseAsync();
  } catch (err) {
    exitCode = report(err);
  }
  process.exitCode = exitCode;
  // let stdout drain, then leave even if a keep-alive socket lingers
  setTimeout(() => process.exit(exitCode), 50).unref();
}

void main();
