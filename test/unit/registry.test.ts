/** The account registry (SPEC §5a): the repeat check, its window, outcomes, torn lines, races. */
import { afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileRegistry, registryPath, type Claim, type ClaimOptions } from '../../src/job/registry.js';
import { accountId, normalizeBaseUrl } from '../../src/api/account.js';
import { reconcileRegistry } from '../../src/job/repeats.js';
import type { RowState } from '../../src/job/rows.js';

const DAY = 86_400_000;
const T0 = 1_800_000_000_000;
const WEEK: ClaimOptions = { windowMs: 7 * DAY, allowRepeat: false };
const ACCOUNT = 'abcdef0123456789';

let open: FileRegistry[] = [];
afterEach(async () => {
  await Promise.all(open.map((r) => r.close().catch(() => undefined)));
  open = [];
});

async function registry(dir: string): Promise<FileRegistry> {
  const r = await FileRegistry.open(dir, ACCOUNT);
  open.push(r);
  return r;
}

function claim(over: Partial<Claim> = {}): Claim {
  return {
    number: '01712345678',
    amount: 100,
    reference: 'ref-1',
    job: 'payroll-aaaa',
    jobId: 'job-a',
    row: 1,
    attempt: 1,
    at: T0,
    ...over,
  };
}

describe('FileRegistry', () => {
  it('blocks the same number and amount from another job: ALREADY_PAID once completed, naming job, row, transaction', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-reg-'));
    const a = await registry(dir);
    expect(await a.claim([claim()], WEEK)).toEqual([{ ok: true, otherAmount: null }]);
    a.outcome('job-a', 1, 1, 'completed', 'TXN-1');
    await a.flush();
    const b = await registry(dir);
    const [res] = await b.claim(
      [claim({ jobId: 'job-b', job: 'payroll-bbbb', row: 7, reference: 'ref-7', at: T0 + DAY })],
      WEEK,
    );
    expect(res).toMatchObject({
      ok: false,
      code: 'ALREADY_PAID',
      earlier: { job: 'payroll-aaaa', row: 1, transactionId: 'TXN-1', state: 'completed', at: T0 },
    });
  });

  it('a job opened again brings the registry up to its journal: a completed row killed before the registry heard of it reads as paid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-reg-'));
    const a = await registry(dir);
    await a.claim([claim(), claim({ row: 2, number: '01812345678', reference: 'ref-2' })], WEEK);
    // the process died after journaling row 1 completed, before the registry's next write
    a.outcome('job-a', 1, 1, 'processing', 'TXN-1');
    a.outcome('job-a', 2, 1, 'completed', 'TXN-2');
    await a.flush();
    const journal = [
      { row: 1, att: 1, status: 'completed', txn: 'TXN-1' },
      { row: 2, att: 1, status: 'completed', txn: 'TXN-2' }, // already up to date: nothing written
      { row: 3, att: 1, status: 'pending' }, // never sent
    ] as RowState[];
    const before = readFileSync(registryPath(dir, ACCOUNT), 'utf8').split('\n').length;
    const resumed = await registry(dir);
    expect(reconcileRegistry(resumed, 'job-a', journal)).toBe(1);
    await resumed.flush();
    expect(readFileSync(registryPath(dir, ACCOUNT), 'utf8').split('\n').length).toBe(before + 1);
    const later = await registry(dir);
    const [res] = await later.claim([claim({ jobId: 'job-b', job: 'payroll-bbbb', at: T0 + DAY })], WEEK);
    expect(res).toMatchObject({
      ok: false,
      code: 'ALREADY_PAID',
      earlier: { state: 'completed', transactionId: 'TXN-1' },
    });
  });

  it('reads an intent without answer, or an unknown outcome, as MAYBE_PAID; processing as ALREADY_PAID', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-reg-'));
    const a = await registry(dir);
    await a.claim(
      [claim({ row: 1 }), claim({ row: 2, number: '01812345678' }), claim({ row: 3, number: '01912345678' })],
      WEEK,
    );
    a.outcome('job-a', 2, 1, 'unknown');
    a.outcome('job-a', 3, 1, 'processing', 'TXN-3');
    await a.flush();
    const b = await registry(dir);
    const later = { jobId: 'job-b', at: T0 + 1000 };
    const res = await b.claim(
      [claim(later), claim({ ...later, number: '01812345678' }), claim({ ...later, number: '01912345678' })],
      WEEK,
    );
    expect(res.map((r) => (r.ok ? 'ok' : r.code))).toEqual(['MAYBE_PAID', 'MAYBE_PAID', 'ALREADY_PAID']);
  });

  it('a failed, rejected-before-commit or skipped earlier intent does not block', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-reg-'));
    const a = await registry(dir);
    await a.claim([claim({ row: 1 }), claim({ row: 2, number: '01812345678' })], WEEK);
    a.outcome('job-a', 1, 1, 'failed', 'TXN-1');
    a.outcome('job-a', 2, 1, 'released');
    await a.flush();
    const res = await a.claim(
      [claim({ jobId: 'job-b' }), claim({ jobId: 'job-b', number: '01812345678' })],
      WEEK,
    );
    expect(res.every((r) => r.ok)).toBe(true);
    // job-b's payments now block a third job; job-c's losing claim (skipped) blocks nobody
    const [lost] = await a.claim([claim({ jobId: 'job-c' })], WEEK);
    expect(lost!.ok).toBe(false);
    a.outcome('job-b', 1, 1, 'failed');
    await a.flush();
    const [fourth] = await a.claim([claim({ jobId: 'job-d' })], WEEK);
    expect(fourth!.ok).toBe(true);
  });

  it('looks back --repeat-window only; 0 or --allow-repeat pays anyway (and still records the intent)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-reg-'));
    const a = await registry(dir);
    await a.claim([claim()], WEEK);
    a.outcome('job-a', 1, 1, 'completed', 'TXN-1');
    await a.flush();
    const within = await a.claim([claim({ jobId: 'job-b', at: T0 + 7 * DAY - 1 })], WEEK);
    expect(within[0]!.ok).toBe(false);
    const after = await a.claim([claim({ jobId: 'job-c', at: T0 + 8 * DAY })], WEEK);
    expect(after[0]!.ok).toBe(true);
    const allowed = await a.claim([claim({ jobId: 'job-d', at: T0 + 8 * DAY })], {
      windowMs: 7 * DAY,
      allowRepeat: true,
    });
    expect(allowed[0]!.ok).toBe(true);
    expect(
      (await a.claim([claim({ jobId: 'job-e', at: T0 + 8 * DAY })], { windowMs: 0, allowRepeat: false }))[0]!
        .ok,
    ).toBe(true);
    // job-d's intent (allowed repeat) was recorded: it blocks the next one
    expect((await a.claim([claim({ jobId: 'job-f', at: T0 + 8 * DAY })], WEEK))[0]).toMatchObject({
      ok: false,
      earlier: { job: 'payroll-aaaa' },
    });
  });

  it('keeps in memory no intent of another process older than its horizon; one inside the window still blocks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-reg-'));
    const a = await registry(dir);
    const old = claim({ jobId: 'job-old', row: 1, number: '01711111111', at: T0 - 30 * DAY });
    const recent = claim({ jobId: 'job-new', row: 2, number: '01722222222', at: T0 - 7 * DAY + 60_000 });
    await a.claim([old, recent], { windowMs: 0, allowRepeat: false });
    a.outcome('job-old', 1, 1, 'completed', 'TXN-OLD');
    a.outcome('job-new', 2, 1, 'completed', 'TXN-NEW');
    await a.close();
    open = [];
    const b = await FileRegistry.open(dir, ACCOUNT, { horizon: T0 - 7 * DAY - DAY });
    open.push(b);
    expect(b.recorded('job-old', 1, 1)).toBeUndefined(); // not held: it can block nothing now
    expect(b.recorded('job-new', 2, 1)).toBe('completed');
    const [againRecent, againOld] = await b.claim(
      [
        claim({ jobId: 'job-c', row: 1, number: '01722222222', at: T0 }),
        claim({ jobId: 'job-c', row: 2, number: '01711111111', at: T0 }),
      ],
      WEEK,
    );
    expect(againRecent).toMatchObject({
      ok: false,
      code: 'ALREADY_PAID',
      earlier: { transactionId: 'TXN-NEW' },
    });
    expect(againOld!.ok).toBe(true);
    // without a horizon the old intent is held (and would block a 31-day window)
    const c = await registry(dir);
    expect(c.recorded('job-old', 1, 1)).toBe('completed');
  });

  it('serving one job, it keeps no entry for its own claims; other processes still see them and are blocked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-reg-'));
    const a = await FileRegistry.open(dir, ACCOUNT, { keepOwnClaims: false });
    open.push(a);
    const claims = Array.from({ length: 50 }, (_, i) =>
      claim({ row: i + 1, number: `0171${1_000_000 + i}` }),
    );
    expect((await a.claim(claims, WEEK)).every((r) => r.ok)).toBe(true);
    a.outcome('job-a', 1, 1, 'completed', 'TXN-1');
    await a.flush();
    expect(a.recorded('job-a', 1, 1)).toBeUndefined(); // nothing held for its own
    const b = await registry(dir);
    expect(b.recorded('job-a', 1, 1)).toBe('completed');
    const [res] = await b.claim([claim({ jobId: 'job-b', row: 9, number: '01711000000' })], WEEK);
    expect(res).toMatchObject({ ok: false, code: 'ALREADY_PAID', earlier: { job: 'payroll-aaaa', row: 1 } });
    // the same job claiming one of its rows again (a resume in this process) is not blocked
    expect((await a.claim([claim({ row: 2, attempt: 2, number: '01711000001' })], WEEK))[0]!.ok).toBe(true);
    // and a's next claim still sees b's
    const [again] = await a.claim([claim({ jobId: 'job-c', row: 3, number: '01711000000' })], WEEK);
    expect(again).toMatchObject({ ok: false, earlier: { job: 'payroll-aaaa' } });
  });

  it('a job never blocks itself (a resume, a retry of its failed row); another amount to the same number is a warning', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-reg-'));
    const a = await registry(dir);
    await a.claim([claim()], WEEK);
    expect((await a.claim([claim({ attempt: 2 })], WEEK))[0]!.ok).toBe(true);
    const [other] = await a.claim([claim({ jobId: 'job-b', amount: 200 })], WEEK);
    expect(other).toMatchObject({ ok: true, otherAmount: { job: 'payroll-aaaa', amount: 100 } });
  });

  it('peek tells the balance pre-check what the binding claim would do, without recording anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-reg-'));
    const a = await registry(dir);
    await a.claim([claim()], WEEK);
    const before = readFileSync(registryPath(dir, ACCOUNT), 'utf8');
    const found = await a.peek([claim({ jobId: 'job-b' }), claim({ jobId: 'job-b', amount: 50 })], WEEK);
    expect(found.map((f) => f?.job ?? null)).toEqual(['payroll-aaaa', null]);
    expect(readFileSync(registryPath(dir, ACCOUNT), 'utf8')).toBe(before);
  });

  it('tolerates a torn last line, and a torn record that another process then appended after', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-reg-'));
    const a = await registry(dir);
    await a.claim([claim()], WEEK);
    await a.close();
    open = [];
    const path = registryPath(dir, ACCOUNT);
    appendFileSync(path, '{"t":"i","c":"dead.0","n":"0181');
    const b = await registry(dir); // torn last line: ignored
    expect((await b.peek([claim({ jobId: 'job-b' })], WEEK))[0]?.job).toBe('payroll-aaaa');
    // b's claim lands right after the fragment, on the same line
    const [res] = await b.claim([claim({ jobId: 'job-b', number: '01912345678' })], WEEK);
    expect(res!.ok).toBe(true);
    expect(readFileSync(path, 'utf8')).toContain('"n":"0181{"t":"i"');
    const c = await registry(dir);
    expect((await c.peek([claim({ jobId: 'job-c', number: '01912345678' })], WEEK))[0]?.job).toBe(
      'payroll-aaaa',
    );
  });

  it('refuses a registry damaged in the middle rather than guess what was paid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-reg-'));
    const a = await registry(dir);
    await a.claim([claim()], WEEK);
    await a.close();
    open = [];
    const path = registryPath(dir, ACCOUNT);
    writeFileSync(path, 'garbage\n' + readFileSync(path, 'utf8'));
    await expect(FileRegistry.open(dir, ACCOUNT)).rejects.toMatchObject({ code: 'JOB_CORRUPT' });
  });

  it('two registries on one file racing for the same numbers: exactly one claim of each passes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-reg-'));
    const regs = await Promise.all([registry(dir), registry(dir), registry(dir)]);
    const numbers = Array.from({ length: 40 }, (_, i) => `0171${String(1_000_000 + i).slice(-7)}`);
    const rounds = await Promise.all(
      regs.flatMap((reg, k) =>
        // each registry claims every number, in batches and singly, interleaved with the others
        numbers.map((n, i) =>
          reg
            .claim([claim({ number: n, jobId: `job-${k}`, row: i + 1 })], WEEK)
            .then(([r]) => ({ n, ok: r!.ok })),
        ),
      ),
    );
    for (const n of numbers)
      expect(
        rounds.filter((r) => r.n === n && r.ok),
        n,
      ).toHaveLength(1);
    // and a fresh reader agrees: every number is now blocked for a fourth job
    const fresh = await registry(dir);
    const seen = await fresh.peek(
      numbers.map((n) => claim({ number: n, jobId: 'job-x' })),
      WEEK,
    );
    expect(seen.every(Boolean)).toBe(true);
  });
});

describe('account identity', () => {
  it('normalizes the base URL: case of scheme and host, default port, trailing slash', () => {
    expect(normalizeBaseUrl('HTTPS://Pro.Alsamiflexi.com:443/api/v1/')).toBe(
      'https://pro.alsamiflexi.com/api/v1',
    );
    expect(accountId('https://pro.alsamiflexi.com/api/v1/', ' key ')).toBe(
      accountId('https://PRO.alsamiflexi.com/api/v1', 'key'),
    );
  });
  it('differs by base URL and by key, is 16 hex and does not contain the key', () => {
    const a = accountId('http://127.0.0.1:8080', 'secret-key');
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(accountId('http://127.0.0.1:8081', 'secret-key')).not.toBe(a);
    expect(accountId('http://127.0.0.1:8080', 'other-key')).not.toBe(a);
  });
});

describe('account identity of loopback spellings', () => {
  it('reads localhost, [::1], [::ffff:127.0.0.1] and 127.x as 127.0.0.1: a rehearsal re-run under another spelling keeps its registry', async () => {
    const { accountId } = await import('../../src/api/account.js');
    const a = accountId('http://127.0.0.1:33385/api/v1', 'sk');
    for (const u of [
      'http://localhost:33385/api/v1',
      'http://[::1]:33385/api/v1/',
      'http://[::ffff:127.0.0.1]:33385/api/v1',
      'http://127.1:33385/api/v1',
    ]) {
      expect(accountId(u, 'sk')).toBe(a);
    }
    expect(accountId('http://127.0.0.1:33386/api/v1', 'sk')).not.toBe(a);
  });
});

/** A registry intent line as another process writes it. */
function foreignIntent(i: number, job = 'payroll-other'): string {
  const number = `0171${String(1_000_000 + i).slice(-7)}`;
  return (
    JSON.stringify({
      t: 'i',
      c: `other.${i}`,
      n: number,
      a: 100,
      r: `o-${i}`,
      j: job,
      u: 'job-other',
      w: i,
      k: 1,
      at: T0,
    }) + '\n'
  );
}

describe("the registry's tail reads", () => {
  it('reads a history longer than one read whole, lines cut by a read boundary included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-dur-'));
    const reg = await registry(dir);
    // ~1,000 lines of ~170 bytes: 170 KB, several 64 KiB reads, boundaries mid-line
    let text = '';
    for (let i = 0; i < 1000; i++) text += foreignIntent(i);
    appendFileSync(registryPath(dir, ACCOUNT), text);
    const numbers = [0, 385, 386, 999].map((i) => `0171${String(1_000_000 + i).slice(-7)}`);
    const found = await reg.peek(
      numbers.map((n) => claim({ number: n })),
      WEEK,
    );
    expect(found.map((f) => f?.row)).toEqual([0, 385, 386, 999]);
  });

  it('reads one line longer than a read (a very long job name) and the lines after it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-dur-'));
    const reg = await registry(dir);
    appendFileSync(registryPath(dir, ACCOUNT), foreignIntent(1, 'x'.repeat(200_000)) + foreignIntent(2));
    const [long, after] = await reg.peek(
      [claim({ number: '01711000001' }), claim({ number: '01711000002' })],
      WEEK,
    );
    expect(long?.job).toBe('x'.repeat(200_000));
    expect(after?.row).toBe(2);
  });
});
