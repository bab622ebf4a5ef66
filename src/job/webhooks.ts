/**
 * The webhook receiver (SPEC §10 `--webhook-listen`, `--webhook-path`; API doc "Webhooks").
 *
 * The API can POST `{ event, data: { transaction_id, status, … }, timestamp }` when a
 * transaction changes. The payload is unauthenticated, so it is only a hint: an event for one
 * of a running job's processing transactions makes that transaction's status check due now
 * (one GET through the limiter, which decides when); the payload's own status is never
 * recorded. Answers:
 *   202  the check is due (or already under way)
 *   200  the transaction is already final here: nothing to do, no request made
 *   400  not JSON, or no `data.transaction_id`          404  unknown transaction, or wrong path
 *   405  not POST                                      413  body over 64 KiB
 * Duplicate deliveries therefore cost at most one GET each while the row is processing (a
 * check already queued absorbs them) and none once it is final.
 *
 * One receiver serves any number of jobs, one after another (a watched folder) or at once;
 * an embedding service can mount {@link WebhookReceiver.handle} in its own HTTP server instead
 * of calling {@link WebhookReceiver.listen}.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { BatchError } from '../errors.js';
import type { JobEvents } from './events.js';
import type { RowState } from './rows.js';

export const DEFAULT_WEBHOOK_PATH = '/webhooks/alsamiflexi';
const MAX_BODY = 64 * 1024;

/** The fields the receiver reads; everything else in the payload is ignored. */
const payloadSchema = z.object({
  event: z.string().optional(),
  data: z.object({ transaction_id: z.union([z.string().min(1).max(200), z.number()]).transform(String) }),
});

export type HintAnswer = 'due' | 'final' | 'unknown';

/** What a running job gives the receiver: its rows, its events, and its poller's checkNow. */
export interface WebhookJob {
  rows: readonly (RowState | undefined)[];
  events: JobEvents;
  /** make this transaction's status check due now; false if it is not being polled */
  checkNow(transactionId: string): boolean;
}

export interface WebhookStats {
  /** events that made a check due */
  due: number;
  /** events for transactions already final (no request made) */
  final: number;
  /** events refused: unknown transaction, bad body, wrong path or method */
  refused: number;
}

class Attached {
  /** transaction id → row, for this job's current and earlier attempts */
  private readonly byTxn = new Map<string, RowState>();
  private readonly off: () => void;

  constructor(private readonly job: WebhookJob) {
    for (const r of job.rows) if (r?.txn) this.byTxn.set(r.txn, r);
    const learn = ({ row }: { row: RowState }) => {
      if (row.txn) this.byTxn.set(row.txn, row);
    };
    job.events.on('row:accepted', learn);
    job.events.on('row:final', learn);
    this.off = () => {
      job.events.off('row:accepted', learn);
      job.events.off('row:final', learn);
    };
  }

  hint(txn: string): HintAnswer | null {
    const row = this.byTxn.get(txn);
    if (!row) return null;
    // an earlier attempt's transaction, or a row already final: the API's word is recorded
    if (row.txn !== txn || row.status !== 'processing') return 'final';
    return this.job.checkNow(txn) ? 'due' : 'final';
  }

  detach(): void {
    this.off();
  }
}

export interface WebhookReceiverOptions {
  /** default `/webhooks/alsamiflexi` (SPEC §2 `--webhook-path`) */
  path?: string;
}

export class WebhookReceiver {
  readonly path: string;
  readonly stats: WebhookStats = { due: 0, final: 0, refused: 0 };
  private readonly jobs = new Set<Attached>();
  private server: Server | null = null;

  constructor(opts: WebhookReceiverOptions = {}) {
    const path = opts.path ?? DEFAULT_WEBHOOK_PATH;
    if (!path.startsWith('/'))
      throw new BatchError('USAGE', `--webhook-path must start with "/", got "${path}"`);
    this.path = path;
  }

  /**
   * Routes events to a running job until the returned function is called. The engine calls
   * this itself when given `webhooks` (`runJob({ webhooks })`).
   */
  attach(job: WebhookJob): () => void {
    const a = new Attached(job);
    this.jobs.add(a);
    return () => {
      a.detach();
      this.jobs.delete(a);
    };
  }

  /** What an event for this transaction does (exposed for services that parse events themselves). */
  hint(transactionId: string): HintAnswer {
    for (const a of this.jobs) {
      const answer = a.hint(transactionId);
      if (answer === 'due' || answer === 'final') {
        this.stats[answer]++;
        return answer;
      }
    }
    this.stats.refused++;
    return 'unknown';
  }

  /** A node:http request handler: mount it in a server of your own, or use {@link listen}. */
  handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = new URL(req.url ?? '/', 'http://receiver').pathname;
    if (path !== this.path) return this.refuse(req, res, 404, 'NOT_FOUND', `no webhook receiver at ${path}`);
    if (req.method !== 'POST')
      return this.refuse(req, res, 405, 'METHOD_NOT_ALLOWED', 'use POST', { Allow: 'POST' });
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) tooLarge = true;
      else chunks.push(c);
    });
    req.on('error', () => res.destroy());
    req.on('end', () => {
      if (tooLarge)
        return this.refuse(req, res, 413, 'PAYLOAD_TOO_LARGE', `the body is over ${MAX_BODY} bytes`);
      let body: unknown;
      try {
        body = JSON.parse(
          Buffer.concat(chunks)
            .toString('utf8')
            .replace(/^\uFEFF/, ''),
        );
      } catch {
        return this.refuse(req, res, 400, 'INVALID_JSON', 'the body is not JSON');
      }
      const parsed = payloadSchema.safeParse(body);
      if (!parsed.success) return this.refuse(req, res, 400, 'INVALID_PAYLOAD', 'no data.transaction_id');
      const txn = parsed.data.data.transaction_id;
      const answer = this.hint(txn);
      if (answer === 'unknown')
        return send(res, 404, {
          success: false,
          error: { code: 'UNKNOWN_TRANSACTION', message: 'not a transaction of a running job' },
        });
      return send(res, answer === 'due' ? 202 : 200, { success: true, check: answer });
    });
  };

  private refuse(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    code: string,
    message: string,
    headers: Record<string, string> = {},
  ): void {
    this.stats.refused++;
    req.resume(); // drain the body so the connection can be reused
    send(res, status, { success: false, error: { code, message } }, headers);
  }

  /**
   * Serves the receiver on `host:port` (port 0 = any free port).
   * @returns the receiver's URL
   * @throws BatchError USAGE when the address cannot be used (in use, not local, no permission)
   */
  async listen(host: string, port: number): Promise<string> {
    const server = createServer(this.handle);
    // a slow or stuck sender must not hold a socket for long
    server.requestTimeout = 10_000;
    server.headersTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new BatchError(
            'USAGE',
            `--webhook-listen ${host}:${port} cannot be used (${err.code ?? err.message}); choose another address; nothing was sent`,
          ),
        ),
      );
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    const a = server.address() as AddressInfo;
    const h = a.address.includes(':') ? `[${a.address}]` : a.address;
    return `http://${h}:${a.port}${this.path}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** `HOST:PORT` of `--webhook-listen` (`[::1]:8081` for IPv6). @throws BatchError USAGE */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535)
    throw new BatchError('USAGE', `--webhook-listen "${text}": give HOST:PORT, e.g. 0.0.0.0:8081`);
  return { host: (m[1] ?? m[2])!, port };
}
