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
  'api-key': { kind: 'string', describe: 'API key (prefer env ALSAMIFLEXI_API_KEY: a flag ends up in shell history)', env: ['ALSAMIFLEXI_API_KEY'] },
  'base-url': { kind: 'string', describe: 'API base URL', default: DEFAULT_BASE_URL, env: ['ALSAMIFLEXI_BASE_URL'] },
  plan: { kind: 'string', describe: 'account plan: starter (60/min), business (120/min), enterprise (needs --rate-limit)', default: 'starter' },
  'rate-limit': { kind: 'string', describe: 'requests per time, N/s or N/min (e.g. 60/min); overrides the plan' },
  concurrency: { kind: 'number', describe: 'max HTTP requests in flight', default: 4 },
  job: { kind: 'string', describe: 'job name (default <file basename>-<first 8 hex of sha256 of the file>)' },
  'state-dir': {
    kind: 'string',
    describe: 'where jobs and the account registry live (default $XDG_STATE_HOME/recharge-batch, else ~/.local/state/recharge-batch; never the working folder)',
  },
  out: { kind: 'string', describe: 'results CSV (default <input dir>/<basename>.results.csv)' },
  'poll-after': { kind: 'string', describe: 'first status poll after submit', default: '15s' },
  'poll-every': { kind: 'string', describe: 'later polls (backing off up to 4x)', default: '30s' },
  'poll-timeout': { kind: 'string', describe: 'stop polling a row; it stays processing (exit 4)', default: '30m' },
  'request-timeout': { kind: 'string', describe: 'timeout of one HTTP request', default: '30s' },
  'max-wait': {
    kind: 'string',
    describe: 'longest single wait the API may impose (429 Retry-After, rate-limit reset), and most time one request may be answered 429; longer: stop resumably (exit 4; exit 3 at start-up)',
    default: '5m',
  },
  'allow-duplicates': { kind: 'boolean', describe: 'accept rows repeating an earlier row\'s number and amount', default: false },
  'allow-partial': { kind: 'boolean', describe: 'start even if the balance cannot cover the whole batch', default: false },
  'max-total': { kind: 'number', describe: 'refuse (exit 2) if valid rows add up to more BDT than this' },
  'reference-dedup': { kind: 'boolean', describe: 'declare that the API rejects or replays a reused reference: ambiguous POSTs are resent with the same reference', default: false },
  redis: { kind: 'string', describe: 'Redis URL: share the rate limit with every process using this API key' },
  operators: { kind: 'string', describe: 'JSON file with the operator list, for offline validate' },
  map: { kind: 'array', describe: 'column for a role when headers are unusual: number=Col amount=Col operator=Col reference=Col' },
  'repeat-window': {
    kind: 'string',
    describe: 'how far back the account registry looks for an earlier payment of the same number and amount (0 = no check)',
    default: '7d',
  },
  'allow-repeat': { kind: 'boolean', describe: 'pay rows even if the account registry holds an earlier payment of the same number and amount', default: false },
  'webhook-listen': { kind: 'string', describe: "HOST:PORT to receive the API's webhook events while a job runs: an event makes that transaction's status check due at once (polling stays, later, as the safety net)" },
  'webhook-path': { kind: 'string', describe: 'path of the webhook receiver', default: '/webhooks/alsamiflexi' },
  'log-file': { kind: 'string', describe: 'append a JSON-lines audit record per row state change and per job start/stop to this file' },
  json: { kind: 'boolean', describe: 'print one JSON summary object on stdout at the end', default: false },
  quiet: { kind: 'boolean', describe: 'no progress output', default: false },
  bom: { kind: 'boolean', describe: 'start every CSV the tool writes with a UTF-8 BOM (Excel needs it for Bengali); --no-bom to omit it', default: true },
  debug: { kind: 'boolean', describe: 'print stack traces of errors', default: false },
  config: { kind: 'string', describe: 'JSON file of options (keys as the long option names)' },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

export function envName(name: string): string {
  return `RECHARGE_BATCH_${name.toUpperCase().replace(/-/g, '_')}`;
}

const boolText = z.union([z.boolean(), z.enum(['1', 'true', 'yes', 'on', '0', 'false', 'no', 'off']).transform((v) => ['1', 'true', 'yes', 'on'].includes(v))]);
const numText = z.union([z.number(), z.string().trim().regex(/^\d+(\.\d+)?$/).transform(Number)]);

/** `fromFile`: the value came from the --config file, whose content is never quoted (SPEC §5 additions). */
function coerce(name: string, kind: Kind, value: unknown, fromFile = false): unknown {
  if (value === undefined || value === null) return undefined;
  const schema = kind === 'boolean' ? boolText : kind === 'number' ? numText : kind === 'array' ? z.union([z.array(z.string()), z.string().transform((s) => s.split(',').map((x) => x.trim()))]) : z.union([z.string(), z.number().transform(String)]);
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const shown = fromFile || name === 'api-key' ? 'the value' : `"${mask(String(value))}"`;
    throw new BatchError('CONFIG_INVALID', `option --${name}${fromFile ? ' (from the --config file)' : ''}: ${shown} is not a valid ${kind}`);
  }
  return parsed.data;
}

/** Where JSON.parse stopped, without the text around it (which may be a secret). */
function jsonProblem(err: unknown): string {
  const pos = /position (\d+)/.exec((err as Error)?.message ?? '')?.[1];
  return `not valid JSON${pos ? ` (at character ${pos})` : ''}`;
}

/** Merges flag > env > config file > default for every known option. */
export function resolveOptions(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): Record<OptionName, unknown> {
  const configPath = (flags.config as string | undefined) ?? env[envName('config')];
  let file: Record<string, unknown> = {};
  if (configPath) {
    let text: string;
    try {
      text = readFileSync(configPath, 'utf8');
    } catch (err) {
      throw new BatchError('CONFIG_INVALID', `--config ${configPath}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    try {
      file = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      // never quote the file: it may be the key file given by mistake (SPEC §5 additions)
      throw new BatchError('CONFIG_INVALID', `--config ${configPath}: ${jsonProblem(err)}; it must be a JSON object of options`);
    }
    if (!file || typeof file !== 'object' || Array.isArray(file)) throw new BatchError('CONFIG_INVALID', `--config ${configPath}: not a JSON object`);
    for (const key of Object.keys(file)) {
      if (!(key in OPTIONS)) throw new BatchError('CONFIG_INVALID', `--config ${configPath}: unknown option "${mask(key).slice(0, 40)}"`);
    }
    if ('api-key' in file) throw new BatchError('CONFIG_INVALID', `--config ${configPath}: do not store the API key in a config file; use ALSAMIFLEXI_API_KEY`);
  }
  const out = {} as Record<OptionName, unknown>;
  for (const [name, spec] of Object.entries(OPTIONS) as [OptionName, OptionSpec][]) {
    const fromEnv = [envName(name), ...(spec.env ?? [])].map((k) => env[k]).find((v) => v !== undefined && v !== '');
    const value = flags[name] !== undefined ? flags[name] : fromEnv !== undefined ? fromEnv : file[name] !== undefined ? file[name] : spec.default;
    out[name] = coerce(name, spec.kind, value, flags[name] === undefined && fromEnv === undefined && file[name] !== undefined);
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
  if (p === 'enterprise') throw new BatchError('USAGE', '--plan enterprise has custom limits: give --rate-limit (e.g. 600/min)');
  const rate = PLANS[p as keyof typeof PLANS];
  if (!rate) throw new BatchError('USAGE', `unknown --plan "${String(plan)}": use starter, business or enterprise`);
  return rate;
}

export function durationOption(options: Record<string, unknown>, name: OptionName): number {
  return parseDuration(String(options[name]), `--${name}`);
}
