/**
 * The journal's group commit (SPEC §5: an intent is durable before its POST; a transaction id
 * is durable before anything else happens to its row). The journal writes to a fake disk
 * that remembers which bytes each fsync covered and finishes an fsync only when told (or a
 * few event-loop turns later), so a waiter released on the wrong fsync is caught without
 * depending on timing.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MockAgent } from 'undici';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlsamiflexiClient } from '../../src/api/client.js';
import { Journal, type JournalRecord, type JournalSink } from '../../src/job/journal.js';
import { runJob } from '../../src/run.js';

/** A disk whose fsyncs cover what was written when they were asked for, and end when released. */
class FakeDisk implements JournalSink {
  written = '';
  durable = '';
  syncs = 0;
  private waiting: (() => void)[] = [];
  constructor(private readonly autoTurns: number | null = null) {}
  async write(data: string): Promise<void> {
    this.written += data;
  }
  sync(): Promise<void> {
    const covered = this.written;
    return new Promise((resolve) => {
      const done = () => {
        this.durable = covered;
        this.syncs++;
        resolve();
      };
      if (this.autoTurns === null) this.waiting.push(done);
      else void turns(this.autoTurns).then(done);
    });
  }
  async close(): Promise<void> {}
  /** finishes the oldest fsync in progress; false if none is */
  release(): boolean {
    const next = this.waiting.shift();
    next?.();
    return next !== undefined;
  }
  get pending(): number {
    return this.waiting.length;
  }
}

/** Event-loop turns, not time: every setImmediate queued before them has run. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

const intent = (row: number): JournalRecord => ({ t: 'intent', row, att: 1, ref: `r${row}`, at: 1 });
const lineOf = (rec: JournalRecord) => JSON.stringify(rec) + '\n';

describe('journal group commit', () => {
  it('appends of one turn share one fsync; an append made while it runs waits for the next one', async () => {
    const disk = new FakeDisk();
    const j = Journal.onSink(disk);
    const released: number[] = [];
    const append = (row: number) =>
      j.append(intent(row)).then(() => {
        // released only once an fsync covering its own line has finished
        expect(disk.durable).toContain(lineOf(intent(row)));
        released.push(row);
      });
    const first = [append(1), append(2), append(3)];
    await turns(2);
    expect(disk.pending).toBe(1); // one fsync for the three
    const late = append(4); // arrives while that fsync runs: not covered by it
    await turns(2);
    expect(released).toEqual([]);
    disk.release();
    await Promise.all(first);
    await turns(2);
    expect(released).toEqual([1, 2, 3]);
    expect(disk.pending).toBe(1); // row 4's own fsync
    disk.release();
    await late;
    expect(released).toEqual([1, 2, 3, 4]);
    expect(disk.syncs).toBe(2);
  });

  it('a failed write rejects every waiter of its batch and every later append', async () => {
    const disk = new FakeDisk(1);
    disk.write = () => Promise.reject(Object.assign(new Error('no space'), { code: 'ENOSPC' }));
    const j = Journal.onSink(disk, '/state/job/journal.log');
    const results = await Promise.allSettled([j.append(intent(1)), j.append(intent(2))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await expect(j.append(intent(3))).rejects.toMatchObject({ code: 'LOCAL_IO' });
  });
});

describe('the engine on a slow disk (MockAgent API)', () => {
  const ORIGIN = 'http://api.test';
  let agent: MockAgent;
  let dir: string;
  beforeEach(() => {
    agent = new MockAgent();
    agent.disableNetConnect();
    dir = mkdtempSync(join(tmpdir(), 'rb-group-commit-'));
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await agent.close();
  });

  it('never sends a POST before the fsync covering its intent, nor polls before its transaction id is durable', async () => {
    // fsyncs finish three event-loop turns after they are asked for: appends keep arriving meanwhile
    const disk = new FakeDisk(3);
    vi.spyOn(Journal, 'open').mockImplementation(async (path) => Journal.onSink(disk, path));
    const violations: string[] = [];
    let posts = 0;
    const pool = agent.get(ORIGIN);
    pool
      .intercept({ path: '/api/v1/balance', method: 'GET' })
      .reply(200, { success: true, data: { balance: 1e6, currency: 'BDT' } })
      .persist();
    pool
      .intercept({ path: '/api/v1/recharge', method: 'POST' })
      .reply((req) => {
        const { reference } = JSON.parse(String(req.body)) as { reference: string };
        if (!disk.durable.includes(`"ref":"${reference}"`))
          violations.push(`POST ${reference} before its intent`);
        const n = ++posts;
        return {
          statusCode: 200,
          data: { success: true, data: { transaction_id: `T${n}`, status: 'processing', reference } },
        };
      })
      .persist();
    pool
      .intercept({ path: /\/api\/v1\/transaction\//, method: 'GET' })
      .reply((req) => {
        const id = req.path.split('/').pop()!;
        if (!disk.durable.includes(`"txn":"${id}"`)) violations.push(`poll of ${id} before it was durable`);
        return {
          statusCode: 200,
          data: { success: true, data: { transaction_id: id, status: 'completed' } },
        };
      })
      .persist();
    const rows = 24;
    const csv = join(dir, 'pay.csv');
    const lines = Array.from({ length: rows }, (_, i) => `P${i},0171${String(1000000 + i).slice(-7)},100`);
    writeFileSync(csv, ['name,mobile,amount', ...lines].join('\n') + '\n');
    const client = new AlsamiflexiClient({ apiKey: 'k-gc', baseUrl: `${ORIGIN}/api/v1`, dispatcher: agent });
    const r = await runJob({
      csv,
      stateDir: join(dir, 'state'),
      client,
      operators: [{ id: 1, name: 'Grameenphone', code: 'GP', min_amount: 10, max_amount: 1000 }],
      concurrency: 4,
      pollAfterMs: 0,
      pollEveryMs: 1,
      pollTimeoutMs: 60_000,
    });
    expect(violations).toEqual([]);
    expect(r.counts.completed).toBe(rows);
    expect(posts).toBe(rows);
    // intent, accepted, final per row: 72 records; concurrent rows shared their fsyncs
    const records = disk.written.split('\n').filter(Boolean).length;
    expect(records).toBe(3 * rows);
    expect(disk.syncs).toBeLessThan(records / 2);
  });
});
