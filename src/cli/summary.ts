/** The end of a job command (SPEC §7): the `--json` object, the human summary and the next step. */
import type { JobResult } from '../job/run.js';
import { bdt, count, group, noun } from '../util/words.js';
import { apiHintText } from './context.js';
import { sameNumberLines, type SameNumberRow } from '../validate/same-number.js';

/**
 * What planning said about the file (the `job:planned` event): the rows whose number an earlier
 * row has with another amount (SPEC §3, §5a). Only `run` of a new file plans; a resumed job
 * has none (each such row's warning is in the results CSV).
 */
export interface PlanNotes {
  sameNumber: { rows: number; first: readonly SameNumberRow[] };
}

/**
 * The `--json` object of a job command (SPEC §2 keys, README "What you see"). A stop that the
 * user can fix on their side (a wrong base URL) carries the human line's hint as `hint`.
 * `same_number` (as `validate --json` gives it): `{rows, first}` when this command made the job
 * from the file, else null.
 * @param baseUrl the base URL in force, for that hint
 */
export function jsonSummary(r: JobResult, exitCode: number, baseUrl?: string, planned?: PlanNotes) {
  const hint = r.stopped ? apiHintText(r.stopped, baseUrl) : undefined;
  return {
    job: r.job,
    counts: r.counts,
    amounts: r.amounts,
    results: r.results,
    failed: r.failed,
    unknown: r.unknown,
    input_changed: r.inputChanged,
    warnings: r.warnings ?? [],
    stopped: r.stopped
      ? { code: r.stopped.code, message: r.stopped.message, ...(hint ? { hint } : {}) }
      : null,
    repeats: {
      earlier_jobs: r.repeats.earlierJobs,
      unsettled: r.repeats.unsettled,
      warnings: r.repeats.warnings,
    },
    same_number: planned
      ? {
          rows: planned.sameNumber.rows,
          first: planned.sameNumber.first.map((x) => ({
            row: x.row,
            line: x.line,
            number: x.number,
            amount: x.amount,
            also: { ...x.also },
          })),
        }
      : null,
    exit_code: exitCode,
  };
}

/** The end summary: counts, money, files, and always the next step (SPEC §7). */
export function humanSummary(r: JobResult, planned?: PlanNotes): string[] {
  const c = r.counts as Record<string, number>;
  const total = Object.values(c).reduce((a, b) => a + b, 0);
  const parts = ['completed', 'failed', 'unknown', 'processing', 'pending']
    .filter((st) => (c[st] ?? 0) > 0)
    .map((st) => `${group(c[st]!)} ${st}`);
  if (c.invalid) parts.push(`${group(c.invalid)} invalid (not sent)`);
  if (c.skipped)
    parts.push(
      `${group(c.skipped)} skipped (${r.repeats.unsettled > 0 ? 'paid, or maybe paid,' : 'paid'} by another job)`,
    );
  const lines = [
    `job ${r.job}: ${count(total, 'row')} — ${parts.join(', ') || 'nothing to do'}`,
    `  recharged: ${bdt(r.amounts.completed)}${r.amounts.processing ? `, still processing: ${bdt(r.amounts.processing)}` : ''}`,
    `  results: ${r.results}`,
  ];
  if (r.failed) lines.push(`  failed rows: ${r.failed}`);
  if (c.unknown > 0 && r.unknown) lines.push(`  unknown rows: ${r.unknown}`);
  lines.push(...repeatLines(r));
  if (planned)
    lines.push(
      ...sameNumberLines(planned.sameNumber, { paid: true, where: `error_message in ${r.results}` }),
    );
  if (r.inputChanged && r.stopped?.code !== 'INPUT_CHANGED') lines.push(`  warning: ${r.inputChanged}`);
  return [...lines, ...nextSteps(r).map((step, i) => `${i === 0 ? 'next: ' : '      '}${step}`)];
}

/** What the user does now, most urgent first; one line each. */
export function nextSteps(r: JobResult): string[] {
  const c = r.counts as Record<string, number>;
  const steps: string[] = [];
  const resume = `recharge-batch resume ${r.job}`;
  const code = r.stopped?.code;
  if (code === 'API_UNAUTHORIZED') steps.push(`check the API key (ALSAMIFLEXI_API_KEY), then \`${resume}\``);
  else if (code === 'INSUFFICIENT_BALANCE')
    steps.push(`top up the account (${bdt(r.amounts.pending)} still to send), then \`${resume}\``);
  else if (
    code === 'API_UNREACHABLE' ||
    code === 'API_ERROR' ||
    code === 'API_TIMEOUT' ||
    code === 'API_BAD_RESPONSE'
  ) {
    steps.push(`check the connection and --base-url, then \`${resume}\``);
  } else if (code === 'INPUT_CHANGED')
    // the rows may all be done, but the results lack the input's own columns: the exit code is 4
    steps.push(
      `put the input back as it was when the job was made, then \`recharge-batch report ${r.job}\` for the full results`,
    );
  else if (code === 'POLL_TIMEOUT')
    steps.push(`\`${resume}\` later: ${count(c.processing ?? 0, 'row')} still processing at the API`);
  else if ((c.pending ?? 0) + (c.processing ?? 0) > 0)
    steps.push(`\`${resume}\` to finish the ${count((c.pending ?? 0) + (c.processing ?? 0), 'row')} left`);
  // the rows in the failed CSV: DUPLICATE_ROW rows are invalid but not there (SPEC §4)
  const toFix = r.failedRows ?? (c.failed ?? 0) + (c.invalid ?? 0);
  // one way back for these rows, never two (retrying and feeding the file back would pay twice)
  if (toFix > 0 && r.failed) {
    steps.push(
      `open ${r.failed}: its error_message says why ${toFix === 1 ? 'the row was' : `each of the ${count(toFix, 'row')} was`} not paid; correct what is wrong, then run that file: \`recharge-batch run ${r.failed}\``,
    );
  }
  if ((c.unknown ?? 0) > 0) {
    const where = r.unknown ?? `${r.results} (status unknown)`;
    steps.push(
      `check the ${count(c.unknown!, 'unknown row')} in ${where} with Alsamiflexi by reference or transaction id before paying ${noun(c.unknown!, 'it', 'them')} again: ${noun(c.unknown!, 'it', 'they')} may have been paid (never feed that file back as it is)`,
    );
  }
  // skipped as maybe paid: the exit code is 1, so "nothing to do" would contradict it
  const { unsettled, earlierJobs } = r.repeats;
  if (unsettled > 0) {
    steps.push(
      `${count(unsettled, 'row')} skipped as maybe paid (MAYBE_PAID in the results): once ${noun(earlierJobs.length, 'the earlier job', 'the earlier jobs')} (${earlierJobs.join(', ')}) ${noun(earlierJobs.length, 'has', 'have')} finished (resume ${noun(earlierJobs.length, 'it', 'them')} if ${noun(earlierJobs.length, 'it', 'they')} stopped), \`${resume}\` looks ${noun(unsettled, 'it', 'them')} up again: a payment that completed is recorded, one that failed is paid now; check any still left with Alsamiflexi before paying ${noun(unsettled, 'it', 'them')} from a new CSV with --allow-repeat`,
    );
  }
  if (steps.length === 0)
    steps.push(
      (c.invalid ?? 0) > 0
        ? `nothing — every row is done; the ${count(c.invalid!, 'row')} left out ${noun(c.invalid!, 'repeats', 'repeat')} an earlier row of the file (DUPLICATE_ROW in the results) and ${noun(c.invalid!, 'needs', 'need')} no fixing`
        : 'nothing — every row is done',
    );
  return steps;
}

/** SPEC §5a: skipped rows name the earlier jobs; other amounts to the same number are warned. */
function repeatLines(r: JobResult): string[] {
  const lines: string[] = [];
  const { earlierJobs, unsettled, warnings } = r.repeats;
  if (r.counts.skipped > 0) {
    lines.push(
      `  ${count(r.counts.skipped, 'row')} skipped, ${bdt(r.amounts.skipped)} not sent: already paid${unsettled > 0 ? ' (or maybe paid)' : ''} by ${noun(earlierJobs.length, 'job', 'jobs')} ${earlierJobs.join(', ')} — see error_message in the results (to pay ${noun(r.counts.skipped, 'it', 'them')} again on purpose: --allow-repeat)`,
    );
    if (unsettled > 0)
      lines.push(
        `  ${unsettled} of them ${noun(unsettled, 'matches', 'match')} a payment that is not known to be completed (MAYBE_PAID, or still processing): check those with the API`,
      );
  }
  if (warnings.length > 0) {
    lines.push(
      `  warning: ${count(warnings.length, 'number was', 'numbers were')} paid another amount by an earlier job inside --repeat-window:`,
    );
    for (const w of warnings.slice(0, 10)) lines.push(`    ${w}`);
    if (warnings.length > 10) lines.push(`    … and ${warnings.length - 10} more`);
  }
  return lines;
}
