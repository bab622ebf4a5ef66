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
import { BatchError } from './errors.js';
import { mask } from './api/mask.js';
import { parseDuration, parseRate, type Rate } from './util/units.js';
import { PLANS, type Plan } from './limit/limiter.js';
import { parseMapOption, type ColumnMap } from './validate/index.js';
import { OPTIONS, OPTION_NAMES, envName, type OptionName, type OptionSpec } from './config/options.js';
import { readConfigFile } from './config/file.js';

export { OPTIONS, OPTION_NAMES, envName, isOptionName } from './config/options.js';
export type { OptionName, OptionSpec, Kind } from './config/options.js';

/** Where a value came from, so a message sends the user to the right place. */
type Source = { kind: 'flag' } | { kind: 'env'; name: string } | { kind: 'file'; path: string };

/** How a message names an option from each source: `--plan`, `RECHARGE_BATCH_PLAN`, `"plan" (in --config f.json)`. */
function label(name: OptionName, from: Source): string {
  if (from.kind === 'env') return from.name;
  if (from.kind === 'file') return `"${name}" (in --config ${from.path})`;
  return `--${name}`;
}

const PLAN_NAMES = ['starter', 'business', 'enterprise'] as const;

/** The typed options, from the values as given (text, number, boolean or list per kind). */
function schema(l: (name: OptionName) => string) {
  const text = z.string().optional();
  const duration = (name: OptionName) => z.string().transform((v) => parseDuration(v, l(name)));
  // 0 would poll back to back (using the rate meant for sending) or time every request out at once
  const aboveZero = (name: OptionName, example: string) =>
    duration(name).transform((ms) => {
      if (ms > 0) return ms;
      throw new BatchError('USAGE', `${l(name)} 0: give a time above zero, e.g. ${example}`);
    });
  const flag = z.boolean();
  return z.object({
    /** trimmed: a key pasted with a newline is sent (and echoed) without it */
    apiKey: text.transform((v) => (v?.trim() ? v.trim() : undefined)),
    baseUrl: z.string(),
    plan: z.string().transform((v): Plan => {
      const p = v.trim().toLowerCase();
      if ((PLAN_NAMES as readonly string[]).includes(p)) return p as Plan;
      throw new BatchError('USAGE', `unknown ${l('plan')} ${shown(v)}: use starter, business or enterprise`);
    }),
    /** `--rate-limit` parsed; undefined: the plan's */
    rateLimit: text.transform((v) => (v ? parseRate(v, l('rate-limit')) : undefined)),
    concurrency: z.number().transform((n) => {
      if (Number.isInteger(n) && n >= 1) return n;
      throw new BatchError(
        'USAGE',
        `${l('concurrency')} ${n}: give a whole number of requests at once, at least 1 (e.g. --concurrency 4)`,
      );
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
      .transform((v): ColumnMap => parseMapOption(v)),
    repeatWindowMs: duration('repeat-window'),
    allowRepeat: flag,
    /** `HOST:PORT`, parsed where the receiver is made */
    webhookListen: text,
    webhookPath: z.string(),
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
  const configPath = typeof flags.config === 'string' ? flags.config : env[envName('config')] || undefined;
  const file = configPath ? readConfigFile(configPath, ownKeys) : {};
  const raw: Record<string, unknown> = {};
  const sources = new Map<OptionName, Source>();
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
            ? [file[name], { kind: 'file', path: configPath! }]
            : [spec.default, { kind: 'flag' }];
    sources.set(name, from);
    raw[OPTION_KEYS[name]] = coerce(name, spec, value, from);
  }
  raw.stateDir ??= defaultStateDir(env);
  const parsed = schema((name) => label(name, sources.get(name)!)).safeParse(raw);
  if (!parsed.success) {
    // a shape the kinds above let through (they check each kind): name the option all the same
    const key = parsed.error.issues[0]?.path[0];
    const name = OPTION_NAMES.find((n) => OPTION_KEYS[n] === key) ?? 'config';
    throw new BatchError('CONFIG_INVALID', `${label(name, sources.get(name)!)} is not usable: see --help`);
  }
  return parsed.data;
}

const boolText = z.union([
  z.boolean(),
  z
    .enum(['1', 'true', 'yes', 'on', '0', 'false', 'no', 'off'])
    .transform((v) => ['1', 'true', 'yes', 'on'].includes(v)),
]);
const numText = z.union([
  z.number().finite(),
  z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/)
    .transform(Number),
]);
/** `--map` as a list (`["number=Phone"]`, `number=Phone,amount=Taka`) or, in a config file, an object `{ "number": "Phone" }`. */
const mapValue = z.union([
  z.array(z.string()),
  z.string().transform((s) => s.split(',').map((x) => x.trim())),
  z.record(z.string(), z.string()).transform((o) => Object.entries(o).map(([role, col]) => `${role}=${col}`)),
]);
const textValue = z.union([z.string(), z.number().transform(String)]);
/** text with its unit; a bare number only as 0 (a JSON `5` in a config file is refused, as `--poll-every 5` is) */
const durationValue = z.union([z.string(), z.literal(0).transform(() => '0')]);

/** What a value of each kind looks like, and an example, for the message that refuses one. */
function expected(name: string, spec: OptionSpec): { what: string; example: string; shape: string } {
  const n = typeof spec.default === 'number' ? spec.default : 100;
  if (spec.kind === 'number')
    return { what: 'a number', example: `--${name} ${n}`, shape: `a number, like "${name}": ${n}` };
  if (spec.kind === 'boolean')
    return {
      what: 'true or false',
      example: `--${name} or --no-${name}`,
      shape: `true or false, like "${name}": true`,
    };
  if (name === 'map')
    return {
      what: 'ROLE=Column',
      example: '--map "number=Mobile No"',
      shape: 'a list like ["number=Mobile No"] or an object like {"number": "Mobile No"}',
    };
  if (spec.kind === 'duration')
    return {
      what: 'a duration',
      example: `--${name} 15s`,
      shape: `a duration with its unit, like "${name}": "15s"`,
    };
  return { what: 'text', example: `--${name} VALUE`, shape: `text, like "${name}": "…"` };
}

/** A value as given → the form of its kind. @throws BatchError CONFIG_INVALID naming where it came from */
function coerce(name: OptionName, spec: OptionSpec, value: unknown, from: Source): unknown {
  if (value === undefined || value === null) return undefined;
  const schema = {
    boolean: boolText,
    number: numText,
    array: mapValue,
    duration: durationValue,
    string: textValue,
  }[spec.kind];
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const { what, example, shape } = expected(name, spec);
  if (value === true)
    throw new BatchError('CONFIG_INVALID', `--${name} needs a value: write it like ${example}`);
  // a config file's content is never quoted back (it may hold a secret by mistake): name the key only
  if (from.kind === 'file')
    throw new BatchError(
      'CONFIG_INVALID',
      `--config ${from.path}: "${name}" must be ${shape}; fix the file or leave that key out`,
      { path: from.path },
    );
  const typed = name === 'api-key' ? '' : ` ${shown(value)}`;
  const where = from.kind === 'env' ? `${from.name}${typed ? `=${typed.trim()}` : ''}` : `--${name}${typed}`;
  throw new BatchError('CONFIG_INVALID', `${where} is not ${what}: write it like ${example}`);
}

/** A value the user typed, shown as typed (a single line, not too long). */
function shown(value: unknown): string {
  // masked: a key pasted into the wrong option or variable is still never printed
  const text = mask(Array.isArray(value) ? value.join(' ') : String(value));
  const line = text.replace(/[\r\n]+/g, ' ');
  return JSON.stringify(line.length > 40 ? `${line.slice(0, 40)}…` : line);
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
