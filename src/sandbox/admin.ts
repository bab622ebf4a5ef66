/**
 * Admin routes for tests that run the sandbox in another process (the e2e tests, the demo):
 * under /__sandbox, same Bearer auth, not rate-limited, not counted in stats or the request log.
 *   GET  /__sandbox/ledger     → {ledger: LedgerEntry[]}
 *   POST /__sandbox/balance    {balance: n} → {balance: n}
 *   GET  /__sandbox/stats      → SandboxStats
 *   GET  /__sandbox/requests   → {requests: RequestLogEntry[]}
 *   POST /__sandbox/configure  ConfigPatch → {ok: true}
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isBatchError } from '../errors.js';
import { errorBody, readBody, sendJson } from './http.js';
import type { ConfigPatch } from './options.js';
import type { SandboxStats, RequestLogEntry } from './state.js';
import type { LedgerEntry } from './ledger.js';

export const ADMIN_BASE_PATH = '/__sandbox';

/** The part of the Sandbox the admin routes drive. */
export interface AdminTarget {
  ledger(): LedgerEntry[];
  setBalance(n: number): void;
  configure(patch: ConfigPatch): void;
  stats(): SandboxStats;
  requestLog(): RequestLogEntry[];
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export async function handleAdmin(
  target: AdminTarget,
  authorized: boolean,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  const body = await readBody(req);
  if (!authorized) return sendJson(res, 401, errorBody('UNAUTHORIZED', 'Invalid or missing API key'));
  if (!body.ok)
    return sendJson(res, 413, errorBody('PAYLOAD_TOO_LARGE', 'The request body is too large'), {
      Connection: 'close',
    });
  const route = `${req.method ?? 'GET'} ${path.slice(ADMIN_BASE_PATH.length)}`;

  switch (route) {
    case 'GET /ledger':
      return sendJson(res, 200, { ledger: target.ledger() });
    case 'GET /stats':
      return sendJson(res, 200, target.stats());
    case 'GET /requests':
      return sendJson(res, 200, { requests: target.requestLog() });
    case 'POST /balance':
    case 'POST /configure': {
      const input = parseObject(body.text);
      if (!input)
        return sendJson(res, 400, errorBody('INVALID_REQUEST', 'The request body must be a JSON object'));
      try {
        if (route === 'POST /balance') {
          target.setBalance(input.balance as number);
          return sendJson(res, 200, { balance: input.balance });
        }
        target.configure(input as ConfigPatch);
        return sendJson(res, 200, { ok: true });
      } catch (err) {
        if (!isBatchError(err)) throw err;
        return sendJson(res, 400, errorBody('INVALID_REQUEST', err.message));
      }
    }
    default:
      return sendJson(res, 404, errorBody('NOT_FOUND', `No such admin endpoint: ${route}`));
  }
}
