/**
 * The API sandbox (SPEC §9): the documented Alsamiflexi Pro API served on loopback, with an
 * enforced rate limit, money that moves, transactions that finish, optional faults, reference
 * dedup and webhooks. It models the API doc, not our client: nothing here imports src/api/client.ts.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock } from '../clock.js';
import { ADMIN_BASE_PATH, handleAdmin } from './admin.js';
import { handleApi } from './api.js';
import { errorBody, sendJson } from './http.js';
import { Ledger, type LedgerEntry } from './ledger.js';
import { DEFAULT_OPERATORS } from './operators.js';
import {
  checkBalance,
  checkOptions,
  applyPatch,
  initialConfig,
  type ConfigPatch,
  type SandboxOptions,
} from './options.js';
import { mulberry32 } from './random.js';
import { createRateLimiter, resolveRate, type RateLimitWindow } from './ratelimit.js';
import { keyChecker, type RequestLogEntry, type SandboxState, type SandboxStats } from './state.js';
import { WebhookSender } from './webhook.js';

export type { SandboxOptions, ConfigPatch, DedupMode } from './options.js';
export type { LedgerEntry } from './ledger.js';
export type { SandboxStats, RequestLogEntry } from './state.js';
export { DEFAULT_OPERATORS } from './operators.js';

export interface Sandbox {
  /** base URL including '/api/v1', e.g. http://127.0.0.1:54321/api/v1 */
  url: string;
  port: number;
  /** every committed recharge, in commit order, with its current status */
  ledger(): LedgerEntry[];
  balance(): number;
  setBalance(n: number): void;
  /** change faults at run time; a new rateLimit starts with empty counters */
  configure(patch: ConfigPatch): void;
  stats(): SandboxStats;
  /** every API request with the clock time it arrived, in arrival order */
  requestLog(): RequestLogEntry[];
  /** closes the server and all sockets, stops timers and webhook deliveries */
  close(): Promise<void>;
}

/** How often (real time) due transactions are finalized so their webhooks go out. */
const SWEEP_INTERVAL_MS = 50;

/**
 * Arrival jitter draws from its own seeded stream (derived from `seed`), so turning it on does
 * not shift which requests the fault draws hit.
 */
const JITTER_SEED_SALT = 0x9e3779b9;

export async function startSandbox(opts: SandboxOptions): Promise<Sandbox> {
  checkOptions(opts);
  const clock = opts.clock ?? systemClock;
  const origin = clock.now();
  const window: RateLimitWindow = opts.rateLimitWindow ?? 'fixed';
  const rate = resolveRate(opts.rateLimit);
  const webhooks = opts.webhookUrl ? new WebhookSender(opts.webhookUrl, opts.webhookFaults, clock) : null;
  const arrivalJitterMs = opts.arrivalJitterMs ?? 0;
  const arrivalRandom = mulberry32((opts.seed ?? 1) ^ JITTER_SEED_SALT);
  const ledger = new Ledger(opts.balance ?? 50_000, origin);

  const state: SandboxState = {
    clock,
    operators: structuredClone(opts.operators ?? DEFAULT_OPERATORS),
    ledger,
    random: mulberry32(opts.seed ?? 1),
    config: initialConfig(opts),
    limiter: rate ? createRateLimiter(rate, window, origin) : null,
    rateLimitHeaders: opts.rateLimitHeaders ?? true,
    stats: { requests: 0, byStatus: {}, rateLimited: 0, recharges: 0 },
    log: [],
    webhooks,
    closed: false,
    authorized: keyChecker(opts.apiKey),
    settle() {
      for (const txn of ledger.settle(clock.now())) webhooks?.send(txn);
    },
  };

  const sandbox: Omit<Sandbox, 'url' | 'port' | 'close'> = {
    ledger: () => (state.settle(), ledger.entries()),
    balance: () => (state.settle(), ledger.balance),
    setBalance: (n) => {
      state.settle();
      ledger.setBalance(checkBalance(n));
    },
    configure(patch) {
      const next = 'rateLimit' in patch ? resolveRate(patch.rateLimit) : undefined; // throws before changing anything
      applyPatch(state.config, patch);
      if (next !== undefined) state.limiter = next ? createRateLimiter(next, window, origin) : null;
    },
    stats: () => ({ ...state.stats, byStatus: { ...state.stats.byStatus } }),
    requestLog: () => state.log.map((e) => ({ ...e })),
  };

  const server = createServer((req, res) => {
    dispatch(req, res).catch((err: unknown) => {
      // a bug in the sandbox: answer 500 rather than hang the client
      if (!res.headersSent) sendJson(res, 500, errorBody('INTERNAL_ERROR', `sandbox bug: ${String(err)}`));
      else res.destroy();
    });
  });

  async function dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://sandbox').pathname;
    if (path === ADMIN_BASE_PATH || path.startsWith(`${ADMIN_BASE_PATH}/`)) {
      return handleAdmin(sandbox, state.authorized(req), req, res, path);
    }
    if (arrivalJitterMs > 0) {
      // the network delays the request: it is logged and rate-limited when it "arrives"
      await clock.sleep(arrivalRandom() * arrivalJitterMs);
      if (state.closed) {
        req.socket.destroy();
        return;
      }
    }
    return handleApi(state, req, res, path);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });

  const sweep = setInterval(() => state.settle(), SWEEP_INTERVAL_MS);
  sweep.unref();

  const address = server.address() as AddressInfo;
  // a wildcard bind (0.0.0.0, ::) is reached through loopback
  const ip = address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '::1' : address.address;
  const host = ip.includes(':') ? `[${ip}]` : ip;
  let closing: Promise<void> | undefined;

  return {
    ...sandbox,
    url: `http://${host}:${address.port}/api/v1`,
    port: address.port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        state.closed = true;
        clearInterval(sweep);
        webhooks?.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
