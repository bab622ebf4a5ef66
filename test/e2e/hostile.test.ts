/**
 * The built CLI against a hostile API (test/support/hostile.ts): every case of the field
 * reports on real payment APIs, proxies and networks (SPEC §5 additions), judged by that
 * server's own ledger of what it charged — no transaction id lost, no number charged twice,
 * the circuit breaker within 5 + concurrency POSTs, the key in no file and no output, a
 * SIGTERM that ends every wait. Waits are bounded by the rules, never by timing assertions.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  KEY,
  apiEnv,
  fastArgs,
  readCsv,
  runCli,
  startCli,
  tempDir,
  writeBatch,
  type CliResult,
} from './helpers.js';
import { documentedTxn, startHostile, type Hostile, type HostileOptions } from '../support/hostile.js';

let server: Hostile | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function hostile(opts: Omit<HostileOptions, 'key'>): Promise<Hostile> {
  server = await startHostile({ key: KEY, ...opts });
  return server;
}

const err = (code: string, message: string) => ({ success: false, error: { code, message } });
const ok = (data: unknown) => ({ success: true, data });

/** A batch of `n` rows, and the CLI's arguments for it. */
function batch(n: number) {
  const dir = tempDir('rb-hostile-');
  const { path, rows } = writeBatch(dir, n);
  const state = join(dir, 'state');
  return {
    dir,
    path,
    rows,
    state,
    results: join(dir, 'batch.results.csv'),
    args: ['run', path, ...fastArgs(state), '--job', 'hostile'],
  };
}

/** Every charge of the ledger is in the results, on the row of its reference: no id lost. */
function expectNoIdLost(h: Hostile, results: string): void {
  const byRef = new Map(readCsv(results).map((r) => [r.reference, r]));
  for (const c of h.ledger) {
    const row = byRef.get(c.reference);
    expect(row, `charge ${c.transaction_id} (${c.reference}) in the results`).toBeDefined();
    expect(row!.transaction_id, `row ${row!.row} keeps transaction ${c.transaction_id}`).toBe(
      c.transaction_id,
    );
  }
}

/** No mobile number charged twice. */
function expectNoDouble(h: Hostile): void {
  const numbers = h.ledger.map((c) => c.mobile_number);
  expect(new Set(numbers).size).toBe(numbers.length);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

function statuses(results: string): string[] {
  return readCsv(results).map((r) => r.status!);
}

describe('a transaction id is never lost', () => {
  it('a 200 with a transaction_id but no status, or a body that is not even JSON: the id is kept and polled to its end', async () => {
    const h = await hostile({
      recharge: (call) => {
        const c = call.charge();
        if (call.n % 2 === 0) return { status: 200, body: ok({ transaction_id: c.transaction_id }) };
        return {
          status: 200,
          raw: `{"success":true,"data":{"transaction_id":"${c.transaction_id}","status":`,
        };
      },
    });
    const b = batch(6);
    const r = await runCli(b.args, apiEnv(h.url));
    expect(r.code, r.stderr).toBe(0);
    expect(h.ledger).toHaveLength(6);
    expectNoIdLost(h, b.results);
    expectNoDouble(h);
    expect(statuses(b.results)).toEqual(Array(6).fill('completed'));
  });

  it.each(['gzip', 'deflate', 'br'] as const)(
    'answers %s-encoded though not asked for are read: every row completed',
    async (encoding) => {
      const h = await hostile({ encoding });
      const b = batch(5);
      const r = await runCli(b.args, apiEnv(h.url));
      expect(r.code, r.stderr).toBe(0);
      expect(h.ledger).toHaveLength(5);
      expectNoIdLost(h, b.results);
      expect(statuses(b.results)).toEqual(Array(5).fill('completed'));
    },
  );
});

describe('circuit breaker', () => {
  it('answers nobody can read: stops within 5 + concurrency POSTs, exit 3, the rest pending; resume continues without paying anyone twice', async () => {
    let broken = true;
    const h = await hostile({
      recharge: (call) => {
        const c = call.charge();
        if (broken) return { status: 200, raw: 'this is not gzip', headers: { 'content-encoding': 'gzip' } };
        return { status: 200, body: ok(documentedTxn(c, 'processing')) };
      },
    });
    const b = batch(30);
    const r = await runCli([...b.args, '--concurrency', '2'], apiEnv(h.url));
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/answers cannot be read/);
    expect(h.posts()).toBeGreaterThanOrEqual(5);
    expect(h.posts()).toBeLessThanOrEqual(5 + 2);
    const after = statuses(b.results);
    expect(after.filter((s) => s === 'unknown')).toHaveLength(h.posts());
    expect(after.filter((s) => s === 'pending')).toHaveLength(30 - h.posts());

    broken = false;
    const unknownBefore = h.ledger.length;
    const again = await runCli(['resume', 'hostile', ...fastArgs(b.state)], apiEnv(h.url));
    expect(again.code, again.stderr).toBe(1); // the unknown rows stay to be checked
    expect(h.ledger).toHaveLength(30);
    expectNoDouble(h);
    const final = statuses(b.results);
    expect(final.filter((s) => s === 'completed')).toHaveLength(30 - unknownBefore);
    expect(final.filter((s) => s === 'unknown')).toHaveLength(unknownBefore);
  });
});

describe('waits the server asks for', () => {
  it('X-RateLimit-Reset in epoch milliseconds is a short wait, not a 1.8e15 ms one: the batch completes, no TimeoutOverflowWarning', async () => {
    const h = await hostile({
      recharge: (call) => {
        if (call.n < 3) {
          return {
            status: 429,
            body: err('RATE_LIMIT_EXCEEDED', 'slow down'),
            headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(call.serverNow + 300) },
          };
        }
        return { status: 200, body: ok(documentedTxn(call.charge(), 'processing')) };
      },
    });
    const b = batch(4);
    const r = await runCli(b.args, apiEnv(h.url));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('TimeoutOverflowWarning');
    expect(h.ledger).toHaveLength(4);
    expectNoIdLost(h, b.results);
  });

  it('Retry-After as an HTTP date from a server clock an hour ahead is read against its Date header: no hour-long stop', async () => {
    // misread against our clock it would be an hour: more than --max-wait (5m), exit 4
    const h = await hostile({
      clockSkewMs: 3_600_000,
      recharge: (call) => {
        if (call.n < 2)
          return {
            status: 429,
            body: err('RATE_LIMIT_EXCEEDED', 'slow down'),
            headers: { 'retry-after': new Date(call.serverNow + 1000).toUTCString() },
          };
        return { status: 200, body: ok(documentedTxn(call.charge(), 'processing')) };
      },
    });
    const b = batch(3);
    const r = await runCli(b.args, apiEnv(h.url));
    expect(r.code, r.stderr).toBe(0);
    expect(h.ledger).toHaveLength(3);
  });

  it('GET /balance answering 429 forever: gives up after --max-wait, exit 3, nothing sent', async () => {
    const h = await hostile({
      balance: () => ({
        status: 429,
        body: err('RATE_LIMIT_EXCEEDED', 'slow down'),
        headers: { 'retry-after': '1' },
      }),
    });
    const b = batch(3);
    const r = await runCli([...b.args, '--max-wait', '2s'], apiEnv(h.url));
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/429/);
    expect(r.stderr).not.toMatch(/this is a bug/);
    expect(h.posts()).toBe(0);
  });

  it('POST /recharge answering 429 forever: gives up after --max-wait, exit 4, the rows still pending and nothing charged', async () => {
    const h = await hostile({
      recharge: () => ({
        status: 429,
        body: err('RATE_LIMIT_EXCEEDED', 'slow down'),
        headers: { 'retry-after': '1' },
      }),
    });
    const b = batch(3);
    const r = await runCli([...b.args, '--max-wait', '2s'], apiEnv(h.url));
    expect(r.code, r.stderr).toBe(4);
    expect(h.ledger).toHaveLength(0);
    expect(statuses(b.results)).toEqual(['pending', 'pending', 'pending']);
  });

  it('a single wait longer than --max-wait stops at once, resumably (exit 4), naming when the API said to come back', async () => {
    const h = await hostile({
      recharge: () => ({
        status: 429,
        body: err('RATE_LIMIT_EXCEEDED', 'slow down'),
        headers: { 'retry-after': '3600' },
      }),
    });
    const b = batch(3);
    const r = await runCli(b.args, apiEnv(h.url));
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(/come back at \d\d:\d\d:\d\d/);
    expect(statuses(b.results)).toEqual(['pending', 'pending', 'pending']);
    expect(h.ledger).toHaveLength(0);
  });
});

const hourLongRecharge = {
  status: 429,
  body: err('RATE_LIMIT_EXCEEDED', 'come back in an hour'),
  headers: { 'retry-after': '3600' },
};

describe('signals reach every wait', () => {
  const hourLong = hourLongRecharge;
  it.each([
    ['a 429 on POST /recharge', { recharge: () => hourLong }, '/recharge', 'pending'],
    ['a 429 on GET /balance at start-up', { balance: () => hourLong }, '/balance', 'pending'],
    ['a 429 on a status poll', { transaction: () => hourLong }, '/transaction', 'processing'],
  ] as const)(
    'SIGTERM during an hour-long wait for %s: exits 4 long before the hour, results written',
    async (_what, opts, path, rowStatus) => {
      const h = await hostile(opts as Omit<HostileOptions, 'key'>);
      const b = batch(2);
      const waiting = new Promise<void>((resolve) =>
        h.events.on('answer', (a: { path: string; status: number }) => {
          if (a.status === 429 && a.path.includes(path)) resolve();
        }),
      );
      const { child, done } = startCli([...b.args, '--max-wait', '2h'], apiEnv(h.url));
      await waiting;
      child.kill('SIGTERM');
      const r: CliResult = await done;
      expect(r.code, r.stderr).toBe(4);
      expect(existsSync(b.results)).toBe(true);
      expect(statuses(b.results).every((s) => s === rowStatus)).toBe(true);
      expectNoIdLost(h, b.results);
    },
    60_000,
  );
});

describe('a closed terminal (SIGHUP)', () => {
  it('stops the run like SIGTERM: exit 4, the results written, status tells why, nothing sent', async () => {
    const h = await hostile({ recharge: () => hourLongRecharge });
    const b = batch(2);
    const waiting = new Promise<void>((resolve) =>
      h.events.on('answer', (a: { path: string; status: number }) => {
        if (a.status === 429 && a.path.includes('/recharge')) resolve();
      }),
    );
    const { child, done } = startCli([...b.args, '--max-wait', '2h'], apiEnv(h.url));
    await waiting;
    child.kill('SIGHUP');
    const r: CliResult = await done;
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toContain('SIGHUP: stopping');
    expect(statuses(b.results)).toEqual(['pending', 'pending']);
    const s = await runCli(['status', 'hostile', '--state-dir', b.state, '--json']);
    expect((JSON.parse(s.stdout) as { stop: { code: string } }).stop.code).toBe('INTERRUPTED');
    expect(h.ledger).toHaveLength(0);
  }, 60_000);
});

describe('signals reach the waits before a job exists', () => {
  it('SIGTERM during an hour-long 429 on GET /operators: exits 4 at once, nothing sent, no half-made job', async () => {
    const h = await hostile({
      operators: () => ({
        status: 429,
        body: err('RATE_LIMIT_EXCEEDED', 'later'),
        headers: { 'retry-after': '3600' },
      }),
    });
    const b = batch(2);
    const waiting = new Promise<void>((resolve) =>
      h.events.on('answer', (a: { path: string; status: number }) => a.status === 429 && resolve()),
    );
    const { child, done } = startCli([...b.args, '--max-wait', '2h'], apiEnv(h.url));
    await waiting;
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).not.toMatch(/this is a bug/);
    expect(h.posts()).toBe(0);
    expect(existsSync(join(b.state, 'hostile'))).toBe(false);
  }, 60_000);
});

describe('nothing secret on disk or screen', () => {
  it('an API that echoes the Authorization header, and a key with a trailing newline: the key is in no file and no output', async () => {
    const echo = (auth: string) => `request rejected (${auth}; key ${auth.replace(/^Bearer /, '')})`;
    const h = await hostile({
      recharge: (call) => {
        if (call.n % 3 === 0) return { status: 400, body: err('INVALID_REQUEST', echo(call.authorization)) };
        return { status: 200, body: ok(documentedTxn(call.charge(), 'processing')) };
      },
      transaction: (c, i) =>
        i % 2 === 0
          ? {
              status: 200,
              body: ok(
                documentedTxn(c, 'failed', {
                  error_code: 'OPERATOR_FAILURE',
                  message: echo(`Bearer ${KEY}`),
                }),
              ),
            }
          : { status: 200, body: ok(documentedTxn(c, 'completed')) },
    });
    const b = batch(6);
    const r = await runCli([...b.args.filter((a) => a !== '--quiet')], {
      ...apiEnv(h.url),
      ALSAMIFLEXI_API_KEY: `${KEY}\n`,
    });
    expect(r.code, r.stderr).toBe(1);
    expect(h.ledger).toHaveLength(4); // the key was sent trimmed: accepted
    const outputs = [...filesUnder(b.state), ...filesUnder(b.dir).filter((f) => f.endsWith('.csv'))];
    expect(outputs.some((f) => f.endsWith('journal.log'))).toBe(true);
    for (const f of outputs) expect(readFileSync(f, 'utf8'), f).not.toContain(KEY);
    expect(r.stdout).not.toContain(KEY);
    expect(r.stderr).not.toContain(KEY);
    // the API's messages are kept, masked
    expect(readCsv(b.results).filter((x) => x.error_message!.includes('***'))).not.toHaveLength(0);
    expect(statSync(join(b.state, 'hostile', 'journal.log')).mode & 0o777).toBe(0o600);
  });

  it('a run stopped by an answer that echoes the key: job.json keeps the stop for status, never the key', async () => {
    const h = await hostile({
      recharge: (call) => ({
        status: 401,
        body: err('UNAUTHORIZED', `invalid key ${call.authorization.replace(/^Bearer /, '')}`),
      }),
    });
    const b = batch(3);
    const r = await runCli(b.args, apiEnv(h.url));
    expect(r.code).toBe(3);
    expect(h.ledger).toHaveLength(0);
    const meta = JSON.parse(readFileSync(join(b.state, 'hostile', 'job.json'), 'utf8')) as {
      stop?: { code: string; message: string };
    };
    expect(meta.stop?.code).toBe('API_UNAUTHORIZED');
    expect(meta.stop?.message).toContain('API key rejected');
    for (const f of filesUnder(b.state)) expect(readFileSync(f, 'utf8'), f).not.toContain(KEY);
    const s = await runCli(['status', 'hostile', '--state-dir', b.state]);
    expect(s.stdout).toContain('[API_UNAUTHORIZED]');
    expect(s.stdout).not.toContain(KEY);
  });

  it('--config pointing at the key file: exit 2, and the error does not quote it', async () => {
    const dir = tempDir('rb-hostile-');
    const keyFile = join(dir, 'api.key');
    writeFileSync(keyFile, `${KEY}\n`);
    const r = await runCli(['balance', '--config', keyFile], {
      ALSAMIFLEXI_API_KEY: 'another-key-123',
      ALSAMIFLEXI_BASE_URL: 'http://127.0.0.1:9/api/v1',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not valid JSON/);
    expect(r.stderr).not.toContain(KEY.slice(0, 6));
  });

  it('a --redis URL with a password is never printed with it', async () => {
    const r = await runCli(['balance', '--redis', 'redis://user:hunter2secret@127.0.0.1:notaport'], {
      ALSAMIFLEXI_API_KEY: KEY,
      ALSAMIFLEXI_BASE_URL: 'http://127.0.0.1:9/api/v1',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).not.toContain('hunter2secret');
  });
});

describe('answers read as what they say', () => {
  it('200 with success:false is the error it carries: failed with the API code and message, nothing charged', async () => {
    const h = await hostile({
      recharge: () => ({ status: 200, body: err('OPERATOR_UNAVAILABLE', 'Operator gateway is down') }),
    });
    const b = batch(2);
    const r = await runCli(b.args, apiEnv(h.url));
    expect(r.code, r.stderr).toBe(1);
    const rows = readCsv(b.results);
    expect(rows.map((x) => [x.status, x.error_code, x.error_message])).toEqual([
      ['failed', 'OPERATOR_UNAVAILABLE', 'Operator gateway is down'],
      ['failed', 'OPERATOR_UNAVAILABLE', 'Operator gateway is down'],
    ]);
    expect(h.ledger).toHaveLength(0);
  });

  it('status words COMPLETED, declined, expired, refunded and an undocumented one: final by the synonym table; the unknown one stays processing, shown, warned once', async () => {
    const words = ['COMPLETED', 'declined', 'expired', 'refunded', 'on_hold_x', 'on_hold_x'];
    const h = await hostile({
      // by the row (the generated reference ends with it), not the order the POSTs arrived in:
      // concurrent workers may commit them in any order
      transaction: (c) => ({
        status: 200,
        body: ok(documentedTxn(c, words[Number(c.reference.split('-').pop()) - 1]!)),
      }),
    });
    const b = batch(6);
    const r = await runCli([...b.args.filter((a) => a !== '--quiet'), '--poll-timeout', '1s'], apiEnv(h.url));
    expect(r.code, r.stderr).toBe(4); // two rows still processing at --poll-timeout
    const rows = readCsv(b.results);
    expect(rows.map((x) => x.status)).toEqual([
      'completed',
      'failed',
      'failed',
      'failed',
      'processing',
      'processing',
    ]);
    expect(rows[1]!.error_code).toBe('DECLINED');
    expect(rows[4]!.error_message).toContain('on_hold_x');
    expect(rows[5]!.error_message).toContain('on_hold_x');
    expect(r.stderr.match(/warning: .*on_hold_x/g)).toHaveLength(1);
    expectNoIdLost(h, b.results);
  });
});
