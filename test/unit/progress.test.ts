/**
 * The progress line from the job's events and an injected clock (SPEC §7, issue 11 point 6):
 * the rate counts sends, invalid rows are shown apart from done, and the first line (shown at
 * once) already has an ETA from the limiter's interval. No real time passes.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { JobEvents } from '../../src/job/events.js';
import { ProgressTracker } from '../../src/report/progress.js';
import { showProgress } from '../../src/cli/progress.js';
import type { RowState } from '../../src/job/rows.js';

/** 50 rows, the first 6 invalid (the issue's `6/50 | 0/min` case). */
function rows(): RowState[] {
  const out: RowState[] = [];
  for (let i = 1; i <= 50; i++)
    out[i] = { row: i, status: i <= 6 ? 'invalid' : 'pending', amount: 100 } as unknown as RowState;
  return out;
}

const start = (events: JobEvents, rs: RowState[]) =>
  events.emit('job:started', {
    job: 'allowance-1a2b3c4d',
    rows: rs,
    resumed: false,
    pending: 44,
    processing: 0,
  });

describe('ProgressTracker', () => {
  it('first line: nothing done, invalid apart, the limiter pace and an ETA from its interval', () => {
    const events = new JobEvents();
    const t = new ProgressTracker(events, { clock: new FakeClock(), intervalMs: 1000, pollAfterMs: 15_000 });
    start(events, rows());
    // 44 pending rows: a POST and a poll each at 1 s, then the 15 s poll delay = 103 s ≈ 2m
    expect(t.line()).toBe(
      '[....................] 0/44 done | up to 60/min | ETA 2m | pending 44 | 6 invalid, not sent',
    );
  });

  it('rate counts sends over the last minute, not finished rows; done counts only sent rows that ended', async () => {
    const clock = new FakeClock();
    const events = new JobEvents();
    const t = new ProgressTracker(events, { clock, intervalMs: 1000, pollAfterMs: 15_000 });
    const rs = rows();
    start(events, rs);
    // 20 sends, one every 2 s (polls take the other slots); none has finished yet
    for (let i = 7; i < 27; i++) {
      rs[i]!.status = 'processing';
      events.emit('row:submitted', { row: rs[i]! });
      await clock.advance(2000);
    }
    const line = t.line();
    expect(line).toMatch(/^\[\.{20}\] 0\/44 done \| 30\/min sent \| /);
    expect(line).toContain('processing 20, pending 24 | 6 invalid, not sent');
    // 24 pending at 30/min = 48 s, then 20 polls at 1 s and the 15 s delay: 83 s
    expect(t.eta({ pending: 24, processing: 20 })).toBe(83);
    // a minute later with no sends: the rate falls to 0 and the ETA goes back to the limiter's
    for (let i = 7; i < 27; i++) rs[i]!.status = 'completed';
    await clock.advance(61_000);
    expect(t.line()).toMatch(
      /^\[#{9}\.{11}\] 20\/44 done \| 0\/min sent \| ETA 63s \| completed 20, pending 24 \| 6 invalid, not sent$/,
    );
  });

  it('a row whose POST is in flight is "sending", not done and not unknown', () => {
    const events = new JobEvents();
    const t = new ProgressTracker(events, { clock: new FakeClock(), intervalMs: 1000, pollAfterMs: 0 });
    const rs = rows();
    start(events, rs);
    (rs[7] as { status: string }).status = 'sending';
    expect(t.line()).toContain('0/44 done');
    expect(t.line()).toContain('sending 1, pending 43');
    expect(t.line()).not.toContain('unknown');
  });
});

describe('ProgressTracker while the API asks to wait', () => {
  it('the ETA gives way to the time the API said to come back', () => {
    const events = new JobEvents();
    const clock = new FakeClock(Date.UTC(2026, 0, 1, 8, 0, 0));
    let until: number | null = clock.now() + 90_000;
    const t = new ProgressTracker(events, {
      clock,
      intervalMs: 1000,
      pollAfterMs: 0,
      waitingUntil: () => until,
    });
    start(events, rows());
    const shown = new Date(until!).toTimeString().slice(0, 8);
    expect(t.line()).toContain(`| waiting for the API until ${shown} |`);
    expect(t.line()).not.toContain('ETA');
    until = null;
    expect(t.line()).toContain('| ETA ');
  });
});

describe('showProgress', () => {
  const options = { quiet: false, baseUrl: 'http://127.0.0.1:1/api/v1' };
  it('off a terminal: the start line and the first progress line at once; a stop is said once', () => {
    const events = new JobEvents();
    const err: string[] = [];
    const shown = showProgress(events, { out: () => undefined, err: (l) => err.push(l) }, options, {
      intervalMs: 1000,
      pollAfterMs: 15_000,
      clock: new FakeClock(),
    });
    start(events, rows());
    expect(err).toEqual([
      'starting job allowance-1a2b3c4d: 44 rows to send, 6 invalid rows not sent',
      'allowance-1a2b3c4d [....................] 0/44 done | up to 60/min | ETA 2m | pending 44 | 6 invalid, not sent',
    ]);
    events.emit('job:stopping', { code: 'INSUFFICIENT_BALANCE', message: 'the API answered 402' });
    events.emit('job:stopping', { code: 'INTERRUPTED', message: 'interrupted by a signal' });
    expect(err.slice(2)).toEqual(['stopping: the API answered 402']);
    expect(shown.stopAnnounced).toBe(true);
    shown.stop();
  });

  it('a 404 from a base URL without /api/v1 gets the hint', () => {
    const events = new JobEvents();
    const err: string[] = [];
    const o = { quiet: false, baseUrl: 'http://127.0.0.1:8080' };
    const shown = showProgress(events, { out: () => undefined, err: (l) => err.push(l) }, o, {
      intervalMs: 1000,
      pollAfterMs: 0,
      clock: new FakeClock(),
    });
    events.emit('job:stopping', {
      code: 'API_ERROR',
      message: '/recharge: No such endpoint: POST /recharge',
    });
    expect(err).toEqual([
      'stopping: /recharge: No such endpoint: POST /recharge — --base-url should end in /api/v1 (it is http://127.0.0.1:8080); set ALSAMIFLEXI_BASE_URL=http://127.0.0.1:8080/api/v1',
    ]);
    shown.stop();
  });
});
