/**
 * Results CSV and failed-rows CSV (SPEC §4), written from the job's state and the input file
 * (re-read as a stream, so the input's cells are never held in memory), atomically.
 */
import { basename, dirname, extname, join, resolve } from 'node:path';
import { openCsv } from '../csv/read.js';
import { writeCsvAtomic } from '../csv/write.js';
import { BatchError } from '../errors.js';
import type { JobMeta } from '../job/job.js';
import type { RowState } from '../job/rows.js';
import { failedHeader, guardCell, resultHeader } from './columns.js';

export interface Outputs {
  results: string;
  failed: string;
}

/** `<input dir>/<basename>.results.csv` and `.failed.csv` beside it (or beside --out). */
export function defaultOutputs(inputPath: string, out?: string): Outputs {
  if (out) {
    const abs = resolve(out);
    const base = basename(abs).replace(/(\.results)?\.csv$/i, '');
    return { results: abs, failed: join(dirname(abs), `${base}.failed.csv`) };
  }
  const base = basename(inputPath, extname(inputPath));
  return { results: join(dirname(inputPath), `${base}.results.csv`), failed: join(dirname(inputPath), `${base}.failed.csv`) };
}

function iso(t: string | number | undefined): string {
  if (t === undefined || t === null) return '';
  return typeof t === 'number' ? new Date(t).toISOString() : t;
}

/** The SPEC §4 status word of a row; an intent without an answer reads as `unknown`. */
export function statusWord(r: RowState): string {
  return r.status === 'sending' ? 'unknown' : r.status;
}

export function resultCells(r: RowState, status = statusWord(r)): string[] {
  return [
    String(r.row),
    status,
    r.number ?? '',
    guardCell(r.apiOperator ?? r.operatorName ?? ''),
    r.amount !== undefined ? String(r.amount) : '',
    guardCell(r.ref ?? ''),
    guardCell(r.txn ?? ''),
    guardCell(r.code ?? ''),
    guardCell(r.msg ?? ''),
    iso(r.submittedAt),
    iso(r.completedAt),
  ];
}

/**
 * Input cells, width of the header, free text guarded; the number and amount cells untouched.
 * A malformed row's extra fields are joined into the last cell (as `validate --out` does), so
 * nothing of the input is lost.
 */
export function inputCells(meta: Pick<JobMeta, 'columns' | 'roles'>, fields: string[], delimiter: string): string[] {
  const width = meta.columns.length;
  const out: string[] = [];
  for (let i = 0; i < width; i++) {
    const v = i === width - 1 && fields.length > width ? fields.slice(i).join(delimiter) : (fields[i] ?? '');
    const untouched = fields.length === width && (i === meta.roles.number || i === meta.roles.amount);
    out.push(untouched ? v : guardCell(v));
  }
  return out;
}

export async function writeResults(meta: JobMeta, rows: RowState[], outputs: Outputs): Promise<void> {
  let source;
  try {
    source = await openCsv(meta.input.path, { map: meta.options.map });
  } catch (err) {
    throw new BatchError('FILE_NOT_FOUND', `cannot re-read the input ${meta.input.path} to write the results: ${(err as Error).message}`);
  }
  const failedRows: string[][] = [];
  async function* results(): AsyncIterable<string[]> {
    for await (const rec of source!.records()) {
      const r = rows[rec.row];
      const cells = inputCells(meta, rec.fields, source!.delimiter);
      if (!r) {
        yield [...cells, ...new Array<string>(11).fill('')];
        continue;
      }
      const status = statusWord(r);
      if (status === 'failed' || status === 'invalid' || status === 'unknown') {
        failedRows.push([...cells, guardCell(r.code ?? ''), guardCell(r.msg ?? '')]);
      }
      yield [...cells, ...resultCells(r, status)];
    }
  }
  await writeCsvAtomic(outputs.results, resultHeader(meta.columns), results());
  await writeCsvAtomic(outputs.failed, failedHeader(meta.columns), failedRows);
}
