/**
 * Skipped rows looked up again when their job is driven again (SPEC §5a, src/job/recheck.ts):
 * another job's payment that was still open when the row was skipped has since completed,
 * failed, been released or is still open. The API is undici's MockAgent; the other job is
 * a FileRegistry on the same state dir, driven by hand.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MockAgent } from 'undici';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlsamiflexiClient } from '../../src/api/client.js';
import { accountId } from '../../src/api/account.js';
import { resumeJob, retryJob, runJob } from '../../src/run.js';
import { jobPaths, snapshot } from '../../src/job/job.js';
import { FileRegistry, type EarlierIntent, type EntryState } from '../../src/job/registry.js';
import { recheckVerdict, staleSkips } from '../../src/job/recheck.js';
import { applyRecord, initialState, type RowState } from '../../src/job/rows.js';
import type { JournalRecord } from '../../src/job/journal.js';
import { JobEvents } from '../../src/job/events.js';

const ORIGIN = 'http://api.test';
const BASE = `${ORIGIN}/api/v1`;
const KEY = 'k';
const ACCOUNT = accountId(BASE, KEY);
const OPERATORS = [{ id: 1, name: 'Grameenphone', code: 'GP', min_amount: 10, max_amount: 1000 }];
const WEEK = { windowMs: 7 * 86_400_000, allowRepeat: false };
/** the payees of job B; job A (another process) claimed the same numbers and amounts */
const PAYEES = [
  { number: '01711111111', amount: 100 },
  { number: '01722222222', amount: 200 },
  { number: '01733333333', amount: 300 },
];

let agent: MockAgent;
let posts: { reference: string; mobile_number: string; amount: number }[];
let dir: string;
let stateDir: string;

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  posts = [];
  dir = mkdtempSync(join(tmpdir(), 'rb-recheck-'));
  stateDir = join(dir, 'state');
});
afterEach(async () => {
  await agent.close();
});

/** The API: ample balance (or `balance`), and every POST completed at once. */
function api(balance = 1_000_000) {
  const pool = agent.get(ORIGIN);
  pool
    .intercept({ path: '/api/v1/balance', method: 'GET' })
    .reply(200, { success: true, data: { balance, currency: 'BDT' } })
    .persist();
  pool
    .intercept({ path: '/api/v1/recharge', method: 'POST' })
    .reply((opts) => {
      const body = JSON.parse(String(opts.body)) as (typeof posts)[number];
      posts.push(body);
      const data = { ...body, transaction_id: `TXN-B-${body.mobile_number}`, status: 'completed' };
      return { statusCode: 200, data: { success: true, data: { ...data, operator: 'Grameenphone' } } };
    })
    .persist();
}

function client() {
  return new AlsamiflexiClient({ apiKey: KEY, baseUrl: BASE, dispatcher: agent, backoffBaseMs: 1 });
}

const engine = () => ({
  stateDir,
  client: client(),
  pollAfterMs: 0,
  pollEveryMs: 1,
  pollTimeoutMs: 2000,
  backoffBaseMs: 1,
});

/** Another job (`jobId`) claims the payees, as a process running it would, and keeps its registry. */
async function otherJob(jobId: string, payees = PAYEES): Promise<FileRegistry> {
  const reg = await FileRegistry.open(stateDir, ACCOUNT);
  const res = await reg.claim(
    payees.map((p, i) => ({
      ...p,
      reference: `${jobId}-${i + 1}`,
      job: `name-${jobId}`,
      jobId,
      row: i + 1,
      attempt: 1,
      at: Date.now(),
    })),
    WEEK,
  );
  expect(res.every((r) => r.ok)).toBe(true);
  return reg;
}

/** Job B of the same payees, run while A's payments are open: every row skipped. */
async function jobB() {
  const csv = join(dir, 'pay.csv');
  writeFileSync(
    csv,
    ['name,mobile,amount', ...PAYEES.map((p, i) => `P${i},${p.number},${p.amount}`)].join('\n') + '\n',
  );
  const first = await runJob({ ...engine(), csv, job: 'job-b', operators: OPERATORS });
  expect(first.counts.skipped).toBe(3);
  expect(first.repeats.unsettled).toBe(3);
  expect(posts).toHaveLength(0);
  return first;
}

const rowsOf = async () => (await snapshot(stateDir, 'job-b')).rows;
const journal = () =>
  readFileSync(jobPaths(stateDir, 'job-b').journal, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as JournalRecord);

describe('the re-check decision', () => {
  const earlier = (state: EntryState): EarlierIntent => ({
    job: 'a',
    jobId: 'a@1',
    attempt: 1,
    row: 1,
    reference: 'r',
    amount: 100,
    at: 0,
    state,
  });
  it('completed → paid; failed or released → pending again; anything still open, or not held → unchanged', () => {
    expect(recheckVerdict(earlier('completed'))).toBe('paid');
    expect(recheckVerdict(earlier('failed'))).toBe('reopen');
    expect(recheckVerdict(earlier('released'))).toBe('reopen');
    for (const s of ['sent', 'processing', 'unknown'] as const) expect(recheckVerdict(earlier(s))).toBeNull();
    expect(recheckVerdict(undefined)).toBeNull();
  });
});

describe('resume re-checks skipped rows against the registry', () => {
  it('A completed row 1, failed row 2, row 3 still unanswered: resume B records row 1 paid, pays row 2 once, leaves row 3', async () => {
    const a = await otherJob('job-a');
    api();
    await jobB();
    a.outcome('job-a', 1, 1, 'completed', 'TXN-A-1');
    a.outcome('job-a', 2, 1, 'failed', 'TXN-A-2');
    await a.close();

    const events = new JobEvents();
    const seen: string[] = [];
    events.on('job:started', () => seen.push('started'));
    events.on('row:final', ({ row }) => seen.push(`final ${row.row} ${row.status} ${row.code ?? ''}`));
    events.on('row:released', ({ row }) => seen.push(`released ${row.row} ${row.status}`));
    const resumed = await resumeJob({ ...engine(), job: 'job-b', events });
    expect(posts.map((p) => [p.mobile_number, p.amount])).toEqual([['01722222222', 200]]);
    // the audit log and the progress line hear of both changes, after the run's start
    expect(seen.slice(0, 3)).toEqual(['started', 'final 1 skipped ALREADY_PAID', 'released 2 pending']);
    const rows = await rowsOf();
    expect(rows[1]).toMatchObject({ status: 'skipped', code: 'ALREADY_PAID', prevPaid: true });
    expect(rows[1]!.msg).toContain('transaction TXN-A-1');
    expect(rows[1]!.msg).toContain('job name-job-a row 1');
    expect(rows[2]).toMatchObject({ status: 'completed', txn: 'TXN-B-01722222222' });
    expect(rows[3]).toMatchObject({ status: 'skipped', code: 'MAYBE_PAID', prevPaid: false });
    expect(resumed.repeats.unsettled).toBe(1);
    const reopened = journal().filter((r) => r.t === 'reopened');
    expect(reopened).toEqual([expect.objectContaining({ row: 2, why: expect.stringContaining('failed') })]);
  });

  it('every earlier payment completed: B (all rows final) is resumed to exit-0 state, with nothing sent', async () => {
    const a = await otherJob('job-a');
    api();
    await jobB();
    PAYEES.forEach((_, i) => a.outcome('job-a', i + 1, 1, 'completed', `TXN-A-${i + 1}`));
    await a.close();
    const resumed = await resumeJob({ ...engine(), job: 'job-b' });
    expect(posts).toHaveLength(0);
    expect(resumed.counts.skipped).toBe(3);
    expect(resumed.repeats.unsettled).toBe(0);
    // resumed again: nothing left to re-check, nothing journaled
    const before = journal().length;
    await resumeJob({ ...engine(), job: 'job-b' });
    expect(journal()).toHaveLength(before);
  });

  it('a released earlier claim (A stopped before sending) makes the row pending; a third job paying it meanwhile still refuses it', async () => {
    const a = await otherJob('job-a');
    api();
    await jobB();
    PAYEES.forEach((_, i) => a.outcome('job-a', i + 1, 1, 'released'));
    await a.close();
    // job C claims row 3's number and amount after A let it go
    const c = await otherJob('job-c', [PAYEES[2]!]);
    await c.close();
    const resumed = await resumeJob({ ...engine(), job: 'job-b' });
    expect(posts.map((p) => p.mobile_number).sort()).toEqual(['01711111111', '01722222222']);
    const rows = await rowsOf();
    expect(rows[3]).toMatchObject({ status: 'skipped', code: 'MAYBE_PAID' });
    expect(rows[3]!.msg).toContain('job name-job-c');
    expect(resumed.counts.completed).toBe(2);
  });

  it('a reopened row counts in the balance pre-check: too little balance stops before any POST, the row pending', async () => {
    const a = await otherJob('job-a');
    api(150); // row 2 needs 200
    await jobB();
    a.outcome('job-a', 2, 1, 'failed');
    await a.close();
    const resumed = await resumeJob({ ...engine(), job: 'job-b' });
    expect(resumed.stopped?.code).toBe('INSUFFICIENT_BALANCE');
    expect(posts).toHaveLength(0);
    expect((await rowsOf())[2]).toMatchObject({ status: 'pending' });
  });

  it('retry re-checks too', async () => {
    const a = await otherJob('job-a');
    api();
    await jobB();
    a.outcome('job-a', 1, 1, 'completed', 'TXN-A-1');
    await a.close();
    const retried = await retryJob({ ...engine(), job: 'job-b' });
    expect(retried.repeats.unsettled).toBe(2);
    expect((await rowsOf())[1]).toMatchObject({ code: 'ALREADY_PAID', prevPaid: true });
  });

  it('report tells what a resume would change, and writes neither the journal nor the registry', async () => {
    const a = await otherJob('job-a');
    api();
    await jobB();
    a.outcome('job-a', 1, 1, 'completed', 'TXN-A-1');
    a.outcome('job-a', 2, 1, 'failed');
    await a.close();
    const registryFile = join(stateDir, 'registry', `${ACCOUNT}.jsonl`);
    const before = [readFileSync(jobPaths(stateDir, 'job-b').journal), readFileSync(registryFile)];
    const s = await snapshot(stateDir, 'job-b');
    expect(await staleSkips(stateDir, s.meta.account, s.rows, s.startedAt)).toEqual({ paid: 1, unpaid: 1 });
    expect([readFileSync(jobPaths(stateDir, 'job-b').journal), readFileSync(registryFile)]).toEqual(before);
  });
});

describe('the journal records', () => {
  it('a skipped record written before the earlier intent was recorded still replays (and is left as it is)', () => {
    const rows: RowState[] = [];
    rows[1] = initialState('j', { row: 1, line: 2, valid: true, number: '01711111111', amount: 100 });
    applyRecord('j', rows, {
      t: 'skipped',
      row: 1,
      att: 1,
      code: 'MAYBE_PAID',
      msg: 'm',
      prev: 'a',
      paid: false,
      at: 1,
    });
    expect(rows[1]).toMatchObject({ status: 'skipped', code: 'MAYBE_PAID', prevJob: 'a' });
    expect(rows[1]!.prevIntent).toBeUndefined();
    applyRecord('j', rows, { t: 'reopened', row: 1, att: 1, why: 'w', at: 2 });
    expect(rows[1]).toMatchObject({
      status: 'pending',
      code: undefined,
      prevJob: undefined,
      prevPaid: undefined,
    });
  });
});
