/**
 * The audit log (SPEC §10 `--log-file`): one JSON line per row state change and per job
 * start/stop, for auditors who need a per-row record outside the job's internal journal.
 *
 * A listener on the typed job events ({@link JobEvents}), written with pino to a file opened
 * with O_APPEND in synchronous mode, so every record is one write(2) of one whole line: several
 * jobs (several processes) can append to the same file without tearing each other's lines.
 *
 * Record shapes (every record has `time` (ISO 8601, UTC), `event`, `job`, `account`):
 *   job:started   + rows, pending, processing, resumed
 *   row:*         + row, status, reference, transaction_id, amount, error_code, attempt
 *                   (`row:submitted` has status `sending`: the intent is durable, the POST leaves;
 *                   `row:released`, status `pending` again: that request certainly did nothing)
 *   job:stopping  + code, message      (why the job is stopping early)
 *   job:finished  + counts, amounts, stopped (code or null)
 *
 * The API key never reaches the file: pino's redact drops key-like fields, and every string,
 * as well as the final line, has the key and any `Bearer …` token masked (SPEC §5 additions).
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { accountId } from '../api/account.js';
import { systemClock, type Clock } from '../clock.js';
import { BatchError } from '../errors.js';
import type { JobEvents, JobEventMap } from '../job/events.js';
import type { RowState } from '../job/rows.js';

export interface AuditOptions {
  /** JSON-lines file to append to (created if missing, never truncated) */
  file?: string;
  /** or any pino destination (an embedding service's own stream); `file` wins */
  destination?: DestinationStream;
  /** the account the jobs run under (SPEC §5a); default accountId(baseUrl, apiKey) from api/account.ts */
  account?: string;
  /** the API base URL, for the account when it is not given */
  baseUrl?: string;
  /** masked out of every record wherever it appears; with baseUrl, gives the account */
  apiKey?: string;
  /** default systemClock: the `time` of each record */
  clock?: Clock;
}

const REDACT_PATHS = [
  'apiKey',
  'api_key',
  'key',
  'authorization',
  'headers.authorization',
  '*.apiKey',
  '*.authorization',
];

function masker(apiKey: string | undefined): (s: string) => string {
  const keys = [apiKey, apiKey?.trim()].filter((k): k is string => typeof k === 'string' && k.length >= 4);
  return (s) => {
    let out = s.replace(/Bearer\s+[^\s"',;]+/gi, 'Bearer ***');
    for (const k of keys) out = out.split(k).join('***');
    return out;
  };
}

function maskDeep(value: unknown, mask: (s: string) => string): unknown {
  if (typeof value === 'string') return mask(value);
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, mask));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskDeep(v, mask)]));
  }
  return value;
}

/** The row fields of SPEC §10, the same for every row record. */
function rowFields(r: RowState) {
  return {
    row: r.row,
    status: r.status,
    reference: r.ref ?? null,
    transaction_id: r.txn ?? null,
    amount: r.amount ?? null,
    error_code: r.code ?? null,
    attempt: r.att,
  };
}

export class AuditLog {
  private readonly logger: Logger;
  private readonly account: string;
  private readonly clock: Clock;

  /**
   * @throws BatchError USAGE when the file cannot be opened for appending (before anything is
   * sent), or when neither the account nor the base URL and key are given
   */
  constructor(opts: AuditOptions) {
    const clock = opts.clock ?? systemClock;
    if (opts.account) this.account = opts.account;
    else if (opts.baseUrl && opts.apiKey) this.account = accountId(opts.baseUrl, opts.apiKey);
    else throw new BatchError('USAGE', 'the audit log needs the account, or the base URL and the API key');
    const mask = masker(opts.apiKey);
    let dest: DestinationStream;
    if (opts.file) {
      try {
        // sync: one write(2) per record, in order, nothing buffered when the process dies
        dest = pino.destination({ dest: opts.file, append: true, sync: true, mkdir: true });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        throw new BatchError(
          'USAGE',
          `the audit log ${opts.file} cannot be opened for appending (${code}); choose another --log-file; nothing was sent`,
          {},
          { cause: err },
        );
      }
    } else if (opts.destination) {
      dest = opts.destination;
    } else {
      throw new BatchError('USAGE', 'the audit log needs a file or a destination');
    }
    this.clock = clock;
    this.logger = pino(
      {
        base: null,
        messageKey: 'message',
        // the time is a field of the record (below): pino's own timestamp would need the level
        timestamp: false,
        formatters: {
          // pino needs a first field before the record's own (an empty level makes invalid JSON)
          level: (label) => ({ level: label }),
          log: (obj) => maskDeep(obj, mask) as Record<string, unknown>,
        },
        redact: { paths: REDACT_PATHS, censor: '***' },
        hooks: { streamWrite: mask },
      },
      dest,
    );
  }

  private write(event: string, job: string, fields: Record<string, unknown>): void {
    this.logger.info({
      time: new Date(this.clock.now()).toISOString(),
      event,
      job,
      account: this.account,
      ...fields,
    });
  }

  /**
   * Records the job behind `events` until the returned function is called (or the job ends).
   * One AuditLog can listen to several jobs, one after another or at the same time.
   */
  listen(events: JobEvents): () => void {
    let job = '';
    const handlers: { [K in keyof JobEventMap]?: (...args: JobEventMap[K]) => void } = {
      'job:started': (e) => {
        job = e.job;
        const rows = e.rows.filter(Boolean).length;
        this.write('job:started', job, {
          rows,
          pending: e.pending,
          processing: e.processing,
          resumed: e.resumed,
        });
      },
      'row:submitted': (e) => this.write('row:submitted', job, rowFields(e.row)),
      'row:accepted': (e) => this.write('row:accepted', job, rowFields(e.row)),
      'row:final': (e) => this.write('row:final', job, rowFields(e.row)),
      'row:unknown': (e) => this.write('row:unknown', job, rowFields(e.row)),
      'row:released': (e) => this.write('row:released', job, { ...rowFields(e.row), why: e.why }),
      'job:stopping': (e) => this.write('job:stopping', job, { code: e.code, message: e.message }),
      'job:finished': (e) => {
        this.write('job:finished', e.job, {
          counts: e.counts,
          amounts: e.amounts,
          stopped: e.stopped?.code ?? null,
        });
        off();
      },
    };
    const entries = Object.entries(handlers) as [keyof JobEventMap, (...args: unknown[]) => void][];
    for (const [name, fn] of entries) events.on(name, fn as never);
    const off = () => {
      for (const [name, fn] of entries) events.off(name, fn as never);
    };
    return off;
  }

  /** Flushes (a no-op for a file: every record is written when it happens). */
  flush(): void {
    this.logger.flush();
  }
}
