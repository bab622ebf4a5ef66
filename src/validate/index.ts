/**
 * CSV validation (SPEC §3): the header is mapped once, then rows stream through the rules in
 * file order. Used by `validate` (report only) and by `run` (the job engine builds its
 * journal from `createValidator(...).rows()`).
 */
import type { Operator } from '../api/types.js';
import { openCsv, type CsvFile } from '../csv/read.js';
import { csvRecord, writeCsvRecordsAtomic } from '../csv/write.js';
import { BatchError, outputFileError } from '../errors.js';
import { bdt } from '../util/words.js';
import { resultHeader } from '../report/columns.js';
import { refuseInputAsOutput } from '../util/same-file.js';
import { headerKey, mapColumns, type ColumnMap, type Roles } from './header.js';
import { FAILED_EXTRA_COLUMNS } from '../report/columns.js';
import { indexOperators } from './normalize.js';
import { emptySummary, reportRow, tally, type ValidationSummary } from './report.js';
import { createRowChecker, type RowVerdict } from './rules.js';

export { HEADER_ALIASES, normalizeHeader, parseMapOption, type ColumnMap, type Roles } from './header.js';
export { normalizeAmount, normalizeNumber } from './normalize.js';
export { loadOperatorsFile } from './operators.js';
export type { ValidationSummary } from './report.js';
export type { RowVerdict, ValidRow } from './rules.js';

export interface ValidateOptions {
  operators: Operator[];
  /** `--map number=Col …` */
  map?: ColumnMap;
  /** `--allow-duplicates`: a repeated number+amount is not DUPLICATE_ROW */
  allowDuplicates?: boolean;
  /** aborting it stops a pass over the file: the iteration throws the signal's reason (SIGINT during a long read) */
  signal?: AbortSignal;
}

export interface Validator {
  source: CsvFile;
  /** column index of each role */
  roles: Roles;
  /** one pass over the file, streaming, in file order; each call starts afresh */
  rows(): AsyncIterable<RowVerdict>;
  /** the same verdicts as rows(), grouped as read: far less async overhead on big files */
  batches(): AsyncIterable<RowVerdict[]>;
}

/**
 * How many of the last header columns are the failed CSV's own additions (`error_code,
 * error_message`, report/columns.ts FAILED_EXTRA_COLUMNS): a fed-back failed CSV, whose rows a
 * clerk may add by hand without those trailing cells. 0 for any other file.
 */
function fedBackTail(columns: readonly string[]): number {
  const n = FAILED_EXTRA_COLUMNS.length;
  const tail = columns.slice(-n).map(headerKey);
  return columns.length > n && tail.every((c, i) => c === FAILED_EXTRA_COLUMNS[i]) ? n : 0;
}

/** Opens the CSV and maps its header; whole-file problems are thrown as BatchError. */
export async function createValidator(path: string, opts: ValidateOptions): Promise<Validator> {
  const source = await openCsv(path, { map: opts.map, signal: opts.signal });
  const roles = mapColumns(path, source.columns, opts.map);
  const operators = indexOperators(opts.operators);
  const context = {
    width: source.columns.length,
    optionalTail: fedBackTail(source.columns),
    roles,
    operators,
    allowDuplicates: opts.allowDuplicates ?? false,
    delimiter: source.delimiter,
  };
  async function* batches(): AsyncGenerator<RowVerdict[]> {
    const check = createRowChecker(context);
    for await (const records of source.batches()) yield records.map(check);
  }
  return {
    source,
    roles,
    batches,
    async *rows() {
      for await (const batch of batches()) yield* batch;
    },
  };
}

/** Library entry (SPEC §8): validate a file, optionally writing the report CSV to `out`. */
export async function validateCsv(
  path: string,
  opts: ValidateOptions & { out?: string; bom?: boolean },
): Promise<ValidationSummary> {
  return (await runValidation(path, opts)).summary;
}

export interface ValidationHooks {
  /** refuse (MAX_TOTAL_EXCEEDED) when the valid rows add up to more; checked before `out` is committed */
  maxTotal?: number;
  /** sees every verdict in file order */
  onVerdict?: (verdict: RowVerdict) => void;
}

/** One pass over the file; with `out`, the report is written atomically, and not at all on error. */
export async function runValidation(
  path: string,
  opts: ValidateOptions & { out?: string; bom?: boolean },
  hooks: ValidationHooks = {},
): Promise<{ summary: ValidationSummary; validator: Validator }> {
  if (opts.out !== undefined) await refuseInputAsOutput(path, { report: opts.out });
  const validator = await createValidator(path, opts);
  const summary = emptySummary();
  const { columns, delimiter } = validator.source;
  async function* batches(): AsyncGenerator<RowVerdict[]> {
    for await (const batch of validator.batches()) {
      for (const verdict of batch) {
        tally(summary, verdict);
        hooks.onVerdict?.(verdict);
      }
      yield batch;
    }
    if (hooks.maxTotal !== undefined && summary.totalAmount > hooks.maxTotal) {
      throw new BatchError(
        'MAX_TOTAL_EXCEEDED',
        `${path}: the valid rows add up to ${bdt(summary.totalAmount)}, more than --max-total ${bdt(hooks.maxTotal)}`,
        { path, total: summary.totalAmount, maxTotal: hooks.maxTotal },
      );
    }
  }
  if (opts.out === undefined) {
    for await (const batch of batches()) void batch;
  } else {
    const width = columns.length;
    const roles = validator.roles;
    const out = opts.out;
    await writeCsvRecordsAtomic(
      out,
      resultHeader(columns),
      (async function* () {
        // each line formatted as it is built: its cells die young (issue #13, bench/README.md)
        for await (const batch of batches())
          yield batch.map((verdict) => csvRecord(reportRow(verdict, width, roles, delimiter)));
      })(),
      { bom: opts.bom },
    ).catch((err: unknown) => {
      throw outputFileError(err, out) ?? err;
    });
  }
  return { summary, validator };
}
