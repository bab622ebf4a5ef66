/**
 * What real APIs, proxies and networks do that the API doc does not say (SPEC §5 additions),
 * as sandbox faults a user can rehearse against (`sandbox --help`). All are off by default:
 * by default the sandbox answers exactly as documented.
 */
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { BatchError } from '../errors.js';

export type FaultEncoding = 'gzip' | 'deflate' | 'br';
export type ResetFormat = 'epoch-s' | 'epoch-ms' | 'delta';
export type RetryAfterFormat = 'seconds' | 'http-date';
export type FaultRoute = 'balance' | 'operators' | 'recharge' | 'transaction';
export type StatusWords = Partial<Record<'processing' | 'completed' | 'failed', string>>;

export interface Faults {
  /** POST /recharge 200 answers carry the transaction id but no `status` (schema drift) */
  noStatus: boolean;
  /** every answer body is encoded so, though the client did not ask for it */
  encoding: FaultEncoding | null;
  /** how `X-RateLimit-Reset` is written: epoch seconds (default), epoch milliseconds, seconds from now */
  resetFormat: ResetFormat;
  /** how `Retry-After` is written: seconds (default) or an HTTP date */
  retryAfterFormat: RetryAfterFormat;
  /** the server's clock runs this many ms ahead: its `Date` header, HTTP-date waits and epoch resets */
  clockSkewMs: number;
  /** these routes answer 429 forever */
  rateLimited: FaultRoute[];
  /** the wait (ms) every 429 asks for, instead of the window's own */
  retryAfterMs: number | null;
  /** error messages and failed transactions' messages echo the request's Authorization header */
  echoKey: boolean;
  /** 0..1: fraction of POST /recharge answered `200 {"success": false, "error": …}`, nothing charged */
  successFalseRate: number;
  /** the words the API uses for the documented statuses, e.g. {completed: 'SUCCESS', failed: 'declined'} */
  statusWords: StatusWords;
}

export const NO_FAULTS: Faults = {
  noStatus: false,
  encoding: null,
  resetFormat: 'epoch-s',
  retryAfterFormat: 'seconds',
  clockSkewMs: 0,
  rateLimited: [],
  retryAfterMs: null,
  echoKey: false,
  successFalseRate: 0,
  statusWords: {},
};

function usage(message: string): BatchError {
  return new BatchError('USAGE', `sandbox: ${message}`);
}

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T))
    throw usage(`${name} must be one of ${allowed.join(', ')}, got ${String(value)}`);
  return value as T;
}

/** Checks a partial set of faults; throws USAGE naming the first bad one. */
export function checkFaults(patch: Partial<Faults>): Partial<Faults> {
  const out: Partial<Faults> = {};
  if (patch.noStatus !== undefined) out.noStatus = Boolean(patch.noStatus);
  if (patch.echoKey !== undefined) out.echoKey = Boolean(patch.echoKey);
  if (patch.encoding !== undefined)
    out.encoding =
      patch.encoding === null
        ? null
        : oneOf('fault encoding', patch.encoding, ['gzip', 'deflate', 'br'] as const);
  if (patch.resetFormat !== undefined)
    out.resetFormat = oneOf('reset format', patch.resetFormat, ['epoch-s', 'epoch-ms', 'delta'] as const);
  if (patch.retryAfterFormat !== undefined)
    out.retryAfterFormat = oneOf('retry-after format', patch.retryAfterFormat, [
      'seconds',
      'http-date',
    ] as const);
  if (patch.clockSkewMs !== undefined) {
    if (!Number.isFinite(patch.clockSkewMs))
      throw usage(`clock skew must be a number of ms, got ${String(patch.clockSkewMs)}`);
    out.clockSkewMs = patch.clockSkewMs;
  }
  if (patch.retryAfterMs !== undefined) {
    if (patch.retryAfterMs !== null && (!Number.isFinite(patch.retryAfterMs) || patch.retryAfterMs < 0))
      throw usage(`retry-after must be ms ≥ 0, got ${String(patch.retryAfterMs)}`);
    out.retryAfterMs = patch.retryAfterMs;
  }
  if (patch.rateLimited !== undefined) {
    if (!Array.isArray(patch.rateLimited)) throw usage('rateLimited must be a list of routes');
    out.rateLimited = patch.rateLimited.map((r) =>
      oneOf('rate-limited route', r, ['balance', 'operators', 'recharge', 'transaction'] as const),
    );
  }
  if (patch.successFalseRate !== undefined) {
    const v = patch.successFalseRate;
    if (typeof v !== 'number' || !(v >= 0 && v <= 1))
      throw usage(`success-false rate must be a number from 0 to 1, got ${String(v)}`);
    out.successFalseRate = v;
  }
  if (patch.statusWords !== undefined) {
    const words: StatusWords = {};
    for (const [k, w] of Object.entries(patch.statusWords ?? {})) {
      const status = oneOf('status word for', k, ['processing', 'completed', 'failed'] as const);
      if (typeof w !== 'string' || !/^[\w -]{1,40}$/.test(w))
        throw usage(`status word for ${k} must be a short word, got ${String(w)}`);
      words[status] = w;
    }
    out.statusWords = words;
  }
  return out;
}

/** `completed=SUCCESS,failed=declined` → {completed: 'SUCCESS', failed: 'declined'} (for --status-words). */
export function parseStatusWords(text: string): StatusWords {
  const words: Record<string, string> = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^(\w+)\s*=\s*(.+)$/.exec(part);
    if (!m)
      throw usage(`--status-words: "${part}" is not status=word (e.g. completed=SUCCESS,failed=declined)`);
    words[m[1]!] = m[2]!.trim();
  }
  return checkFaults({ statusWords: words }).statusWords!;
}

/** The route a path belongs to, for `rateLimited`. */
export function routeOf(sub: string | null): FaultRoute | null {
  if (sub === '/balance') return 'balance';
  if (sub === '/operators') return 'operators';
  if (sub === '/recharge') return 'recharge';
  return sub && sub.startsWith('/transaction/') ? 'transaction' : null;
}

/** The body bytes and the Content-Encoding header the fault calls for. */
export function encodeBody(
  text: string,
  encoding: FaultEncoding | null,
): { bytes: Buffer; headers: Record<string, string> } {
  const raw = Buffer.from(text, 'utf8');
  if (!encoding || raw.length === 0) return { bytes: raw, headers: {} };
  const bytes =
    encoding === 'gzip' ? gzipSync(raw) : encoding === 'br' ? brotliCompressSync(raw) : deflateSync(raw);
  return { bytes, headers: { 'Content-Encoding': encoding } };
}

/** Retry-After for a wait of `waitMs`, as the fault says to write it. */
export function retryAfterHeader(waitMs: number, faults: Faults, serverNow: number): string {
  if (faults.retryAfterFormat === 'http-date')
    return new Date(serverNow + Math.max(1000, waitMs)).toUTCString();
  return String(Math.max(1, Math.ceil(waitMs / 1000)));
}

/** X-RateLimit-Reset for a window ending at `resetAtMs` (our clock), as the fault says. */
export function resetHeader(resetAtMs: number, faults: Faults, now: number): string {
  const serverReset = resetAtMs + faults.clockSkewMs;
  if (faults.resetFormat === 'epoch-ms') return String(Math.ceil(serverReset));
  if (faults.resetFormat === 'delta') return String(Math.max(0, Math.ceil((resetAtMs - now) / 1000)));
  return String(Math.ceil(serverReset / 1000));
}

/** A transaction view with the API's own status words, and without `status` under noStatus. */
export function dressTransaction(
  view: Record<string, unknown>,
  faults: Faults,
  shape: 'get' | 'post',
  authorization: string | undefined,
): Record<string, unknown> {
  const out = { ...view };
  const word = faults.statusWords[out.status as 'processing' | 'completed' | 'failed'];
  if (word) out.status = word;
  if (shape === 'post' && faults.noStatus) delete out.status;
  if (faults.echoKey && typeof out.message === 'string')
    out.message = `${out.message} (request: Authorization: ${authorization ?? ''})`;
  return out;
}
