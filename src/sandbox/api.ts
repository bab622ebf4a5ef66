/**
 * The documented API under /api/v1 (docs/api.md): auth, rate limit,
 * faults, then the four routes. Per request the order is fixed, so a seeded run repeats exactly:
 * arrival (logged, rate limit decided) → body read → latency → 401 → 429 → 413 → errorRate draw
 * (500) → route; for a committed POST /recharge, the failRate draw, then the dropRate draw.
 * Every authed, non-429 request draws once for errorRate even when it is 0, so changing a rate
 * does not shift the draws of later requests.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorBody, readBody, sendBytes, sendJson, successBody, type Headers } from './http.js';
import { dressTransaction, encodeBody, resetHeader, retryAfterHeader, routeOf } from './faults.js';
import { transactionView } from './ledger.js';
import { chance } from './random.js';
import { rateLimitHeaders } from './ratelimit.js';
import { recordAnswer, type RequestLogEntry, type SandboxState } from './state.js';
import { validateRecharge } from './validate.js';

export const API_BASE_PATH = '/api/v1';

const INSUFFICIENT_BALANCE_MESSAGE = 'Your account balance is insufficient for this transaction';

type Answer = (status: number, body: unknown, headers?: Headers) => void;

export async function handleApi(
  state: SandboxState,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  const at = state.clock.now();
  const entry: RequestLogEntry = { at, method: req.method ?? 'GET', path, status: 0 };
  state.log.push(entry);
  state.stats.requests++;

  const authed = state.authorized(req);
  const decision = authed && state.limiter ? state.limiter.take(at) : null;
  const faults = state.config.faults;
  const limitHeaders = decision && state.rateLimitHeaders ? rateLimitHeaders(decision) : {};
  if (decision && limitHeaders['X-RateLimit-Reset'] !== undefined)
    limitHeaders['X-RateLimit-Reset'] = resetHeader(decision.resetAtMs, faults, at);

  const body = await readBody(req);
  if (state.config.latencyMs > 0) await state.clock.sleep(state.config.latencyMs);
  if (state.closed) {
    req.socket.destroy();
    return;
  }

  const answer: Answer = (status, payload, headers = {}) => {
    recordAnswer(state, entry, status);
    const all: Headers = { ...limitHeaders, ...headers };
    if (faults.clockSkewMs) all.Date = new Date(state.clock.now() + faults.clockSkewMs).toUTCString();
    if (
      faults.echoKey &&
      typeof payload === 'object' &&
      payload &&
      (payload as { success?: unknown }).success === false
    ) {
      const e = (payload as { error: { message: string } }).error;
      e.message = `${e.message} (request: Authorization: ${req.headers.authorization ?? ''})`;
    }
    const encoded = encodeBody(
      typeof payload === 'string' ? payload : JSON.stringify(payload),
      faults.encoding,
    );
    sendBytes(res, status, encoded.bytes, { ...all, ...encoded.headers });
  };

  if (!authed) {
    // never echo the key that was sent
    recordAnswer(state, entry, 401);
    sendJson(res, 401, errorBody('UNAUTHORIZED', 'Invalid or missing API key'), {
      'WWW-Authenticate': 'Bearer',
    });
    return;
  }
  const sub = path.startsWith(`${API_BASE_PATH}/`)
    ? path.slice(API_BASE_PATH.length).replace(/(.)\/$/, '$1')
    : null;
  const forever = faults.rateLimited.includes(routeOf(sub)!);
  if ((decision && !decision.allowed) || forever) {
    state.stats.rateLimited++;
    const waitMs =
      faults.retryAfterMs ?? (decision && !decision.allowed ? decision.retryAfterSec * 1000 : 1000);
    const message = forever
      ? 'Rate limit exceeded'
      : `Rate limit of ${decision!.limit} requests per ${decision!.windowMs / 1000}s exceeded; retry after ${decision!.retryAfterSec}s`;
    return answer(429, errorBody('RATE_LIMIT_EXCEEDED', message), {
      'Retry-After': retryAfterHeader(waitMs, faults, at + faults.clockSkewMs),
    });
  }
  if (!body.ok) {
    return answer(413, errorBody('PAYLOAD_TOO_LARGE', 'The request body is too large'), {
      Connection: 'close',
    });
  }
  if (chance(state.random, state.config.errorRate)) {
    return answer(500, errorBody('INTERNAL_ERROR', 'Internal server error'));
  }

  state.settle();
  route(state, req, path, body.text, entry, answer);
}

function route(
  state: SandboxState,
  req: IncomingMessage,
  path: string,
  text: string,
  entry: RequestLogEntry,
  answer: Answer,
): void {
  const method = req.method ?? 'GET';
  const sub = path.startsWith(`${API_BASE_PATH}/`)
    ? path.slice(API_BASE_PATH.length).replace(/(.)\/$/, '$1')
    : null;
  const wrongMethod = (allow: string) =>
    answer(405, errorBody('METHOD_NOT_ALLOWED', `Use ${allow} for ${path}`), { Allow: allow });

  if (sub === '/balance') {
    if (method !== 'GET') return wrongMethod('GET');
    // written by hand so the balance keeps its two decimals, as in the doc ("balance": 50000.00)
    return answer(
      200,
      `{"success":true,"data":{"balance":${state.ledger.balance.toFixed(2)},"currency":"BDT"}}`,
    );
  }
  if (sub === '/operators') {
    if (method !== 'GET') return wrongMethod('GET');
    return answer(200, successBody(state.operators));
  }
  if (sub === '/recharge') {
    if (method !== 'POST') return wrongMethod('POST');
    return recharge(state, req, text, entry, answer);
  }
  const m = sub === null ? null : /^\/transaction\/([^/]+)$/.exec(sub);
  if (m) {
    if (method !== 'GET') return wrongMethod('GET');
    let id: string;
    try {
      id = decodeURIComponent(m[1]!);
    } catch {
      id = m[1]!;
    }
    const txn = state.ledger.find(id);
    if (!txn) return answer(404, errorBody('TRANSACTION_NOT_FOUND', 'No transaction with this id'));
    return answer(
      200,
      successBody(
        dressTransaction(transactionView(txn), state.config.faults, 'get', req.headers.authorization),
      ),
    );
  }
  return answer(404, errorBody('NOT_FOUND', `No such endpoint: ${method} ${path}`));
}

function recharge(
  state: SandboxState,
  req: IncomingMessage,
  text: string,
  entry: RequestLogEntry,
  answer: Answer,
): void {
  const checked = validateRecharge(text, state.operators);
  if (!checked.ok) return answer(400, errorBody(checked.code, checked.message));
  const { operator, mobileNumber, amount, reference } = checked.value;

  if (reference !== null && state.config.dedup !== 'off') {
    const prior = state.ledger.findByReference(reference);
    if (prior && state.config.dedup === 'replay')
      return answer(
        200,
        successBody(
          dressTransaction(
            transactionView(prior, 'post'),
            state.config.faults,
            'post',
            req.headers.authorization,
          ),
        ),
      );
    if (prior) {
      return answer(
        400,
        errorBody(
          'DUPLICATE_REFERENCE',
          `reference ${reference} was already used by transaction ${prior.id}`,
        ),
      );
    }
  }

  if (!state.ledger.canAfford(amount))
    return answer(402, errorBody('INSUFFICIENT_BALANCE', INSUFFICIENT_BALANCE_MESSAGE));
  // drawn only when asked for, so the other draws of a seeded run are unchanged
  if (
    state.config.faults.successFalseRate > 0 &&
    chance(state.random, state.config.faults.successFalseRate)
  ) {
    return answer(
      200,
      errorBody('OPERATOR_UNAVAILABLE', 'The operator gateway is not available; nothing was charged'),
    );
  }

  const fails = chance(state.random, state.config.failRate);
  const txn = state.ledger.commit({
    reference,
    mobileNumber,
    amount,
    operator,
    now: state.clock.now(),
    completeAfterMs: state.config.completeAfterMs,
    fails,
  });
  state.stats.recharges++;
  state.webhooks?.committed(txn);

  if (chance(state.random, state.config.dropRate)) {
    // committed, and the answer is lost: the client cannot know whether it was charged
    recordAnswer(state, entry, 0);
    req.socket.destroy();
    return;
  }
  state.settle(); // completeAfterMs 0: final at once
  return answer(
    200,
    successBody(
      dressTransaction(transactionView(txn, 'post'), state.config.faults, 'post', req.headers.authorization),
    ),
  );
}
