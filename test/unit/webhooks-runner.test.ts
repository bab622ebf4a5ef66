/**
 * The engine with a webhook receiver (SPEC §10), on a FakeClock with undici's MockAgent as the
 * API: the first poll waits twice --poll-after, and an event brings the check forward.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MockAgent } from 'undici';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlsamiflexiClient } from '../../src/api/client.js';
import { FakeClock } from '../../src/clock.js';
import { JobEvents } from '../../src/job/events.js';
import { runJob } from '../../src/run.js';
import { WebhookReceiver } from '../../src/job/webhooks.js';

const ORIGIN = 'http://api.test';
const OPERATORS = [{ id: 1, name: 'Grameenphone', code: 'GP', min_amount: 10, max_amount: 1000 }];

let agent: MockAgent;
let dir: string;
let clock: FakeClock;
let gets: number[];

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  dir = mkdtempSync(join(tmpdir(), 'rb-webhooks-'));
  clock = new FakeClock(0);
  gets = [];
  const pool = agent.get(ORIGIN);
  pool
    .intercept({ path: '/api/v1/balance', method: 'GET' })
    .reply(200, { success: true, data: { balance: 1000, currency: 'BDT' } })
    .persist();
  pool
    .intercept({ path: '/api/v1/recharge', method: 'POST' })
    .reply(200, { success: true, data: { transaction_id: 'TXN1', status: 'processing' } });
  pool
    .intercept({ path: '/api/v1/transaction/TXN1', method: 'GET' })
    .reply(() => {
      gets.push(clock.now());
      return {
        statusCode: 200,
        data: {
          success: true,
          data: { transaction_id: 'TXN1', status: 'completed', completed_at: '2026-01-01 00:00:05' },
        },
      };
    })
    .persist();
});
afterEach(async () => {
  await agent.close();
});

async function until(cond: () => boolean) {
  for (let i = 0; i < 20_000 && !cond(); i++) await new Promise((r) => setTimeout(r, 1)); // a cap, not a timing
}

function start(webhooks: WebhookReceiver | undefined, events: JobEvents) {
  const csv = join(dir, 'pay.csv');
  writeFileSync(csv, 'name,mobile,amount\nA,01712345678,100\n');
  const client = new AlsamiflexiClient({
    apiKey: 'k',
    baseUrl: `${ORIGIN}/api/v1`,
    dispatcher: agent,
    backoffBaseMs: 1,
  });
  return runJob({
    csv,
    stateDir: join(dir, 'state'),
    client,
    clock,
    operators: OPERATORS,
    pollAfterMs: 1000,
    pollEveryMs: 1000,
    events,
    ...(webhooks ? { webhooks } : {}),
  });
}

describe('runJob({ webhooks })', () => {
  it('without an event, the first poll comes at twice --poll-after (polling is the safety net)', async () => {
    const events = new JobEvents();
    let accepted = false;
    events.on('row:accepted', () => (accepted = true));
    const job = start(new WebhookReceiver(), events);
    await until(() => accepted && clock.pending > 0);
    await clock.advance(1999);
    await until(() => clock.pending > 0);
    expect(gets).toEqual([]);
    await clock.advance(1);
    const r = await job;
    expect(gets).toEqual([2000]);
    expect(r.counts.completed).toBe(1);
  });

  it('an event for the processing transaction: checked at once, completed without waiting for a poll', async () => {
    const events = new JobEvents();
    const receiver = new WebhookReceiver();
    let accepted = false;
    events.on('row:accepted', () => (accepted = true));
    const job = start(receiver, events);
    await until(() => accepted && clock.pending > 0);
    expect(receiver.hint('TXN1')).toBe('due');
    const r = await job;
    expect(gets).toEqual([0]);
    expect(r.counts.completed).toBe(1);
    // the job is over: its transactions are no longer anyone's
    expect(receiver.hint('TXN1')).toBe('unknown');
  });
});
