/** The end summary of run/resume/retry ends with the next step (issue 11 point 5). */
import { describe, expect, it } from 'vitest';
import { humanSummary, nextSteps } from '../../src/cli/summary.js';
import type { JobResult } from '../../src/job/run.js';

const zero = { pending: 0, processing: 0, completed: 0, failed: 0, invalid: 0, unknown: 0, skipped: 0 };
function result(
  counts: Partial<typeof zero>,
  stopped: JobResult['stopped'] = null,
  amounts: Partial<typeof zero> = {},
): JobResult {
  return {
    job: 'allowance-1a2b3c4d',
    dir: '/state/allowance-1a2b3c4d',
    counts: { ...zero, ...counts },
    amounts: { ...zero, ...amounts },
    results: '/srv/allowance.results.csv',
    failed: '/srv/allowance.failed.csv',
    stopped,
    resumed: false,
    unknown: null,
    inputChanged: null,
    repeats: { earlierJobs: [], unsettled: 0, warnings: [] },
  } as JobResult;
}

describe('humanSummary', () => {
  it('counts in words, amounts one way, then the next step: fix and feed back the failed CSV', () => {
    const lines = humanSummary(result({ completed: 41, failed: 1, invalid: 6 }, null, { completed: 34850 }));
    expect(lines).toEqual([
      'job allowance-1a2b3c4d: 48 rows — 41 completed, 1 failed, 6 invalid (not sent)',
      '  recharged: 34,850 BDT',
      '  results: /srv/allowance.results.csv',
      '  failed rows: /srv/allowance.failed.csv',
      'next: open /srv/allowance.failed.csv: its error_message says why each of the 7 rows was not paid; correct what is wrong, then run that file: `recharge-batch run /srv/allowance.failed.csv`',
    ]);
    expect(lines.join('\n')).not.toContain('(s)');
  });

  it('one row is a row; every row completed says there is nothing left', () => {
    const lines = humanSummary(result({ completed: 1 }, null, { completed: 9250 }));
    expect(lines[0]).toBe('job allowance-1a2b3c4d: 1 row — 1 completed');
    expect(lines[1]).toBe('  recharged: 9,250 BDT');
    expect(lines.at(-1)).toBe('next: nothing — every row is done');
    const one = humanSummary(result({ completed: 3, failed: 1 }, null, { completed: 900 }));
    expect(one.at(-1)).toContain('says why the row was not paid;');
  });

  it('the failed CSV count leaves out duplicates (not written there); duplicates alone are said to need no fixing', () => {
    const some = humanSummary({ ...result({ completed: 5, invalid: 7 }), failedRows: 3 });
    expect(some.at(-1)).toContain('says why each of the 3 rows was not paid;');
    const dupsOnly = humanSummary({ ...result({ completed: 5, invalid: 2 }), failed: null, failedRows: 0 });
    expect(dupsOnly.at(-1)).toBe(
      'next: nothing — every row is done; the 2 rows left out repeat an earlier row of the file (DUPLICATE_ROW in the results) and need no fixing',
    );
  });

  it('skipped rows are counted as paid by another job, or maybe paid while some are not settled', () => {
    expect(humanSummary(result({ completed: 1, skipped: 2 }))[0]).toBe(
      'job allowance-1a2b3c4d: 3 rows — 1 completed, 2 skipped (paid by another job)',
    );
    const paid = {
      ...result({ completed: 1, skipped: 2 }),
      repeats: { earlierJobs: ['j'], unsettled: 0, warnings: [] },
    };
    expect(humanSummary(paid)).toContain(
      '  2 rows skipped, 0 BDT not sent: already paid by job j — see error_message in the results (to pay them again on purpose: --allow-repeat)',
    );
    const maybe = { ...result({ skipped: 2 }), repeats: { earlierJobs: ['j'], unsettled: 1, warnings: [] } };
    expect(humanSummary(maybe).join('\n')).toContain('already paid (or maybe paid) by job j');
    expect(humanSummary(maybe)[0]).toBe(
      'job allowance-1a2b3c4d: 2 rows — 2 skipped (paid, or maybe paid, by another job)',
    );
  });

  it('rows skipped as maybe paid are a step to take, never "nothing — every row is done"', () => {
    const maybe: JobResult = {
      ...result({ skipped: 2 }),
      repeats: { earlierJobs: ['june-1a2b3c4d'], unsettled: 2, warnings: [] },
    };
    expect(nextSteps(maybe)).toEqual([
      '2 rows skipped as maybe paid (MAYBE_PAID in the results): once the earlier job (june-1a2b3c4d) has finished (resume it if it stopped), `recharge-batch resume allowance-1a2b3c4d` looks them up again: a payment that completed is recorded, one that failed is paid now; check any still left with Alsamiflexi before paying them from a new CSV with --allow-repeat',
    ]);
  });

  it('unknown rows: check them in the unknown CSV when the result names one, else in the results', () => {
    const withFile: JobResult = {
      ...result({ completed: 3, unknown: 2 }),
      unknown: '/srv/allowance.unknown.csv',
    };
    expect(nextSteps(withFile)).toEqual([
      'check the 2 unknown rows in /srv/allowance.unknown.csv with Alsamiflexi by reference or transaction id before paying them again: they may have been paid (never feed that file back as it is)',
    ]);
    expect(nextSteps(result({ completed: 3, unknown: 1 }))).toEqual([
      'check the 1 unknown row in /srv/allowance.results.csv (status unknown) with Alsamiflexi by reference or transaction id before paying it again: it may have been paid (never feed that file back as it is)',
    ]);
  });

  it('counts are grouped like amounts: 3,000 rows — 2,999 completed', () => {
    const lines = humanSummary(result({ completed: 2999, failed: 1 }, null, { completed: 299_900 }));
    expect(lines[0]).toBe('job allowance-1a2b3c4d: 3,000 rows — 2,999 completed, 1 failed');
  });

  it('an input changed mid-run: exit 4, and the next step is the full results, not "nothing"', () => {
    const changed = result(
      { completed: 3 },
      { code: 'INPUT_CHANGED', message: 'the input /srv/allowance.csv has changed since job …' },
    );
    expect(nextSteps(changed)).toEqual([
      'put the input back as it was when the job was made, then `recharge-batch report allowance-1a2b3c4d` for the full results',
    ]);
  });

  it('a stop says how to go on: top up and resume, resume, or check the key', () => {
    const short = result(
      { completed: 10, pending: 30 },
      { code: 'INSUFFICIENT_BALANCE', message: 'the API answered 402' },
      { pending: 12500 },
    );
    expect(nextSteps(short)).toEqual([
      'top up the account (12,500 BDT still to send), then `recharge-batch resume allowance-1a2b3c4d`',
    ]);
    const signal = result(
      { completed: 10, pending: 30, processing: 2 },
      { code: 'INTERRUPTED', message: 'interrupted' },
    );
    expect(nextSteps(signal)).toEqual([
      '`recharge-batch resume allowance-1a2b3c4d` to finish the 32 rows left',
    ]);
    const key = result({ pending: 30 }, { code: 'API_UNAUTHORIZED', message: 'API key rejected (401)' });
    expect(nextSteps(key)[0]).toMatch(
      /^check the API key \(ALSAMIFLEXI_API_KEY\), then `recharge-batch resume /,
    );
    const slow = result(
      { completed: 5, processing: 1 },
      { code: 'POLL_TIMEOUT', message: '1 row still processing' },
    );
    expect(nextSteps(slow)).toEqual([
      '`recharge-batch resume allowance-1a2b3c4d` later: 1 row still processing at the API',
    ]);
  });
});
