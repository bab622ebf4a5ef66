/** What the sandbox's request handlers share: money, faults, limiter, counters and the clock. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Operator } from '../api/types.js';
import type { Clock } from '../clock.js';
import { bearerToken } from './http.js';
import type { Ledger } from './ledger.js';
import type { Random } from './random.js';
import type { RateLimiter } from './ratelimit.js';
import type { RuntimeConfig } from './options.js';
import type { WebhookSender } from './webhook.js';

export interface SandboxStats {
  /** every /api/v1 (non-admin) request received, 401s and 429s included */
  requests: number;
  /** answers by HTTP status; 0 = no answer (a dropped connection) */
  byStatus: Record<number, number>;
  /** requests answered 429 */
  rateLimited: number;
  /** recharges committed (new, charged transactions; dedup replays are not counted) */
  recharges: number;
}

export interface RequestLogEntry {
  /** clock time the request arrived */
  at: number;
  method: string;
  /** path without the query string */
  path: string;
  /** the answer's status; 0 while unanswered and for a dropped connection */
  status: number;
}

export interface SandboxState {
  readonly clock: Clock;
  readonly operators: Operator[];
  readonly ledger: Ledger;
  readonly random: Random;
  readonly config: RuntimeConfig;
  limiter: RateLimiter | null;
  readonly rateLimitHeaders: boolean;
  readonly stats: SandboxStats;
  readonly log: RequestLogEntry[];
  readonly webhooks: WebhookSender | null;
  closed: boolean;
  /** true when the request carries `Authorization: Bearer <apiKey>` */
  authorized(req: IncomingMessage): boolean;
  /** Finalizes due transactions (refunds, webhooks). Called before every read. */
  settle(): void;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** A constant-time check of the Bearer token against the key. */
export function keyChecker(apiKey: string): (req: IncomingMessage) => boolean {
  const expected = digest(apiKey);
  return (req) => {
    const token = bearerToken(req);
    return token !== undefined && timingSafeEqual(digest(token), expected);
  };
}

export function recordAnswer(state: SandboxState, entry: RequestLogEntry, status: number): void {
  entry.status = status;
  state.stats.byStatus[status] = (state.stats.byStatus[status] ?? 0) + 1;
}
