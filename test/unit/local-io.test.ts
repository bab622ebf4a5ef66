/**
 * Local I/O failures (SPEC §5 additions): a full disk or a read-only state dir ends with one
 * line naming the path and the problem — LOCAL_IO (exit 2) if nothing was sent yet, else
 * LOCAL_IO_STOPPED (exit 4) — never "a bug"; a transaction id the API gave is in that line.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MockAgent } from 'undici';
import { mkdtempSync, promises as fsp, statSync, writeFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlsamiflexiClient } from '../../src/api/client.js';
import { runJob } from '../../src/run.js';
import { Journal } from '../../src/job/journal.js';
import { BatchError, localIoError } from '../../src/errors.js';
import { exitCodeFor, exitCodeForResult } from '../../src/exit.js';

const ORIGIN = 'http://api.test';
const OPERATORS = [{ id: 1, name: 'Grameenphone', code: 'GP', min_amount: 10, max_amount: 1000 }];
const enospc = () =>
  Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28 });

let agent: MockAgent;
let dir: string;
beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  dir = mkdtempSync(join(tmpdir(), 'rb-localio-'));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await agent.close();
});

function api() {
  const pool = agent.get(ORIGIN);
  pool
    .intercept({ path: '/api/v1/balance', method: 'GET' })
    .reply(200, { success: true, data: { balance: 1e6, currency: 'BDT' } })
    .persist();
  pool
    .intercept({ path: '/api/v1/recharge', method: 'POST' })
    .reply(200, { success: true, data: { transaction_id: 'TXN-LOCAL-1', status: 'processing' } })
    .persist();
}

async function run() {
  const csv = join(dir, 'pay.csv');
  writeFileSync(csv, 'name,mobile,amount\nA,01712345678,100\n');
  const client = new AlsamiflexiClient({
    apiKey: 'k-local-io',
    baseUrl: `${ORIGIN}/api/v1`,
    dispatcher: agent,
  });
  return runJob({
    csv,
    stateDir: join(dir, 'state'),
    client,
    operators: OPERATORS,
    pollAfterMs: 0,
    pollEveryMs: 1,
    pollTimeoutMs: 1000,
  });
}

/** The journal fails from its `n`-th append on (1-based), as a full disk would. */
function failJournalFrom(n: number) {
  const original = Journal.prototype.append;
  let calls = 0;
  vi.spyOn(Journal.prototype, 'append').mockImplementation(function (this: Journal, rec) {
    if (++calls < n) return original.call(this, rec);
    return Promise.reject(localIoError(enospc(), false, this.path));
  });
}

describe('local I/O failures', () => {
  it('the journal cannot take the intent: nothing was sent, LOCAL_IO (exit 2), the journal path named', async () => {
    api();
    failJournalFrom(1);
    const err = (await run().catch((e: unknown) => e)) as BatchError;
    expect(err.code).toBe('LOCAL_IO');
    expect(exitCodeFor(err.code)).toBe(2);
    expect(err.message).toMatch(/journal\.log: the disk is full \(ENOSPC\)/);
    expect(err.message).not.toMatch(/bug/);
  });

  it('the journal cannot take the transaction id: LOCAL_IO_STOPPED (exit 4), and the id is in the line', async () => {
    api();
    failJournalFrom(2);
    const err = (await run().catch((e: unknown) => e)) as BatchError;
    expect(err.code).toBe('LOCAL_IO_STOPPED');
    expect(exitCodeFor(err.code)).toBe(4);
    expect(err.message).toMatch(/journal\.log: the disk is full/);
    expect(err.message).toContain('TXN-LOCAL-1');
  });

  it('a Journal whose write fails rejects this and every later append with one LOCAL_IO error naming its file', async () => {
    const path = join(dir, 'journal.log');
    const j = await Journal.open(path, () => undefined);
    (j as unknown as { fh: FileHandle }).fh.write = () => Promise.reject(enospc());
    const rec = { t: 'released' as const, row: 1, att: 1, why: 'x', at: 0 };
    await expect(j.append(rec)).rejects.toMatchObject({
      code: 'LOCAL_IO',
      message: expect.stringContaining(path),
    });
    await expect(j.append(rec)).rejects.toMatchObject({ code: 'LOCAL_IO' });
  });

  it('journal.log is private (0600) like the other state files', async () => {
    const path = join(dir, 'j2.log');
    const j = await Journal.open(path, () => undefined);
    await j.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('the lock cannot be released after the rows were sent: exit 4 (LOCAL_IO_STOPPED) with the summary, not exit 2', async () => {
    api();
    agent
      .get(ORIGIN)
      .intercept({ path: '/api/v1/transaction/TXN-LOCAL-1', method: 'GET' })
      .reply(200, { success: true, data: { transaction_id: 'TXN-LOCAL-1', status: 'completed' } })
      .persist();
    const rm = fsp.rm.bind(fsp);
    vi.spyOn(fsp, 'rm').mockImplementation(async (path, opts) => {
      if (/lock\.\d+$/.test(String(path)))
        throw Object.assign(new Error('EIO: i/o error, unlink'), { code: 'EIO', path: String(path) });
      return rm(path, opts);
    });
    const result = await run();
    // the row was paid and its id kept: the run's own outcome stands, and the stop says why exit 4
    expect(result.counts.completed).toBe(1);
    expect(result.stopped).toMatchObject({
      code: 'LOCAL_IO_STOPPED',
      message: expect.stringMatching(/lock\.1: an input\/output error of the disk \(EIO\)/),
    });
    expect(exitCodeForResult(result)).toBe(4);
    expect(result.stopped!.message).not.toContain('nothing was sent');
  });

  it('localIoError names EROFS and EACCES, and leaves other errors alone', () => {
    const rofs = localIoError(Object.assign(new Error('x'), { code: 'EROFS', path: '/state/j' }), false)!;
    expect(rofs.message).toBe(
      'cannot write /state/j: the file system is read-only (EROFS); nothing was sent',
    );
    expect(localIoError(Object.assign(new Error('x'), { code: 'EACCES' }), true, '/out.csv')!.code).toBe(
      'LOCAL_IO_STOPPED',
    );
    expect(localIoError(new Error('other'), false)).toBeUndefined();
  });
});
