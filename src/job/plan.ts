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
import { bdt } from '../util/words.js';
import { hashFile, type JobMeta } from './job.js';
import { defaultOutputs } from './outputs.js';
import type { PlannedRow } from './rows.js';

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
}

/**
 * Validates `csv` (whose sha256 is `hash`, `size` bytes) as job `name`; nothing is written.
 * @throws BatchError FILE_NO_DATA, MAX_TOTAL_EXCEEDED (nothing was sent), FILE_UNREADABLE (the
 *   file changed while it was read), the validator's file-level errors (FILE_*, CSV_PARSE,
 *   HEADER_*), and the client's errors when the operators are fetched
 */
export async function plan(
  opts: PlanOptions,
  csv: string,
  name: string,
  hash: string,
  size: number,
): Promise<{ meta: JobMeta; rows: PlannedRow[] }> {
  const operators = opts.operators ?? (await opts.client.getOperators(opts.signal));
  const validator = await createValidator(csv, {
    operators,
    map: opts.map,
    allowDuplicates: opts.allowDuplicates,
    signal: opts.signal,
  });
  const rows: PlannedRow[] = [];
  let valid = 0;
  let total = 0;
  for await (const v of validator.rows()) {
    if (v.ok) {
      valid++;
      total += v.value.amount;
      rows.push({
        row: v.row,
        line: v.line,
        valid: true,
        number: v.value.number,
        amount: v.value.amount,
        operatorId: v.value.operatorId,
        operatorName: v.value.operatorName,
        explicitRef: v.value.reference,
        ...(v.value.warning ? { warning: v.value.warning } : {}),
      });
    } else {
      rows.push({
        row: v.row,
        line: v.line,
        valid: false,
        number: v.partial.number,
        amount: v.partial.amount,
        operatorName: v.partial.operatorName,
        explicitRef: v.partial.reference ?? null,
        code: v.code,
        msg: v.message,
      });
    }
  }
  if (rows.length === 0) throw new BatchError('FILE_NO_DATA', `${csv} has a header but no data rows`);
  if (opts.maxTotal !== undefined && total > opts.maxTotal) {
    throw new BatchError(
      'MAX_TOTAL_EXCEEDED',
      `valid rows add up to ${bdt(total)}, more than --max-total ${bdt(opts.maxTotal)}; nothing was sent`,
      {
        total,
        maxTotal: opts.maxTotal,
      },
    );
  }
  const after = await hashFile(csv);
  if (after.hash !== hash)
    throw new BatchError('FILE_UNREADABLE', `${csv} changed while it was being read; run again`);
  const meta: JobMeta = {
    version: 1,
    job: name,
    id: randomBytes(8).toString('hex'),
    account: opts.client.account,
    baseUrl: normalizeBaseUrl(opts.client.baseUrl),
    input: { path: csv, hash, size },
    results: defaultOutputs(csv, opts.out).results,
    columns: validator.source.columns,
    roles: validator.roles,
    options: {
      allowDuplicates: opts.allowDuplicates ?? false,
      ...(opts.map ? { map: opts.map as Record<string, string> } : {}),
    },
    rows: rows.length,
    valid,
    total,
    createdAt: new Date((opts.clock ?? systemClock).now()).toISOString(),
  };
  return { meta, rows };
}
