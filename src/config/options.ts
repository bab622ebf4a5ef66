/**
 * Every option, documented once (SPEC §2; STYLE "options documented once"). `--help` and the
 * README's options table (scripts/options-table.mjs) are printed from these words; the
 * defaults come from src/defaults.ts, shown as the user writes them (`15s`, not 15000).
 */
import { DEFAULT_BASE_URL } from '../api/types.js';
import { DEFAULTS } from '../defaults.js';
import { formatDuration } from '../util/units.js';

/** How a value is written: `duration` is text with a unit (`15s`), read into ms. */
export type Kind = 'string' | 'number' | 'boolean' | 'array' | 'duration';

export interface OptionSpec {
  kind: Kind;
  describe: string;
  /** the default as `--help` and the README show it */
  default?: string | number | boolean;
  /** environment variable(s) besides RECHARGE_BATCH_<NAME> */
  env?: string[];
}

const duration = (describe: string, ms: number) =>
  ({ kind: 'duration', describe, default: formatDuration(ms) }) as const;

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
    default: DEFAULTS.plan,
  },
  'rate-limit': {
    kind: 'string',
    describe: 'requests per time, N/s or N/min (e.g. 60/min); overrides the plan',
  },
  concurrency: { kind: 'number', describe: 'max HTTP requests in flight', default: DEFAULTS.concurrency },
  job: { kind: 'string', describe: 'job name (default <file basename>-<first 8 hex of sha256 of the file>)' },
  'state-dir': {
    kind: 'string',
    describe:
      'where jobs and the account registry live (default $XDG_STATE_HOME/recharge-batch, else ~/.local/state/recharge-batch; never the working folder)',
  },
  out: { kind: 'string', describe: 'results CSV (default <input dir>/<basename>.results.csv)' },
  'poll-after': duration('first status poll after submit', DEFAULTS.pollAfterMs),
  'poll-every': duration('later polls (backing off up to 4x)', DEFAULTS.pollEveryMs),
  'poll-timeout': duration('stop polling a row; it stays processing (exit 4)', DEFAULTS.pollTimeoutMs),
  'request-timeout': duration('timeout of one HTTP request', DEFAULTS.requestTimeoutMs),
  'max-wait': duration(
    'longest single wait the API may impose (429 Retry-After, rate-limit reset), and most time one request may be answered 429; longer: stop resumably (exit 4; exit 3 at start-up)',
    DEFAULTS.maxWaitMs,
  ),
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
  'repeat-window': duration(
    'how far back the account registry looks for an earlier payment of the same number and amount (0 = no check)',
    DEFAULTS.repeatWindowMs,
  ),
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
  'webhook-path': { kind: 'string', describe: 'path of the webhook receiver', default: DEFAULTS.webhookPath },
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
    default: DEFAULTS.bom,
  },
  debug: { kind: 'boolean', describe: 'print stack traces of errors and their causes', default: false },
  config: { kind: 'string', describe: 'JSON file of options (keys as the long option names)' },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

export const OPTION_NAMES = Object.keys(OPTIONS) as OptionName[];

export function isOptionName(name: string): name is OptionName {
  return Object.hasOwn(OPTIONS, name);
}

/** `poll-after` → `RECHARGE_BATCH_POLL_AFTER` (SPEC §2). */
export function envName(name: string): string {
  return `RECHARGE_BATCH_${name.toUpperCase().replace(/-/g, '_')}`;
}
