/**
 * The sandbox's faults of real APIs (src/sandbox/faults.ts, SPEC §5 additions): each one
 * answers the way the field reports describe, so a user can rehearse it. Read with raw
 * node:http answers (no client of ours in between), so what is checked is what is on the wire.
 */
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.js';

const KEY = 'sk-rehearse-faults';
let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.close();
  sb = undefined;
});

async function start(opts: Partial<SandboxOptions>): Promise<Sandbox> {
  sb = await startSandbox({
    apiKey: KEY,
    rateLimit: null,
    completeAfterMs: 0,
    clock: new FakeClock(1_700_000_000_000),
    ...opts,
  });
  return sb;
}

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bytes: Buffer;
}

function call(method: string, path: string, body?: unknown): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${sb!.url}${path}`,
      { method, headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, bytes: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const recharge = (ref = 'R1') =>
  call('POST', '/recharge', { operator_id: 2, mobile_number: '01812345678', amount: 200, reference: ref });
const json = (r: Raw) => JSON.parse(r.bytes.toString('utf8'));

describe('sandbox faults of real APIs', () => {
  it('noStatus: the POST answer keeps the transaction id and drops the status; the charge is made', async () => {
    await start({ faults: { noStatus: true } });
    const r = json(await recharge());
    expect(r.data.transaction_id).toEqual(expect.any(String));
    expect(r.data).not.toHaveProperty('status');
    expect(sb!.ledger()).toHaveLength(1);
  });

  it('encoding gzip: every answer is gzip-encoded with the header, though not asked for', async () => {
    await start({ faults: { encoding: 'gzip' } });
    const r = await call('GET', '/balance');
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(gunzipSync(r.bytes).toString('utf8')).data.balance).toBe(50000);
  });

  it('resetFormat epoch-ms and a clock skew: X-RateLimit-Reset in epoch milliseconds of the skewed clock, Date header skewed', async () => {
    await start({ rateLimit: '10/min', faults: { resetFormat: 'epoch-ms', clockSkewMs: 3_600_000 } });
    const r = await call('GET', '/balance');
    const reset = Number(r.headers['x-ratelimit-reset']);
    expect(reset).toBeGreaterThan(1e12);
    expect(reset).toBeGreaterThanOrEqual(1_700_000_000_000 + 3_600_000);
    expect(Date.parse(String(r.headers.date))).toBe(
      Math.floor((1_700_000_000_000 + 3_600_000) / 1000) * 1000,
    );
  });

  it('rateLimited + retryAfter + http-date: the route answers 429 forever with an HTTP-date Retry-After of the skewed clock', async () => {
    await start({
      faults: {
        rateLimited: ['balance'],
        retryAfterMs: 3_600_000,
        retryAfterFormat: 'http-date',
        clockSkewMs: 60_000,
      },
    });
    for (let i = 0; i < 3; i++) {
      const r = await call('GET', '/balance');
      expect(r.status).toBe(429);
      expect(Date.parse(String(r.headers['retry-after']))).toBe(1_700_000_000_000 + 60_000 + 3_600_000);
    }
    expect((await call('GET', '/operators')).status).toBe(200);
  });

  it('echoKey: error messages and failed transactions echo the Authorization header', async () => {
    await start({ failRate: 1, faults: { echoKey: true } });
    const bad = json(
      await call('POST', '/recharge', { operator_id: 99, mobile_number: '01812345678', amount: 200 }),
    );
    expect(bad.error.message).toContain(`Bearer ${KEY}`);
    const id = json(await recharge()).data.transaction_id;
    const txn = json(await call('GET', `/transaction/${id}`));
    expect(txn.data.status).toBe('failed');
    expect(txn.data.message).toContain(`Bearer ${KEY}`);
  });

  it('successFalseRate 1: a 200 with success false and an error code, nothing charged', async () => {
    await start({ faults: { successFalseRate: 1 } });
    const r = await recharge();
    expect(r.status).toBe(200);
    expect(json(r)).toEqual({
      success: false,
      error: { code: 'OPERATOR_UNAVAILABLE', message: expect.any(String) },
    });
    expect(sb!.ledger()).toHaveLength(0);
  });

  it('statusWords: the API spells the statuses its own way, on POST and GET', async () => {
    await start({
      completeAfterMs: 1000,
      faults: { statusWords: { processing: 'QUEUED', completed: 'SUCCESS' } },
    });
    const posted = json(await recharge());
    expect(posted.data.status).toBe('QUEUED');
  });

  it('a bad fault is refused with the option named', async () => {
    await expect(start({ faults: { encoding: 'zip' as never } })).rejects.toThrow(/fault encoding/);
  });
});
