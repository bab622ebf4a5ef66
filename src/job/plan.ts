/**
 * A new job's plan (SPEC §3, §5): every row of the input validated once, in file order, into
 * its priced form or its verdict, and the job's record (`job.json`) that goes with it. The
 * plan is what is sent: the input is never re-validated once the job exists (docs/design.md,
 * "On disk").
 */
import { randomBytes } from 'node:crypto';
import type { AlsamiflexiClient } from '../api/client.js';
import { normalizeBaseUrl } from '../api/account.js';
import type { Operator } from '../api/types.js';
import { systemClock, type Clock } from '../clock.js';
import { BatchError } from '../errors.js';
import { createValidator, type ColumnMap } from '../validate/index.js';
import { SameNumberNotes } from '../validate/same-number.js';
import type { JobEvents } from './events.js';
import { bdt } from '../util/words.js';
import { hashFile, type JobMeta } from './job.js';
import { defaultOutputs } from './outputs.js';
import { plannedRow, type PlannedRow } from './rows.js';

/** What planning reads of `run`'s options (RunJobOptions in run.ts). */
export interface PlanOptions {
  client: Pick<AlsamiflexiClient, 'getOperators' | 'account' | 'baseUrl'>;
  /** operator list; fetched from the API when absent */
  operators?: Operator[];
  map?: ColumnMap;
  allowDuplicates?: boolean;
  /** BDT: refuse if valid rows add up to more */
  maxTotal?: number;
  /** the results path the job will remember */
  out?: string;
  signal?: AbortSignal;
  clock?: Clock;
  /** told `job:planned` once the plan is complete (the same-number warnings for the summary) */
  events?: JobEvents;
}

/**
 * Validates `csv` (whose sha256 is `hash`, `size` bytes) as job `name`, as a stream: `rows`
 * yields each row's plan line as it is validated (never all held: SPEC §3, §11), and `finish`,
 * once they have all been seen, checks the totals and gives the job's record. Nothing is
 * written here (`writePlan` in job.ts writes both).
 * @throws BatchError from `finish`: FILE_NO_DATA, MAX_TOTAL_EXCEEDED (nothing was sent),
 *   FILE_UNREADABLE (the file changed while it was read); from `rows` or here: the validator's
 *   file-level errors (FILE_*, CSV_PARSE, HEADER_*), and the client's when the operators are fetched
 */
export async function plan(
  opts: PlanOptions,
  csv: string,
  name: string,
  hash: string,
  size: number,
): Promise<{ rows: AsyncIterable<PlannedRow>; finish: () => Promise<JobMeta> }> {
  const operators = opts.operators ?? (await opts.client.getOperators(opts.signal));
  const validator = await createValidator(csv, {
    operators,
    map: opts.map,
    allowDuplicates: opts.allowDuplicates,
    signal: opts.signal,
  });
  let count = 0;
  let valid = 0;
  let total = 0;
  // the rows are never all held (SPEC §11): the summary gets a count and the first few
  const sameNumber = new SameNumberNotes();
  async function* rows(): AsyncGenerator<PlannedRow> {
    for await (const batch of validator.batches()) {
      for (const v of batch) {
        count++;
        if (v.ok) valid++;
        if (v.ok) total += v.value.amount;
        sameNumber.add(v);
        yield plannedRow(v);
      }
    }
  }
  const finish = async (): Promise<JobMeta> => {
    if (count === 0) throw new BatchError('FILE_NO_DATA', `${csv} has a header but no data rows`);
    if (opts.maxTotal !== undefined && total > opts.maxTotal) {
      throw new BatchError(
        'MAX_TOTAL_EXCEEDED',
        `valid rows add up to ${bdt(total)}, more than --max-total ${bdt(opts.maxTotal)}; nothing was sent`,
        { total, maxTotal: opts.maxTotal },
      );
    }
    const after = await hashFile(csv);
    if (after.hash !== hash)
      throw new BatchError('FILE_UNREADABLE', `${csv} changed while it was being read; run again`);
    opts.events?.emit('job:planned', { job: name, rows: count, sameNumber });
    return {
      version: 1,
      job: name,
      id: randomBytes(8).toString('hex'),
      account: opts.client.account,
      baseUrl: normalizeBaseUrl(opts.client.baseUrl),
      input: {
        path: csv,
        hash,
        size,
        // how the input was read, for the failed CSV (README "Results": it opens like the input)
        delimiter: validator.source.delimiter,
        ...(validator.source.sepLine ? { sepLine: true } : {}),
      },
      results: defaultOutputs(csv, opts.out).results,
      columns: validator.source.columns,
      roles: validator.roles,
      options: {
        allowDuplicates: opts.allowDuplicates ?? false,
        ...(opts.map ? { map: opts.map as Record<string, string> } : {}),
      },
      rows: count,
      valid,
      total,
      createdAt: new Date((opts.clock ?? systemClock).now()).toISOString(),
    };
  };
  return { rows: rows(), finish };
}
