/**
 * Options resolved once into one typed object (SPEC §2; STYLE "options compiled once"):
 * flag > environment (`RECHARGE_BATCH_<NAME>`, and the listed aliases) > `--config` file >
 * default (src/defaults.ts). Each command names the options it uses; the others take their
 * default whatever the environment or a config file says, so a file shared by every command
 * cannot break one that does not use a key of it.
 */
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { BatchError, isBatchError, type ErrorCode } from './errors.js';
import { readDuration, readRate, type Rate } from './util/units.js';
import { PLANS, type Plan } from './limit/limiter.js';
import { parseMapOption, type ColumnMap } from './validate/index.js';
import { OPTIONS, OPTION_NAMES, envName, type OptionName, type OptionSpec } from './config/options.js';
import { readConfigFile } from './config/file.js';
import { badValue, givenAs, type ConfigFile, type Example, type Source } from './config/source.js';
import { MAP_EXAMPLE, coerce } from './config/kinds.js';
import { parseListen } from './job/webhooks.js';

export { OPTIONS, OPTION_NAMES, envName, isOptionName } from './config/options.js';
export type { OptionName, OptionSpec, Kind } from './config/options.js';

/** Refuses the value of `name`, naming where it came from (src/config/source.ts). */
type Refuse = (name: OptionName, problem: string, example: Example, code?: ErrorCode) => BatchError;

const PLAN_NAMES = ['starter', 'business', 'enterprise'] as const;

/** The typed options, from the values as given (text, number, boolean or list per kind). */
function schema(refuse: Refuse) {
  const text = z.string().optional();
  const duration = (name: OptionName) =>
    z.string().transform((v) => {
      const r = readDuration(v);
      if (r.ok) return r.value;
      // a file's own digits are not echoed back: its example is the default
      throw refuse(name, r.problem, {
        flag: r.example,
        env: r.example,
        file: JSON.stringify((OPTIONS[name] as OptionSpec).default ?? '15s'),
      });
    });
  // 0 would poll back to back (using the rate meant for sending) or time every request out at once
  const aboveZero = (name: OptionName, example: string) =>
    duration(name).transform((ms) => {
      if (ms > 0) return ms;
      throw refuse(name, 'is not a time above zero', example);
    });
  const flag = z.boolean();
  return z.object({
    /** trimmed: a key pasted with a newline is sent (and echoed) without it */
    apiKey: text.transform((v) => (v?.trim() ? v.trim() : undefined)),
    baseUrl: z.string(),
    plan: z.string().transform((v): Plan => {
      const p = v.trim().toLowerCase();
      if ((PLAN_NAMES as readonly string[]).includes(p)) return p as Plan;
      throw refuse('plan', 'is not a plan (starter, business or enterprise)', 'business');
    }),
    /** `--rate-limit` parsed; undefined: the plan's */
    rateLimit: text.transform((v) => {
      if (!v) return undefined;
      const r = readRate(v);
      if (r.ok) return r.value;
      throw refuse('rate-limit', r.problem, r.example);
    }),
    concurrency: z.number().transform((n) => {
      if (Number.isInteger(n) && n >= 1) return n;
      throw refuse('concurrency', 'is not a whole number of requests at once, at least 1', 4);
    }),
    job: text,
    stateDir: z.string(),
    out: text,
    pollAfterMs: duration('poll-after'),
    pollEveryMs: aboveZero('poll-every', '30s'),
    pollTimeoutMs: duration('poll-timeout'),
    requestTimeoutMs: aboveZero('request-timeout', '30s'),
    maxWaitMs: duration('max-wait'),
    allowDuplicates: flag,
    allowPartial: flag,
    /** BDT */
    maxTotal: z.number().optional(),
    referenceDedup: flag,
    redis: text,
    /** path of the operator list file */
    operators: text,
    map: z
      .array(z.string())
      .optional()
      .transform((v): ColumnMap => {
        try {
          return parseMapOption(v);
        } catch (err) {
          // its message quotes the pair; a config file's content is not quoted back
          if (!isBatchError(err)) throw err;
          const role = err.context.role;
          const problem =
            role === undefined
              ? `is not understood (ROLE=Column, where ROLE is one of number, amount, operator, reference)`
              : `gives the ${String(role)} column twice`;
          throw refuse('map', problem, MAP_EXAMPLE, err.code);
        }
      }),
    repeatWindowMs: duration('repeat-window'),
    allowRepeat: flag,
    /** `HOST:PORT`, checked here so a bad one is named where it was given (parsed where the receiver is made) */
    webhookListen: text.transform((v) => {
      if (v === undefined) return v;
      try {
        parseListen(v);
      } catch {
        throw refuse('webhook-listen', 'is not HOST:PORT', '0.0.0.0:8081');
      }
      return v;
    }),
    webhookPath: z.string().transform((v) => {
      if (v.startsWith('/')) return v;
      throw refuse('webhook-path', 'does not start with "/"', '/webhooks/alsamiflexi');
    }),
    logFile: text,
    json: flag,
    quiet: flag,
    bom: flag,
    debug: flag,
    config: text,
  });
}

/** Every option, typed: durations in ms, the rate parsed, integers checked, the state dir resolved. */
export type ResolvedOptions = z.output<ReturnType<typeof schema>>;

/** Option name → its key in {@link ResolvedOptions}. */
export const OPTION_KEYS = {
  'api-key': 'apiKey',
  'base-url': 'baseUrl',
  plan: 'plan',
  'rate-limit': 'rateLimit',
  concurrency: 'concurrency',
  job: 'job',
  'state-dir': 'stateDir',
  out: 'out',
  'poll-after': 'pollAfterMs',
  'poll-every': 'pollEveryMs',
  'poll-timeout': 'pollTimeoutMs',
  'request-timeout': 'requestTimeoutMs',
  'max-wait': 'maxWaitMs',
  'allow-duplicates': 'allowDuplicates',
  'allow-partial': 'allowPartial',
  'max-total': 'maxTotal',
  'reference-dedup': 'referenceDedup',
  redis: 'redis',
  operators: 'operators',
  map: 'map',
  'repeat-window': 'repeatWindowMs',
  'allow-repeat': 'allowRepeat',
  'webhook-listen': 'webhookListen',
  'webhook-path': 'webhookPath',
  'log-file': 'logFile',
  json: 'json',
  quiet: 'quiet',
  bom: 'bom',
  debug: 'debug',
  config: 'config',
} as const satisfies Record<OptionName, keyof ResolvedOptions>;

/**
 * Merges flag > env > config file > default for the options in `uses` (every option when
 * omitted); the others take their default. Reads the `--config` file (flag or
 * RECHARGE_BATCH_CONFIG) whatever `uses` says, so its errors are never silent.
 * @param flags what the command line gave, by long option name (undefined: not given)
 * @param ownKeys the options of single commands a config file may also hold (`settle`, `port` …;
 *   src/cli/own-options.ts reads them for their command)
 * @throws BatchError CONFIG_INVALID or USAGE (exit 2) naming the flag, variable or file key
 */
export function resolveOptions(
  flags: Partial<Record<string, unknown>>,
  env: NodeJS.ProcessEnv = process.env,
  uses: readonly OptionName[] = OPTION_NAMES,
  ownKeys: readonly string[] = [],
): ResolvedOptions {
  const configFile = configFileOf(flags, env);
  const file = configFile ? readConfigFile(configFile, ownKeys) : {};
  const raw: Record<string, unknown> = {};
  const sources = new Map<OptionName, [Source, unknown]>();
  for (const name of OPTION_NAMES) {
    const spec: OptionSpec = OPTIONS[name];
    const envKey = [envName(name), ...(spec.env ?? [])].find((k) => env[k] !== undefined && env[k] !== '');
    const used = uses.includes(name) || name === 'config';
    const [value, from]: [unknown, Source] =
      used && flags[name] !== undefined
        ? [flags[name], { kind: 'flag' }]
        : used && envKey !== undefined
          ? [env[envKey], { kind: 'env', name: envKey }]
          : used && file[name] !== undefined
            ? [file[name], { kind: 'file', file: configFile! }]
            : [spec.default, { kind: 'flag' }];
    sources.set(name, [from, value]);
    raw[OPTION_KEYS[name]] = coerce(name, spec, value, from);
  }
  raw.stateDir ??= defaultStateDir(env);
  const refuse: Refuse = (name, problem, example, code) => {
    const [from, value] = sources.get(name)!;
    return badValue(name, from, value, problem, example, code);
  };
  const parsed = schema(refuse).safeParse(raw);
  if (!parsed.success) {
    // a shape the kinds above let through (they check each kind): name the option all the same
    const key = parsed.error.issues[0]?.path[0];
    const name = OPTION_NAMES.find((n) => OPTION_KEYS[n] === key) ?? 'config';
    const [from, value] = sources.get(name)!;
    throw new BatchError('CONFIG_INVALID', `${givenAs(name, from, value)} is not usable: see --help`);
  }
  return parsed.data;
}

/**
 * The config file in force: `--config` on the command line, else RECHARGE_BATCH_CONFIG (SPEC
 * §2), remembering which, so messages name it as the user gave it.
 */
export function configFileOf(
  flags: Partial<Record<string, unknown>>,
  env: NodeJS.ProcessEnv = process.env,
): ConfigFile | undefined {
  const given = flags.config;
  const flag = Array.isArray(given) ? (given.at(-1) as unknown) : given;
  if (typeof flag === 'string') return { path: flag, fromEnv: false };
  const fromEnv = env[envName('config')];
  return fromEnv ? { path: fromEnv, fromEnv: true } : undefined;
}

/**
 * The state dir when `--state-dir` and RECHARGE_BATCH_STATE_DIR are not set (SPEC §2):
 * `$XDG_STATE_HOME/recharge-batch`, else `~/.local/state/recharge-batch` — never relative to the
 * working folder, so a cron job or another folder finds the same jobs and registry.
 */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_STATE_HOME;
  // the XDG spec ignores a relative value
  if (xdg && isAbsolute(xdg)) return join(xdg, 'recharge-batch');
  return join(env.HOME || homedir(), '.local', 'state', 'recharge-batch');
}

/**
 * The rate limit in force (SPEC §2, §6): `--rate-limit`, else the plan's.
 * @throws BatchError USAGE for `--plan enterprise` without `--rate-limit` (its limits are custom)
 */
export function planRate(o: Pick<ResolvedOptions, 'plan' | 'rateLimit'>): Rate {
  if (o.rateLimit) return o.rateLimit;
  if (o.plan === 'enterprise')
    throw new BatchError('USAGE', '--plan enterprise has custom limits: give --rate-limit (e.g. 600/min)');
  return PLANS[o.plan];
}
