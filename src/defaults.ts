/**
 * Every default of the tool, once (SPEC §2 options table). The options table and `--help`
 * (src/config/options.ts), the CLI, the job engine (src/job/runner.ts) and the API client
 * (src/api/client.ts) all read them here, so a default cannot differ between what the README
 * says and what the code does. Durations are in milliseconds. This module imports nothing, so
 * any layer may use it without pulling another one in.
 */
export const DEFAULTS = {
  /** `--plan` (SPEC §2): 60 requests a minute, the smallest plan of the API doc */
  plan: 'starter',
  /** `--concurrency` (SPEC §2): HTTP requests in flight */
  concurrency: 4,
  /** `--poll-after` (SPEC §2): first status poll after a submit, ms */
  pollAfterMs: 15_000,
  /** `--poll-every` (SPEC §2): later polls, ms (the poller backs off up to 4x) */
  pollEveryMs: 30_000,
  /** `--poll-timeout` (SPEC §2): a row still processing after this long stays so, exit 4; ms */
  pollTimeoutMs: 30 * 60_000,
  /** `--request-timeout` (SPEC §2): one HTTP request, ms */
  requestTimeoutMs: 30_000,
  /** `--max-wait` (SPEC §5 additions): the longest single wait the API may impose, ms */
  maxWaitMs: 5 * 60_000,
  /** `--repeat-window` (SPEC §5a): how far back the account registry looks, ms */
  repeatWindowMs: 7 * 86_400_000,
  /** `--webhook-path` (SPEC §10) */
  webhookPath: '/webhooks/alsamiflexi',
  /** `--bom` (SPEC §4): Excel needs the BOM to read Bengali */
  bom: true,
  /** the API client's longest backoff between GET retries, ms (not an option) */
  backoffMaxMs: 15_000,
} as const;
