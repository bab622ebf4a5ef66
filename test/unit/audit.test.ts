/** The audit log as a listener on job events: the records an auditor reads, and never the key. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, chmodSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../src/clock.js';
import { JobEvents } from '../../src/job/events.js';
import { AuditLog } from '../../src/report/audit.js';
import { accountId } from '../../src/api/account.js';
import { tally, type RowState } from '../../src/job/rows.js';
import { isBatchError } from '../../src/errors.js';

const KEY = 'sk-live-9f8e7d6c5b4a';

function rowState(n: number, patch: Partial<RowState> = {}): RowState {
  return {
    row: n,
    line: n + 1,
    valid: true,
    status: 'pending',
    att: 1,
    ref: `rb-abc-${n}`,
    number: `0171234567${n}`,
    amount: 100 * n,
    ...patch,
  };
}

function lines(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('AuditLog', () => {
  it('writes one JSON line per row state change and per job start/stop, with the SPEC §10 fields and the clock time', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-audit-'));
    const file = join(dir, 'audit.jsonl');
    const clock = new FakeClock(Date.UTC(2026, 0, 2, 3, 4, 5));
    const log = new AuditLog({ file, account: 'acc0123456789abc', apiKey: KEY, clock });
    const events = new JobEvents();
    log.listen(events);
    const rows = [undefined, rowState(1), rowState(2)] as unknown as RowState[];
    events.emit('job:started', { job: 'payroll-1a2b3c4d', rows, resumed: false, pending: 2, processing: 0 });
    const r1 = rows[1]!;
    r1.status = 'sending';
    events.emit('row:submitted', { row: r1 });
    r1.status = 'processing';
    r1.txn = 'TXN1';
    void clock.advance(1000);
    events.emit('row:accepted', { row: r1 });
    r1.status = 'completed';
    events.emit('row:final', { row: r1 });
    const r2 = rows[2]!;
    r2.status = 'failed';
    r2.code = 'INVALID_OPERATOR';
    events.emit('row:final', { row: r2 });
    events.emit('job:finished', { job: 'payroll-1a2b3c4d', ...tally(rows), stopped: null });
    // after the job ended, the listener is gone: nothing more is recorded for it
    events.emit('row:final', { row: r2 });

    const recs = lines(file);
    expect(recs.map((r) => r.event)).toEqual([
      'job:started',
      'row:submitted',
      'row:accepted',
      'row:final',
      'row:final',
      'job:finished',
    ]);
    for (const r of recs) {
      expect(r.job).toBe('payroll-1a2b3c4d');
      expect(r.account).toBe('acc0123456789abc');
      expect(typeof r.time).toBe('string');
    }
    expect(recs[0]!.time).toBe('2026-01-02T03:04:05.000Z');
    expect(recs[2]!.time).toBe('2026-01-02T03:04:06.000Z');
    expect(recs[3]).toMatchObject({
      row: 1,
      status: 'completed',
      reference: 'rb-abc-1',
      transaction_id: 'TXN1',
      amount: 100,
      error_code: null,
    });
    expect(recs[4]).toMatchObject({
      row: 2,
      status: 'failed',
      reference: 'rb-abc-2',
      transaction_id: null,
      amount: 200,
      error_code: 'INVALID_OPERATOR',
    });
    expect(recs[5]).toMatchObject({ stopped: null, counts: { completed: 1, failed: 1 } });
    // no logger noise an auditor has to filter out
    expect(Object.keys(recs[0]!)).not.toContain('hostname');
  });

  it('never writes the key: not from an API message, not as a Bearer token, not with surrounding spaces', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-audit-'));
    const file = join(dir, 'audit.jsonl');
    const log = new AuditLog({ file, account: 'a', apiKey: ` ${KEY} ` });
    const events = new JobEvents();
    log.listen(events);
    events.emit('job:started', { job: 'j', rows: [], resumed: false, pending: 0, processing: 0 });
    events.emit('job:stopping', {
      code: 'API_UNAUTHORIZED',
      message: `401: key ${KEY} rejected (Authorization: Bearer ${KEY}x)`,
    });
    const r = rowState(1, { status: 'unknown', code: `echo ${KEY}` });
    events.emit('row:unknown', { row: r });
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(KEY);
    expect(text).toContain('Bearer ***');
    expect(lines(file)).toHaveLength(3);
  });

  it('appends: an existing log keeps its lines', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-audit-'));
    const file = join(dir, 'audit.jsonl');
    for (const job of ['first', 'second']) {
      const events = new JobEvents();
      new AuditLog({ file, account: 'a' }).listen(events);
      events.emit('job:started', { job, rows: [], resumed: false, pending: 0, processing: 0 });
    }
    expect(lines(file).map((r) => r.job)).toEqual(['first', 'second']);
  });

  it('a file that cannot be opened is a usage error (before anything is sent)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-audit-'));
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    chmodSync(ro, 0o500);
    let err: unknown;
    try {
      new AuditLog({ file: process.getuid?.() === 0 ? dir : join(ro, 'audit.jsonl'), account: 'a' });
    } catch (e) {
      err = e;
    }
    expect(isBatchError(err) && err.code).toBe('USAGE');
    expect((err as Error).message).toMatch(/audit log .* cannot be opened/);
  });

  it('account = first 16 hex of sha256(normalized base URL + "\\n" + key): trailing slash, case of host and key spaces do not matter', () => {
    const a = accountId('https://pro.alsamiflexi.com/api/v1', KEY);
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(accountId('HTTPS://Pro.Alsamiflexi.com/api/v1/', ` ${KEY}\n`)).toBe(a);
    expect(accountId('http://127.0.0.1:8080/api/v1', KEY)).not.toBe(a);
    expect(accountId('https://pro.alsamiflexi.com/api/v1', 'other-key')).not.toBe(a);
    // given the base URL and key instead of the account, the log works it out (and never writes the key)
    const file = join(mkdtempSync(join(tmpdir(), 'rb-audit-')), 'audit.jsonl');
    const events = new JobEvents();
    new AuditLog({ file, baseUrl: 'https://pro.alsamiflexi.com/api/v1/', apiKey: KEY }).listen(events);
    events.emit('job:started', { job: 'j', rows: [], resumed: false, pending: 0, processing: 0 });
    expect(lines(file)[0]!.account).toBe(a);
    expect(readFileSync(file, 'utf8')).not.toContain(KEY);
    expect(() => new AuditLog({ file, apiKey: KEY })).toThrow(/needs the account/);
  });
});
