/**
 * The sandbox's own options (SPEC §9; README "Sandbox"): the faults and pace to rehearse
 * against. yargs infers their types from these, so `sandbox` reads them without casts.
 */
import type { Argv } from 'yargs';
import { numberOption } from './own-options.js';

const FRACTION = { min: 0, max: 1, example: 0.05 };

export function sandboxOptions(y: Argv) {
  return (
    y
      .option(
        'port',
        numberOption('port', 'port (0 = any free port)', 8080, {
          min: 0,
          max: 65535,
          integer: true,
          example: 8080,
        }),
      )
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on' })
      .option('balance', numberOption('balance', 'starting balance (BDT)', 50000, { min: 0, example: 50000 }))
      .option('window', {
        choices: ['fixed', 'sliding'] as const,
        default: 'fixed' as const,
        describe: 'rate-limit window kind',
      })
      .option('rate-limit', {
        type: 'string',
        default: '60/min',
        describe: 'requests the sandbox allows per time, N/s or N/min, or off',
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
      .option(
        'fail-rate',
        numberOption('fail-rate', 'fraction of transactions the operator fails', 0, FRACTION),
      )
      .option('error-rate', numberOption('error-rate', 'fraction of requests answered 500', 0, FRACTION))
      .option(
        'drop-rate',
        numberOption('drop-rate', 'fraction of recharges whose connection is cut after commit', 0, FRACTION),
      )
      .option('latency', { type: 'string', default: '0ms', describe: 'delay before each answer' })
      .option('arrival-jitter', {
        type: 'string',
        default: '0ms',
        describe: 'delay each request a random 0..this before it arrives (network jitter)',
      })
      .option(
        'seed',
        numberOption('seed', 'seed of the fault generator', 1, { min: 0, integer: true, example: 7 }),
      )
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
      .option(
        'fault-success-false',
        numberOption(
          'fault-success-false',
          'fraction of recharges answered 200 {"success": false, …}, nothing charged',
          0,
          FRACTION,
        ),
      )
      .option('status-words', {
        type: 'string',
        describe:
          "the API's words for the statuses, e.g. completed=SUCCESS,failed=declined,processing=queued",
      })
      .option(
        'webhook-duplicates',
        numberOption('webhook-duplicates', 'extra copies of every webhook event', 0, {
          min: 0,
          max: 100,
          integer: true,
          example: 2,
        }),
      )
      .option('webhook-forge', {
        type: 'string',
        describe: 'this long after each commit, send a forged "completed" event (e.g. 200ms)',
      })
      .option('webhook-late', {
        type: 'string',
        describe: 'send every webhook event again this long after the first',
      })
  );
}

/** The sandbox's own flags, as typed. */
export type SandboxFlags = ReturnType<typeof sandboxOptions> extends Argv<infer A> ? A : never;
