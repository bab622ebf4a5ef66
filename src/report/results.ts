/**
 * The results, failed and unknown CSVs of a job (SPEC §4), written in one pass over the input
 * (re-read as a stream, so its cells are never held in memory), each atomically.
 *
 * A verdict is never paired with another row's cells (SPEC §5a "report"): the input is used
 * only while its sha256 is the job's, checked before and after the pass. When it has changed
 * or is gone, the files are written from the job's own record instead — the number, amount,
 * operator and reference columns from the plan, the input's other columns left empty — and
 * the caller is told why (`inputChanged`), so a run can stop resumably (exit 4) and `report`
 * can say so.
 */
import { openCsv } from '../csv/read.js';
import { AtomicCsv, csvRecord, type WriteCsvOptions } from '../csv/write.js';
import { BatchError } from '../errors.js';
import { hashFile, type JobInput, type JobMeta } from '../job/job.js';
import type { RowState } from '../job/rows.js';
import { failedCells, inputCells, outcomeCells, textCell, unknownCells, type Outcome } from './cells.js';
import { failedHeader, resultHeader, unknownHeader } from './columns.js';
import type { Outputs, WrittenResults } from '../job/outputs.js';
import { OwnedOutputs } from './owned.js';

// where the outputs go is the job's to say (job/outputs.ts); kept here for existing importers
export { defaultOutputs, jobOutputs } from '../job/outputs.js';
export { refuseInputAsOutput } from '../util/same-file.js';
export type { Outputs, WrittenResults } from '../job/outputs.js';

function iso(t: string | number | undefined): string {
  if (t === undefined || t === null) return '';
  return typeof t === 'number' ? new Date(t).toISOString() : t;
}

/** The SPEC §4 status word of a row; an intent without an answer reads as `unknown`. */
export function statusWord(r: RowState): string {
  return r.status === 'sending' ? 'unknown' : r.status;
}

export function rowOutcome(r: RowState): Outcome {
  return {
    row: r.row,
    status: statusWord(r),
    number: r.number,
    operator: r.apiOperator ?? r.operatorName,
    amount: r.amount,
    reference: r.ref,
    transactionId: r.txn,
    code: r.code,
    // a row with nothing else to say shows its validation warning, as `validate --out` does
    message: r.msg ?? (r.warning === undefined ? undefined : `warning: ${r.warning}`),
    submittedAt: iso(r.submittedAt),
    completedAt: iso(r.completedAt),
  };
}

/**
 * How the failed CSV is written (README "Results"). With the input's delimiter (SPEC §4: "in the
 * input's own columns … ready to fix and feed back"): a clerk whose Excel saved `;` (a `;` locale)
 * or tab opens it like the file they gave, and feeds it back as it is; jobs made before the
 * delimiter was kept get `,`. With the input's Excel `sep=X` line only when there is no BOM:
 * Excel honours a `sep=` line but then ignores the UTF-8 BOM and garbles non-Latin text (Bengali
 * names) — alexcaza/export-to-csv#119, Belphemur/vue-json-csv#43 — and the BOM is the default
 * (SPEC §2 `--bom`). The results and unknown CSVs stay `,` whatever the input: scripts parse
 * them (SPEC §4 names their columns).
 */
export function failedFormat(input: JobInput, bom = true): WriteCsvOptions {
  return { bom, delimiter: input.delimiter ?? ',', sepLine: input.sepLine === true && !bom };
}

/** Where a row goes besides the results: statuses this code does not know go nowhere. */
function feedBack(o: Outcome): 'failed' | 'unknown' | null {
  if ((o.status === 'failed' || o.status === 'invalid') && o.code !== 'DUPLICATE_ROW') return 'failed';
  return o.status === 'unknown' ? 'unknown' : null;
}

/** The input cells of a row rebuilt from the job's own record (the input is not usable). */
function recordCells(meta: JobMeta, r: RowState): string[] {
  const cells = new Array<string>(meta.columns.length).fill('');
  const { number, amount, operator, reference } = meta.roles;
  cells[number] = r.number ?? '';
  cells[amount] = r.amount === undefined ? '' : String(r.amount);
  if (operator !== null) cells[operator] = textCell(r.operatorName ?? '');
  if (reference !== null) cells[reference] = textCell(r.explicitRef ?? '');
  return cells;
}

class WriteFailure extends Error {}

interface WriteOptions {
  bom?: boolean;
  /** the job's state directory: its record of the files it wrote (report/owned.ts) */
  jobDir?: string;
}

/**
 * Writes the three files of `outputs` for `rows` (indexed by row number).
 * @throws the fs error of an output that cannot be written; never because of the input
 */
export async function writeResults(
  meta: JobMeta,
  rows: RowState[],
  outputs: Outputs,
  options: WriteOptions = {},
): Promise<WrittenResults> {
  const whyUnusable = async (): Promise<string | null> => {
    const now = await hashFile(meta.input.path).catch(
      (err: unknown) => (err as BatchError).code ?? 'FILE_UNREADABLE',
    );
    if (typeof now === 'string') return now === 'FILE_NOT_FOUND' ? 'is gone' : 'cannot be read';
    return now.hash === meta.input.hash ? null : 'has changed';
  };
  let why = await whyUnusable();
  if (why === null) {
    // checked again before the files are committed: a file edited during the pass is caught too
    const written = await writeAll(meta, rows, outputs, options, whyUnusable).catch((err: unknown) => {
      if (err instanceof WriteFailure) throw err.cause;
      return `could not be read (${(err as Error).message})`;
    });
    if (typeof written !== 'string') return written;
    why = written;
  }
  const fromRecord = await writeAll(meta, rows, outputs, options, null).catch((err: unknown) => {
    throw err instanceof WriteFailure ? err.cause : err;
  });
  if (typeof fromRecord === 'string') throw new BatchError('INTERNAL', fromRecord); // cannot happen without the input
  const message =
    `the input ${meta.input.path} ${why} since job ${meta.job} was made: the results were written from the job's own record ` +
    `(number, amount, operator and reference columns; the input's other columns left empty); put the file back and run 'report ${meta.job}' for the full results`;
  return { ...fromRecord, inputChanged: message };
}

async function writeAll(
  meta: JobMeta,
  rows: RowState[],
  outputs: Outputs,
  options: WriteOptions,
  /** null: from the job's record; else read the input, and this tells before committing whether it was usable */
  inputCheck: (() => Promise<string | null>) | null,
): Promise<WrittenResults | string> {
  const files: AtomicCsv[] = [];
  const owned = new OwnedOutputs(options.jobDir);
  await owned.load();
  let failed: AtomicCsv | null = null;
  let unknown: AtomicCsv | null = null;
  const counted = { failed: 0, unknown: 0, paid: 0 };
  const write = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw new WriteFailure('write failed', { cause: err });
    }
  };
  try {
    const csv = { bom: options.bom };
    const failedCsv = failedFormat(meta.input, options.bom ?? true);
    const d = failedCsv.delimiter;
    const results = await write(() => AtomicCsv.create(outputs.results, resultHeader(meta.columns), csv));
    files.push(results);
    // each line is formatted as it is built (csvRecord): its cells die young (issue #13)
    const lines = { results: [] as string[], failed: [] as string[], unknown: [] as string[] };
    const add = (cells: string[], r: RowState | undefined) => {
      if (!r) {
        lines.results.push(csvRecord([...cells, ...new Array<string>(11).fill('')]));
        return;
      }
      const o = rowOutcome(r);
      if (o.transactionId) counted.paid++;
      const to = feedBack(o);
      if (to === 'failed') lines.failed.push(csvRecord(failedCells(o, cells.slice()), d));
      if (to === 'unknown') lines.unknown.push(csvRecord(unknownCells(o, cells.slice())));
      lines.results.push(csvRecord(outcomeCells(o, cells)));
    };
    // the failed and unknown files are made only when they get a row (README "Results")
    const flush = async () => {
      if (lines.failed.length > 0 && !failed) {
        failed = await write(() => AtomicCsv.create(outputs.failed, failedHeader(meta.columns), failedCsv));
        files.push(failed);
      }
      if (lines.unknown.length > 0 && !unknown) {
        unknown = await write(() => AtomicCsv.create(outputs.unknown, unknownHeader(meta.columns), csv));
        files.push(unknown);
      }
      counted.failed += lines.failed.length;
      counted.unknown += lines.unknown.length;
      await write(() => results.writeRecords(lines.results));
      if (failed) await write(() => failed!.writeRecords(lines.failed));
      if (unknown) await write(() => unknown!.writeRecords(lines.unknown));
      lines.results = [];
      lines.failed = [];
      lines.unknown = [];
    };
    if (inputCheck) {
      const source = await openCsv(meta.input.path, { map: meta.options.map });
      const width = meta.columns.length;
      for await (const batch of source.batches()) {
        for (const rec of batch) add(inputCells(rec.fields, width, source.delimiter), rows[rec.row]);
        await flush();
      }
    } else {
      for (const r of rows) {
        if (r) add(recordCells(meta, r), r);
        if (lines.results.length >= 1000) await flush(); // a million lines are not held at once
      }
      await flush();
    }
    const why = inputCheck ? await inputCheck() : null;
    if (why !== null) {
      for (const f of files) await f.abort();
      return why;
    }
    await write(() => owned.keepOthersResults(outputs.results));
    if (failed) await write(() => owned.beforeReplace(outputs.failed));
    if (unknown) await write(() => owned.beforeReplace(outputs.unknown));
    for (const f of files) await write(() => f.commit());
    // a stale file would mislead: a clerk opens an empty one, or feeds an old one back
    if (!failed)
      await write(() => owned.removeStale(outputs.failed, 'failed', failedHeader(meta.columns), failedCsv));
    if (!unknown)
      await write(() => owned.removeStale(outputs.unknown, 'unknown', unknownHeader(meta.columns)));
    await owned.wrote(outputs.results, 'results', counted.paid);
    await owned.wrote(outputs.failed, 'failed', failed ? counted.failed : null);
    await owned.wrote(outputs.unknown, 'unknown', unknown ? counted.unknown : null);
    // the files are written; a record that cannot be saved only means a later write proves less
    await owned.save().catch(() => undefined);
    return {
      results: outputs.results,
      failed: failed ? outputs.failed : null,
      unknown: unknown ? outputs.unknown : null,
      failedRows: failed ? counted.failed : 0,
      inputChanged: null,
      warnings: owned.warnings,
    };
  } catch (err) {
    for (const f of files) await f.abort();
    throw err;
  }
}
