/**
 * Atomic CSV output (SPEC §4): rows are formatted a batch at a time and streamed through an
 * `AtomicFile` (util/fs.ts: temp file beside the target, fsync, rename, fsync of the
 * directory). A reader sees the old file or the new one, never half of one; if the rows fail
 * mid-way the temp file is removed and `path` is untouched. The parent directory must exist.
 *
 * Every file starts with a UTF-8 BOM unless `bom: false` (SPEC §2 `--bom`/`--no-bom`): without
 * it Excel on Windows reads the file as the local code page and garbles Bengali names.
 *
 * The format is csv-stringify's (its default options but the `delimiter`: `,` unless told `;`
 * or tab, `\n` after each record, a cell quoted only when it holds `"`, the delimiter, `\n` or
 * `\r`). The delimiter is `,` for every file but the failed CSV, which is written with the
 * input's (SPEC §4 "ready to fix and feed back": it must open in the clerk's spreadsheet like
 * the file they gave; README "Results"). csv-stringify formats every record that needs
 * quoting; a record none of whose cells needs it is, by that rule, just its cells joined by
 * the delimiter, and is written so without a call into csv-stringify. That shortcut is the
 * whole speed-up of issue #13: through csv-stringify's sync API (per batch; per row was worse)
 * a million-row `validate --out` spent 25 % of its time in csv-stringify's per-cell generality
 * (cast functions, option objects, separator arrays) and most of a further 24 % collecting its
 * garbage — more than all of the validation (bench/README.md, "validate.mjs"). Payroll rows
 * needing quotes (a `Rahman, Md.` name) are the few. test/unit/csv-format.test.ts pins the
 * output to csv-stringify's, byte for byte, on random and hostile cells.
 * The formula guard (`'` before `= + - @`) is not the format's job: report/cells.ts builds
 * every cell.
 */
import { stringify } from 'csv-stringify/sync';
import { AtomicFile } from '../util/fs.js';
import type { Delimiter } from './header-line.js';

export interface WriteCsvOptions {
  /** start the file with a UTF-8 BOM (default true) */
  bom?: boolean;
  /** between cells (default `,`); the records written must be formatted with the same one */
  delimiter?: Delimiter;
  /**
   * start the file (after the BOM, if any) with an Excel `sep=X` line naming the delimiter
   * (default false); this tool's reader honours and skips it (SPEC §3a)
   */
  sepLine?: boolean;
}

type Rows = AsyncIterable<string[]> | Iterable<string[]>;
type Batches = AsyncIterable<string[][]> | Iterable<string[][]>;

const BATCH = 1000;

/**
 * One record as CSV text, without the record delimiter: what csv-stringify/sync writes for a
 * record of string cells with this `delimiter` (default `,`), less its `\n`. For
 * `AtomicCsv.writeRecords`: formatting each row as it is made lets its cells die young (issue
 * #13: a batch of rows kept as arrays until the batch was written doubled the young-generation
 * GC of `validate --out`).
 */
export function csvRecord(cells: readonly string[], delimiter: Delimiter = ','): string {
  // One native join and one scan of the line tell whether any cell needs quoting.
  const line = cells.join(delimiter);
  return isPlain(line, cells.length, delimiter.charCodeAt(0))
    ? line
    : stringify([cells], { delimiter }).slice(0, -1);
}

/**
 * Records as CSV text: cells joined by `delimiter` (default `,`), each record ended by `\n` —
 * what `stringify(rows, { delimiter })` of csv-stringify/sync returns for string cells.
 */
export function csvLines(rows: readonly (readonly string[])[], delimiter: Delimiter = ','): string {
  return recordsText(rows.map((cells) => csvRecord(cells, delimiter)));
}

function recordsText(records: readonly string[]): string {
  return records.length === 0 ? '' : records.join('\n') + '\n';
}

/**
 * True when no cell of the record joined as `line` holds `"`, `\n`, `\r` or a delimiter (char
 * code `d`) of its own.
 */
function isPlain(line: string, cells: number, d: number): boolean {
  // one pass finds both a character that forces quotes and a delimiter more than the join put
  const top = d > 34 ? d : 34; // every character that matters is at most this: `,` `;` or `"`
  let seps = 0; // the join put cells − 1 of them; one more belongs to a cell
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c > top) continue;
    if (c === d) {
      if (++seps >= cells) return false;
    } else if (c === 34 || c === 10 || c === 13) return false;
  }
  return true;
}

/**
 * The text a CSV starts with: the BOM unless `bom: false`, the `sep=X` line if asked, the
 * header record. What `AtomicCsv.create` writes, and what tells a file holding nothing but it
 * (report/owned.ts).
 */
export function csvPreamble(header: readonly string[], options: WriteCsvOptions = {}): string {
  const delimiter = options.delimiter ?? ',';
  const sep = options.sepLine ? `sep=${delimiter}\n` : '';
  return `${(options.bom ?? true) ? '\ufeff' : ''}${sep}${csvRecord(header, delimiter)}\n`;
}

/**
 * One CSV being written: `create` opens the temp file and writes the header, `write` adds
 * rows, `commit` makes it the file at `path`, `abort` leaves `path` as it was. For writing
 * several files in one pass over the input.
 */
export class AtomicCsv {
  readonly #file: AtomicFile;
  readonly path: string;
  /** between cells: what `create` was given (default `,`) */
  readonly delimiter: Delimiter;

  private constructor(file: AtomicFile, delimiter: Delimiter) {
    this.#file = file;
    this.path = file.path;
    this.delimiter = delimiter;
  }

  /** @throws the fs error (ENOENT when the directory is missing, EACCES…) */
  static async create(path: string, header: string[], options: WriteCsvOptions = {}): Promise<AtomicCsv> {
    // 0o666 before the umask: the user's own file, readable like any file they save
    const file = new AtomicCsv(await AtomicFile.open(path, 0o666), options.delimiter ?? ',');
    try {
      await file.#file.write(csvPreamble(header, options));
    } catch (err) {
      await file.abort();
      throw err;
    }
    return file;
  }

  /**
   * Appends the rows as one write (a batch of the input's records: one write per read chunk),
   * resolved once written, so awaiting it keeps backpressure.
   * @throws the fs error; then `abort`
   */
  async write(rows: readonly (readonly string[])[]): Promise<void> {
    if (rows.length > 0) await this.#file.write(csvLines(rows, this.delimiter));
  }

  /**
   * Appends records already formatted by `csvRecord` (with the delimiter the file was created with), as one write.
   * @throws the fs error; then `abort`
   */
  async writeRecords(records: readonly string[]): Promise<void> {
    if (records.length > 0) await this.#file.write(recordsText(records));
  }

  /** @throws the fs error of fsync or rename; the temp file is then removed, `path` untouched */
  async commit(): Promise<void> {
    await this.#file.commit();
  }

  /** Removes the temp file; never throws. */
  async abort(): Promise<void> {
    await this.#file.abort();
  }
}

/** Writes `path` atomically: the header, then the rows (grouped into writes of 1,000). */
export async function writeCsvAtomic(
  path: string,
  header: string[],
  rows: Rows,
  options: WriteCsvOptions = {},
): Promise<void> {
  await writeCsvBatchesAtomic(path, header, batched(rows), options);
}

/**
 * The same, for rows that arrive in groups (as the validator produces them): one format and
 * one write per group, each awaited before the next group is pulled.
 * @throws the fs error, or whatever the iteration throws; `path` is then untouched
 */
export async function writeCsvBatchesAtomic(
  path: string,
  header: string[],
  batches: Batches,
  options: WriteCsvOptions = {},
): Promise<void> {
  await writeCsvRecordsAtomic(path, header, formatted(batches), options);
}

/**
 * The same, for groups of records already formatted by `csvRecord` (so the caller can format
 * each row as it makes it).
 * @throws the fs error, or whatever the iteration throws; `path` is then untouched
 */
export async function writeCsvRecordsAtomic(
  path: string,
  header: string[],
  batches: AsyncIterable<readonly string[]> | Iterable<readonly string[]>,
  options: WriteCsvOptions = {},
): Promise<void> {
  const file = await AtomicCsv.create(path, header, options);
  try {
    for await (const records of batches) await file.writeRecords(records);
  } catch (err) {
    await file.abort();
    throw err;
  }
  await file.commit();
}

async function* formatted(batches: Batches): AsyncGenerator<string[]> {
  for await (const batch of batches) yield batch.map((cells) => csvRecord(cells));
}

async function* batched(rows: Rows): AsyncGenerator<string[][]> {
  let batch: string[][] = [];
  for await (const row of rows) {
    batch.push(row);
    if (batch.length >= BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}
