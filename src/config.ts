/**
 * Every option, documented once (SPEC §2). `--help` and the README table come from these
 * words. Precedence: flag > environment (`RECHARGE_BATCH_<NAME>`) > `--config` file > default.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { BatchError } from './errors.js';
import { mask } from './api/mask.js';
import { parseDuration, parseRate, type Rate } from './util/units.js';
import { PLANS, type Plan } from './limit/limiter.js';
import { DEFAULT_BASE_URL } from './api/types.js';

type Kind = 'string' | 'number' | 'boolean' | 'array';

export interface OptionSpec {
  kind: Kind;
  describe: string;
  default?: string | number | boolean;
  /** environment variable(s) besides RECHARGE_BATCH_<NAME> */
  env?: string[];
}

export const OPTIONS = {
  'api-key': {
    kind: 'string',
    describe: 'API key (prefer env ALSAMIFLEXI_API_KEY: a flag ends up in shell history)',
    env: ['ALSAMIFLEXI_API_KEY'],
  },
  'base-url': {
    kind: 'string',
    describe: 'API base URL',
    default: DEFAULT_BASE_URL,
    env: ['ALSAMIFLEXI_BASE_URL'],
  },
  plan: {
    kind: 'string',
    describe: 'account plan: starter (60/min), business (120/min), enterprise (needs --rate-limit)',
    default: 'starter',
  },
  'rate-limit': {
    kind: 'string',
    describe: 'requests per time, N/s or N/min (e.g. 60/min); overrides the plan',
  },
  concurrency: { kind: 'number', describe: 'max HTTP requests in flight', default: 4 },
  job: { kind: 'string', describe: 'job name (default <file basename>-<first 8 hex of sha256 of the file>)' },
  'state-dir': {
    kind: 'string',
    describe:
      'where jobs and the account registry live (default $XDG_STATE_HOME/recharge-batch, else ~/.local/state/recharge-batch; never the working folder)',
  },
  out: { kind: 'string', describe: 'results CSV (default <input dir>/<basename>.results.csv)' },
  'poll-after': { kind: 'string', describe: 'first status poll after submit', default: '15s' },
  'poll-every': { kind: 'string', describe: 'later polls (backing off up to 4x)', default: '30s' },
  'poll-timeout': {
    kind: 'string',
    describe: 'stop polling a row; it stays processing (exit 4)',
    default: '30m',
  },
  'request-timeout': { kind: 'string', describe: 'timeout of one HTTP request', default: '30s' },
  'max-wait': {
    kind: 'string',
    describe:
      'longest single wait the API may impose (429 Retry-After, rate-limit reset), and most time one request may be answered 429; longer: stop resumably (exit 4; exit 3 at start-up)',
    default: '5m',
  },
  'allow-duplicates': {
    kind: 'boolean',
    describe: "accept rows repeating an earlier row's number and amount",
    default: false,
  },
  'allow-partial': {
    kind: 'boolean',
    describe: 'start even if the balance cannot cover the whole batch',
    default: false,
  },
  'max-total': { kind: 'number', describe: 'refuse (exit 2) if valid rows add up to more BDT than this' },
  'reference-dedup': {
    kind: 'boolean',
    describe:
      'declare that the API rejects or replays a reused reference: ambiguous POSTs are resent with the same reference',
    default: false,
  },
  redis: {
    kind: 'string',
    describe: 'Redis URL: share the rate limit with every process using this API key',
  },
  operators: { kind: 'string', describe: 'JSON file with the operator list, for offline validate' },
  map: {
    kind: 'array',
    describe: 'column for a role when headers are unusual: number=Col amount=Col operator=Col reference=Col',
  },
  'repeat-window': {
    kind: 'string',
    describe:
      'how far back the account registry looks for an earlier payment of the same number and amount (0 = no check)',
    default: '7d',
  },
  'allow-repeat': {
    kind: 'boolean',
    describe: 'pay rows even if the account registry holds an earlier payment of the same number and amount',
    default: false,
  },
  'webhook-listen': {
    kind: 'string',
    describe:
      "HOST:PORT to receive the API's webhook events while a job runs: an event makes that transaction's status check due at once (polling stays, later, as the safety net)",
  },
  'webhook-path': {
    kind: 'string',
    describe: 'path of the webhook receiver',
    default: '/webhooks/alsamiflexi',
  },
  'log-file': {
    kind: 'string',
    describe: 'append a JSON-lines audit record per row state change and per job start/stop to this file',
  },
  json: { kind: 'boolean', describe: 'print one JSON summary object on stdout at the end', default: false },
  quiet: { kind: 'boolean', describe: 'no progress output', default: false },
  bom: {
    kind: 'boolean',
    describe:
      'start every CSV the tool writes with a UTF-8 BOM (Excel needs it for Bengali); --no-bom to omit it',
    default: true,
  },
  debug: { kind: 'boolean', describe: 'print stack traces of errors', default: false },
  config: { kind: 'string', describe: 'JSON file of options (keys as the long option names)' },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

export function envName(name: string): string {
  return `RECHARGE_BATCH_${name.toUpperCase().replace(/-/g, '_')}`;
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

/** Where a value came from, so the message can send the user to the right place. */
type Source = { kind: 'flag' } | { kind: 'env'; name: string } | { kind: 'file'; path: string };

/** What a value of each kind looks like, and an example, for the message that refuses one. */
function expected(name: string, spec: OptionSpec): { what: string; example: string } {
  if (spec.kind === 'number')
    return {
      what: 'a number',
      example: `--${name} ${typeof spec.default === 'number' ? spec.default : 100}`,
    };
  if (spec.kind === 'boolean') return { what: 'true or false', example: `--${name} or --no-${name}` };
  if (name === 'map') return { what: 'ROLE=Column', example: '--map "number=Mobile No"' };
  return { what: 'text', example: `--${name} VALUE` };
}

function coerce(name: string, spec: OptionSpec, value: unknown, from: Source): unknown {
  if (value === undefined || value === null) return undefined;
  const { kind } = spec;
  const schema =
    kind === 'boolean'
      ? boolText
      : kind === 'number'
        ? numText
        : kind === 'array'
          ? mapValue
          : z.union([z.string(), z.number().transform(String)]);
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const { what, example } = expected(name, spec);
  if (value === true)
    throw new BatchError('CONFIG_INVALID', `--${name} needs a value: write it like ${example}`);
  // a config file's content is never quoted back (it may hold a secret by mistake): name the key only
  if (from.kind === 'file') {
    const shape =
      name === 'map'
        ? 'a list like ["number=Mobile No"] or an object like {"number": "Mobile No"}'
        : kind === 'number'
          ? `a number, like "${name}": ${typeof spec.default === 'number' ? spec.default : 100}`
          : kind === 'boolean'
            ? `true or false, like "${name}": true`
            : `text, like "${name}": "…"`;
    throw new BatchError(
      'CONFIG_INVALID',
      `--config ${from.path}: "${name}" must be ${shape}; fix the file or leave that key out`,
      { path: from.path },
    );
  }
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
 * Reads a `--config` file: a JSON object keyed by long option names. Errors name the file and
 * what to do, never its content (SPEC §5 additions: a config error must not print a secret).
 */
function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' || code === 'ENOTDIR'
        ? 'there is no such file; check the name and folder, or leave --config out'
        : code === 'EISDIR'
          ? 'is a folder, not a JSON file'
          : code === 'EACCES' || code === 'EPERM'
            ? 'cannot be read (permission denied)'
            : `cannot be read (${code ?? 'read error'})`;
    throw new BatchError('CONFIG_INVALID', `--config ${path}: ${why}`, { path });
  }
  let file: unknown;
  try {
    file = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    // JSON.parse's own message may quote the text around the mistake: give the place only
    const pos = /position (\d+)/.exec((err as Error).message);
    let where = '';
    if (pos) {
      const before = text.slice(0, Number(pos[1]));
      const line = before.split('\n').length;
      where = ` (line ${line}, column ${before.length - before.lastIndexOf('\n')})`;
    }
    throw new BatchError(
      'CONFIG_INVALID',
      `--config ${path} is not valid JSON${where}: check the quotes, commas and braces`,
      { path },
    );
  }
  if (!file || typeof file !== 'object' || Array.isArray(file)) {
    throw new BatchError(
      'CONFIG_INVALID',
      `--config ${path} must hold one JSON object, like {"plan": "business"}`,
      { path },
    );
  }
  const obj = file as Record<string, unknown>;
  if ('api-key' in obj)
    throw new BatchError(
      'CONFIG_INVALID',
      `--config ${path}: do not store the API key in a config file; use ALSAMIFLEXI_API_KEY`,
      { path },
    );
  for (const key of Object.keys(obj)) {
    if (!(key in OPTIONS)) {
      throw new BatchError(
        'CONFIG_INVALID',
        `--config ${path}: "${mask(key).slice(0, 40)}" is not an option; the keys are the long option names (see --help)`,
        { path },
      );
    }
  }
  return obj;
}

/** Merges flag > env > config file > default for every known option. */
export function resolveOptions(
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
): Record<OptionName, unknown> {
  const configPath = (flags.config as string | undefined) ?? env[envName('config')];
  const file = configPath ? readConfigFile(String(configPath)) : {};
  const out = {} as Record<OptionName, unknown>;
  for (const [name, spec] of Object.entries(OPTIONS) as [OptionName, OptionSpec][]) {
    const envKey = [envName(name), ...(spec.env ?? [])].find((k) => env[k] !== undefined && env[k] !== '');
    const [value, from]: [unknown, Source] =
      flags[name] !== undefined
        ? [flags[name], { kind: 'flag' }]
        : envKey !== undefined
          ? [env[envKey], { kind: 'env', name: envKey }]
          : file[name] !== undefined
            ? [file[name], { kind: 'file', path: String(configPath) }]
            : [spec.default, { kind: 'flag' }];
    out[name] = coerce(name, spec, value, from);
  }
  out['state-dir'] ??= defaultStateDir(env);
  return out;
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

/** The rate limit in force: --rate-limit, else the plan's. */
export function resolveRate(plan: unknown, rateLimit: unknown): Rate {
  if (typeof rateLimit === 'string' && rateLimit) return parseRate(rateLimit, '--rate-limit');
  const p = String(plan ?? 'starter').toLowerCase() as Plan;
  if (p === 'enterprise')
    throw new BatchError('USAGE', '--plan enterprise has custom limits: give --rate-limit (e.g. 600/min)');
  const rate = PLANS[p as keyof typeof PLANS];
  if (!rate)
    throw new BatchError('USAGE', `unknown --plan "${String(plan)}": use starter, business or enterprise`);
  return rate;
}

export function durationOption(options: Record<string, unknown>, name: OptionName): number {
  return parseDuration(String(options[name]), `--${name}`);
}
