/**
 * Streaming CSV reader (SPEC §3, §3a): checks the file (encoding.ts: a regular file, not empty,
 * not binary, its encoding), finds the header line (below an Excel `sep=X` line and up to 10
 * title or blank lines) and its delimiter, then streams records through csv-parse with the
 * file lines each one spans. Memory is bounded by one chunk and one record, never the file.
 */
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
import { CsvError } from 'csv-parse';
import { BatchError } from '../errors.js';
import type { ColumnMap } from '../validate/header.js';
import {
  checkStream,
  CHUNK,
  decode,
  fsError,
  readHead,
  recordDelimiters,
  sniff,
  type Encoding,
} from './encoding.js';
import { locateHeader, type Delimiter } from './header-line.js';
import { LineParser, type CsvRecord } from './line-parser.js';

export { detectDelimiter, type Delimiter } from './header-line.js';
export { lineBreaksIn, type CsvRecord } from './line-parser.js';

export interface CsvSource {
  path: string;
  /** header cells as written (BOM stripped, trimmed) */
  columns: string[];
  delimiter: Delimiter;
  /** the file starts with an Excel `sep=X` line, which set `delimiter` (SPEC §3a) */
  sepLine: boolean;
  /** file line of the header: 1, unless a `sep=` line or title lines are above it */
  headerLine: number;
  /** streams the data records; every call re-reads the file from disk */
  records(): AsyncIterable<CsvRecord>;
}

export interface OpenCsvOptions {
  /** `--map`: its names count when looking for the header line (SPEC §3a) */
  map?: ColumnMap;
  /** stops a read in progress (SIGINT during a long file): the iteration throws the signal's reason */
  signal?: AbortSignal;
}

/** A quote that is never closed would otherwise swallow the rest of the file into one field. */
const MAX_RECORD_CHARS = 1_000_000;

/** A CsvSource that can also hand out records in batches (faster for millions of rows). */
export interface CsvFile extends CsvSource {
  /** the same records as records(), in file order, grouped as they were read */
  batches(): AsyncIterable<CsvRecord[]>;
}

/**
 * Opens `path` as a CSV: checks it, finds its header and delimiter, and reads up to its first
 * data row, so a file without data fails before any output is written.
 * @throws BatchError FILE_EMPTY, FILE_NO_DATA, CSV_PARSE (a `sep=` line naming another
 *   delimiter) and the file errors of encoding.ts (FILE_NOT_FOUND, FILE_BINARY, …); iterating
 *   `records()`/`batches()` throws CSV_PARSE naming the file line
 */
export async function openCsv(path: string, opts: OpenCsvOptions = {}): Promise<CsvFile> {
  const head = await readHead(path);
  const encoding = sniff(path, head);
  const found = locateHeader(path, decode(head, encoding), opts.map);
  const { delimiter } = found;
  const endings = await recordDelimiters(path, encoding, opts.signal);
  const read = () => scan(path, encoding, { delimiter, endings, headerLine: found.line }, opts.signal);
  let header: CsvRecord | undefined;
  let hasData = false;
  // The header and the first data row are read here, so that a file with no data fails
  // before any output is written.
  for await (const batch of read()) {
    header ??= batch[0];
    if (batch.length > 1 || batch[0] !== header) {
      hasData = true;
      break;
    }
  }
  if (!header)
    throw new BatchError('FILE_EMPTY', `${path} has no header line (the file holds only empty lines)`, {
      path,
    });
  if (!hasData) {
    throw new BatchError('FILE_NO_DATA', `${path} has a header line but no data rows`, { path });
  }
  const columns = header.fields.map((c, i) => (i === 0 ? c.replace(/^\uFEFF/, '') : c).trim());
  async function* batches(): AsyncGenerator<CsvRecord[]> {
    for await (const batch of read()) {
      const data = batch[0]!.row === 0 ? batch.slice(1) : batch;
      if (data.length > 0) yield data;
    }
  }
  return {
    path,
    columns,
    delimiter,
    sepLine: found.sepLine,
    headerLine: header.line,
    batches,
    async *records() {
      for await (const batch of batches()) yield* batch;
    },
  };
}

/**
 * Every non-blank record of the file from `headerLine` on, the header first (row 0), in
 * batches (one per chunk read, so the async machinery runs per ~1000 records, not per
 * record). A record is blank when all its fields are empty or spaces: an empty line, and also
 * a line of only delimiters (`,,,,`, which spreadsheets leave below the data) — skipped, not
 * counted as a row and not MALFORMED_ROW, since there is nothing in it to recharge.
 */
async function* scan(
  path: string,
  encoding: Encoding,
  { delimiter, endings, headerLine }: { delimiter: Delimiter; endings: string[]; headerLine: number },
  signal?: AbortSignal,
): AsyncGenerator<CsvRecord[]> {
  const parser = new LineParser(headerLine, {
    delimiter,
    bom: true,
    relax_quotes: true,
    relax_column_count: true,
    record_delimiter: endings, // any line ending ends a record outside quotes (SPEC §3a: files are concatenated)
    skip_empty_lines: false, // empty lines are dropped below, after their lines are counted
    max_record_size: MAX_RECORD_CHARS,
  });
  pipeline(createReadStream(path, { highWaterMark: CHUNK }), checkStream(path, encoding), parser, () => {
    // errors reach the consumer through the parser, which pipeline destroys with them
  });
  try {
    signal?.throwIfAborted();
    for await (const batch of parser) {
      signal?.throwIfAborted(); // leaving the loop destroys the parser, and pipeline the file stream
      yield batch as CsvRecord[];
    }
  } catch (err) {
    throw readError(err, path, parser.line);
  }
}

function readError(err: unknown, path: string, line: number): unknown {
  if (err instanceof BatchError) return err;
  if (!(err instanceof CsvError)) return fsError(err, path);
  const why =
    err.code === 'CSV_QUOTE_NOT_CLOSED'
      ? 'the row starting on this line opens a quote (") that is never closed'
      : err.code === 'CSV_MAX_RECORD_SIZE'
        ? `a row is longer than ${MAX_RECORD_CHARS.toLocaleString('en-US')} characters, most likely a quote (") that is never closed`
        : err.message;
  return new BatchError(
    'CSV_PARSE',
    `${path}, line ${line}: ${why}`,
    { path, line, csvCode: err.code },
    { cause: err },
  );
}
