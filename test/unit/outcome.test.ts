/** The outcome table (src/api/outcome.ts), decoding and masking: what each answer means. */
import { describe, expect, it } from 'vitest';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import {
  findTransactionId,
  getOutcome,
  postOutcome,
  readStatusWord,
  type Answer,
} from '../../src/api/outcome.js';
import { decodeBody } from '../../src/api/decode.js';
import { retryAfterMs } from '../../src/api/headers.js';
import { addSecret, mask, safeUrl } from '../../src/api/mask.js';
import { balanceSchema } from '../../src/api/types.js';

function answer(status: number, body: unknown, headers: Record<string, string> = {}): Answer {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status, headers, text, body: parsed };
}

const txn = { transaction_id: 'TX1', status: 'processing', mobile_number: '01712345678', amount: 100 };

describe('POST outcomes', () => {
  it('a 2xx with a transaction id but no status, or not even JSON, is accepted (processing, to be polled), never unknown', () => {
    for (const a of [
      answer(200, { success: true, data: { transaction_id: 'TX9' } }),
      answer(200, { transaction_id: 'TX9' }),
      answer(201, '{"success":true,"data":{"transaction_id":"TX9","status":'),
      answer(200, { success: false, data: { transaction_id: 'TX9' }, error: { code: 'LATE', message: 'x' } }),
    ]) {
      const o = postOutcome(a);
      expect(o.kind).toBe('accepted');
      if (o.kind !== 'accepted') continue;
      expect(o.txn.transaction_id).toBe('TX9');
      expect(o.status.outcome).toBe('processing');
      expect(o.salvaged).toBeDefined();
    }
  });

  it('a documented 200 is accepted with its status word read by the synonym table', () => {
    const o = postOutcome(answer(200, { success: true, data: { ...txn, status: 'SUCCESS' } }));
    expect(o).toMatchObject({ kind: 'accepted', status: { outcome: 'completed', known: true } });
  });

  it('200 success:false is the error it carries (rejected with its code); DUPLICATE_REFERENCE stays ambiguous', () => {
    expect(
      postOutcome(answer(200, { success: false, error: { code: 'OPERATOR_DOWN', message: 'down' } })),
    ).toEqual({ kind: 'rejected', code: 'OPERATOR_DOWN', message: 'down' });
    expect(
      postOutcome(answer(200, { success: false, error: { code: 'DUPLICATE_REFERENCE', message: 'used' } })),
    ).toMatchObject({ kind: 'ambiguous', resendable: false });
  });

  it('an unreadable 2xx without an id is ambiguous; 402 short; 401 and 404 fatal; 5xx ambiguous', () => {
    expect(
      postOutcome({ status: 200, headers: {}, text: '', body: undefined, undecodable: 'bad gzip' }),
    ).toMatchObject({ kind: 'ambiguous', code: 'API_BAD_RESPONSE' });
    expect(
      postOutcome(answer(402, { success: false, error: { code: 'INSUFFICIENT_BALANCE', message: 'low' } })),
    ).toEqual({ kind: 'short', message: 'low' });
    expect(postOutcome(answer(401, {})).kind).toBe('fatal');
    expect(postOutcome(answer(404, {})).kind).toBe('fatal');
    expect(postOutcome(answer(503, 'Service Unavailable'))).toMatchObject({
      kind: 'ambiguous',
      resendable: true,
    });
  });

  it('API text in outcomes is masked: a registered key and any Bearer token', () => {
    addSecret('sk_live_outcome_secret\n');
    const o = postOutcome(
      answer(400, {
        success: false,
        error: { code: 'BAD', message: 'got Authorization: Bearer abc.def and sk_live_outcome_secret' },
      }),
    );
    expect(o).toEqual({ kind: 'rejected', code: 'BAD', message: 'got Authorization: Bearer *** and ***' });
  });

  it('findTransactionId looks in data, at the top level, in a nested transaction, and in broken text', () => {
    expect(findTransactionId(answer(200, { data: { transaction: { id: 77 } } }))).toBe('77');
    expect(findTransactionId({ body: undefined, text: '<html>"transactionId": "AB-12"' })).toBe('AB-12');
    expect(findTransactionId(answer(200, { success: true, data: {} }))).toBeUndefined();
  });
});

describe('GET outcomes', () => {
  it('a fitting 2xx is data; success:false is an API_ERROR with its code; 5xx is retried; 401 is fatal', () => {
    expect(
      getOutcome(answer(200, { success: true, data: { balance: '5.00' } }), balanceSchema, '/balance'),
    ).toEqual({ kind: 'ok', data: { balance: 5, currency: 'BDT' } });
    const e = getOutcome(
      answer(200, { success: false, error: { code: 'MAINTENANCE', message: 'later' } }),
      balanceSchema,
      '/balance',
    );
    expect(e.kind === 'error' && e.error.apiCode).toBe('MAINTENANCE');
    expect(getOutcome(answer(502, 'Bad Gateway'), balanceSchema, '/balance').kind).toBe('retry');
    const u = getOutcome(answer(401, {}), balanceSchema, '/balance');
    expect(u.kind === 'error' && u.error.code).toBe('API_UNAUTHORIZED');
  });
});

describe('status words (SPEC §5 additions)', () => {
  it.each([
    ['COMPLETED', 'completed'],
    ['Succeeded', 'completed'],
    ['done', 'completed'],
    ['declined', 'failed'],
    ['EXPIRED', 'failed'],
    ['refunded', 'failed'],
    ['reversed', 'failed'],
    ['canceled', 'failed'],
    ['in_progress', 'processing'],
    ['Queued', 'processing'],
  ])('%s → %s', (word, outcome) => {
    expect(readStatusWord(word)).toEqual({ outcome, word, known: true });
  });
  it('any other word keeps the row processing and is marked unknown', () => {
    expect(readStatusWord('on_hold')).toEqual({ outcome: 'processing', word: 'on_hold', known: false });
  });
});

describe('retryAfterMs (SPEC §5 additions, "Waits the server asks for are sane")', () => {
  const now = 1_800_000_000_000;
  it('Retry-After in seconds', () => {
    expect(retryAfterMs({ 'retry-after': '3' }, now)).toBe(3000);
  });
  it("Retry-After as an HTTP date is read against the answer's Date header, so a clock an hour ahead asks for seconds, not an hour", () => {
    const serverNow = now + 3_600_000;
    const headers = {
      date: new Date(serverNow).toUTCString(),
      'retry-after': new Date(serverNow + 5000).toUTCString(),
    };
    expect(retryAfterMs(headers, now)).toBe(5000);
    expect(retryAfterMs({ 'retry-after': new Date(now + 5000).toUTCString() }, now)).toBe(5000);
  });
  it('reset headers: seconds from now, epoch seconds, epoch milliseconds — told apart by magnitude', () => {
    expect(retryAfterMs({ 'ratelimit-reset': '4' }, now)).toBe(4000);
    expect(retryAfterMs({ 'x-ratelimit-reset': String(now / 1000 + 7) }, now)).toBe(7000);
    expect(retryAfterMs({ 'x-ratelimit-reset': String(now + 1500) }, now)).toBe(1500);
  });
  it('never negative, never NaN; undefined when nothing usable', () => {
    expect(retryAfterMs({ 'x-ratelimit-reset': String(now - 60_000) }, now)).toBe(0);
    expect(retryAfterMs({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(retryAfterMs({}, now)).toBeUndefined();
  });
});

describe('decodeBody', () => {
  const text = '{"success":true}';
  it.each([
    ['gzip', gzipSync(text)],
    ['deflate', deflateSync(text)],
    ['deflate', deflateRawSync(text)],
    ['br', brotliCompressSync(text)],
  ] as const)('undoes %s', (enc, bytes) => {
    expect(decodeBody(bytes, enc)).toEqual({ text });
  });
  it('drops a UTF-8 BOM, and reads gzip bytes whose header a proxy dropped', () => {
    expect(decodeBody(Buffer.from('\ufeff' + text), undefined)).toEqual({ text });
    expect(decodeBody(gzipSync(text), undefined)).toEqual({ text });
  });
  it('says so when the bytes are not what the header claims', () => {
    expect(decodeBody(Buffer.from('plain'), 'gzip').undecodable).toMatch(/gzip/);
  });
});

describe('mask', () => {
  it('masks a key registered with surrounding whitespace, and Bearer tokens, case-insensitively', () => {
    addSecret('  key-with-newline-123\n');
    expect(mask('x key-with-newline-123 y authorization: bearer zzz')).toBe(
      'x *** y authorization: bearer ***',
    );
  });
  it('prints a Redis URL without its password', () => {
    expect(safeUrl('redis://user:pw-secret@host:6379/0')).not.toContain('pw-secret');
    expect(safeUrl('redis://:pw-secret@host:notaport')).not.toContain('pw-secret');
  });
});
