/**
 * A hostile API for tests: node:http on 127.0.0.1, port 0, answering the way public bug
 * reports describe real payment and top-up APIs, proxies and networks answering (schema
 * drift, unasked-for gzip, epoch-millisecond resets, a skewed clock, 429 forever, echoed keys,
 * `success: false` in a 200, undocumented status words). Separate from the sandbox on purpose:
 * it is configured per test with plain functions, and it keeps its own ledger of what it
 * charged, which is what the tests judge by.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventEmitter } from 'node:events';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { OPERATORS } from './operators.js';

export interface Charge {
  transaction_id: string;
  reference: string;
  mobile_number: string;
  amount: number;
}

export interface Reply {
  status: number;
  /** JSON-serialized unless `raw` is given */
  body?: unknown;
  /** the body bytes as they are (overrides `body`) */
  raw?: string | Buffer;
  headers?: Record<string, string>;
}

export interface RechargeCall {
  /** 0-based count of POST /recharge received */
  n: number;
  body: { operator_id: number; mobile_number: string; amount: number; reference: string };
  /** the Authorization header as received */
  authorization: string;
  /** the server's own clock (skewed) */
  serverNow: number;
  /** commit the recharge: money moves, the ledger grows */
  charge(): Charge;
}

export interface HostileOptions {
  key: string;
  /** POST /recharge; default: charge and answer the documented 200 processing */
  recharge?(call: RechargeCall): Reply | null;
  /** GET /transaction/{id}; default: the documented 200 `completed` */
  transaction?(charge: Charge, index: number, serverNow: number): Reply;
  /** GET /operators; default: the sandbox's documented list */
  operators?(serverNow: number): Reply;
  /** GET /balance; default: 1,000,000 BDT */
  balance?(serverNow: number): Reply;
  /** every answer's body encoded so, with the Content-Encoding header (not asked for) */
  encoding?: 'gzip' | 'deflate' | 'br';
  /** the server's clock runs this far ahead; every answer carries its `Date` */
  clockSkewMs?: number;
}

export interface Hostile {
  url: string;
  /** every recharge it committed (charged), in order */
  ledger: Charge[];
  /** POST /recharge received */
  posts(): number;
  /** 'answer' (method, path, status) after each answer is written */
  events: EventEmitter;
  close(): Promise<void>;
}

export function documentedTxn(
  c: Charge,
  status: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    transaction_id: c.transaction_id,
    status,
    mobile_number: c.mobile_number,
    amount: c.amount,
    operator: 'Grameenphone',
    reference: c.reference,
    created_at: '2026-01-01 10:30:00',
    ...extra,
  };
}

export async function startHostile(opts: HostileOptions): Promise<Hostile> {
  const ledger: Charge[] = [];
  const events = new EventEmitter();
  let posts = 0;
  const serverNow = () => Date.now() + (opts.clockSkewMs ?? 0);

  const send = (req: IncomingMessage, res: ServerResponse, reply: Reply) => {
    let bytes =
      reply.raw !== undefined
        ? Buffer.from(reply.raw)
        : Buffer.from(reply.body === undefined ? '' : JSON.stringify(reply.body));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      date: new Date(serverNow()).toUTCString(),
      ...reply.headers,
    };
    if (opts.encoding && bytes.length > 0 && !headers['content-encoding']) {
      bytes =
        opts.encoding === 'gzip'
          ? gzipSync(bytes)
          : opts.encoding === 'br'
            ? brotliCompressSync(bytes)
            : deflateSync(bytes);
      headers['content-encoding'] = opts.encoding;
    }
    headers['content-length'] = String(bytes.length);
    res.writeHead(reply.status, headers);
    res.end(bytes);
    events.emit('answer', { method: req.method, path: req.url, status: reply.status });
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').replace(/^\/api\/v1/, '');
      const auth = req.headers.authorization ?? '';
      if (auth !== `Bearer ${opts.key}`) {
        return send(req, res, {
          status: 401,
          body: { success: false, error: { code: 'UNAUTHORIZED', message: 'Invalid or missing API key' } },
        });
      }
      if (req.method === 'GET' && path === '/balance') {
        return send(
          req,
          res,
          opts.balance?.(serverNow()) ?? {
            status: 200,
            body: { success: true, data: { balance: 1_000_000, currency: 'BDT' } },
          },
        );
      }
      if (req.method === 'GET' && path === '/operators') {
        return send(
          req,
          res,
          opts.operators?.(serverNow()) ?? { status: 200, body: { success: true, data: OPERATORS } },
        );
      }
      const m = /^\/transaction\/([^/]+)$/.exec(path);
      if (req.method === 'GET' && m) {
        const i = ledger.findIndex((c) => c.transaction_id === decodeURIComponent(m[1]!));
        if (i < 0)
          return send(req, res, {
            status: 404,
            body: {
              success: false,
              error: { code: 'TRANSACTION_NOT_FOUND', message: 'No such transaction' },
            },
          });
        const c = ledger[i]!;
        return send(
          req,
          res,
          opts.transaction?.(c, i, serverNow()) ?? {
            status: 200,
            body: { success: true, data: documentedTxn(c, 'completed') },
          },
        );
      }
      if (req.method === 'POST' && path === '/recharge') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as RechargeCall['body'];
        const call: RechargeCall = {
          n: posts++,
          body,
          authorization: auth,
          serverNow: serverNow(),
          charge() {
            const c = {
              transaction_id: `HX${String(ledger.length + 1).padStart(6, '0')}`,
              reference: body.reference,
              mobile_number: body.mobile_number,
              amount: body.amount,
            };
            ledger.push(c);
            return c;
          },
        };
        const reply = opts.recharge
          ? opts.recharge(call)
          : { status: 200, body: { success: true, data: documentedTxn(call.charge(), 'processing') } };
        if (reply === null) {
          res.socket?.destroy(); // committed or not, no answer
          return;
        }
        return send(req, res, reply);
      }
      send(req, res, {
        status: 404,
        body: { success: false, error: { code: 'NOT_FOUND', message: 'no such endpoint' } },
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/v1`,
    ledger,
    posts: () => posts,
    events,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
