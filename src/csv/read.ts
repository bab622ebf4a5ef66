/**
 * Streaming CSV reader (SPEC §3, §3a): checks the file (encoding.ts: a regular file, not empty,
 * not binary, its encoding), finds the header line (below an Excel `sep=X` line and up to 10
 * title or blank lines) and its delimiter, then streams records through csv-parse with the
 * file lines each one spans. Memory is bounded by one chunk and one record, never the file.
 */
import { createReadStream } from 'node:fs';
import { pipeline, type TransformCallback } from 'node:stream';
import { CsvError, Parser } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { BatchError } from '../errors.js';
import { looksLikeHeader, type ColumnMap } from '../validate/header.js';
import {
  ANY_LINE_ENDING,
  checkStream,
  CHUNK,
  decode,
  fsError,
  readHead,
  recordDelimiters,
  sniff,
  type Encoding,
} from './encoding.js';

export interface CsvRecord {
  /** 1-based data row; the header is not counted, neither are empty lines */
  row: number;
  /** 1-based file line where the record starts */
  line: number;
  /** file line where it ends: more than `line` when a quoted cell holds line breaks */
  endLine: number;
  fields: string[];
}

export interface CsvSource {
  path: string;
  /** header cells as written (BOM stripped, trimmed) */
  columns: string[];
  delimiter: ',' | ';' | '\t';
  /** file line of the header: 1, unless a `sep=` line or title lines are above it */
  headerLine: number;
  /** streams the data records; every call re-reads the file from disk */
  records(): AsyncIterable<CsvRecord>;
}

type Delimiter = CsvSource['delimiter'];

export interface OpenCsvOptions {
  /** `--map`: its names count when looking for the header line (SPEC §3a) */
  map?: ColumnMap;
  /** stops a read in progress (SIGINT during a long file): the iteration throws the signal's reason */
  signal?: AbortSignal;
}

/** A quote that is never closed would otherwise swallow the rest of the file into one field. */
const MAX_RECORD_CHARS = 1_000_000;
/** SPEC §3a: the header is the first of the first 10 lines where a number and an amount column can be found. */
const HEADER_SEARCH_LINES = 10;

/** A CsvSource that can also hand out records in batches (faster for millions of rows). */
export interface CsvFile extends CsvSource {
  /** the same records as records(), in file order, grouped as they were read */
  batches(): AsyncIterable<CsvRecord[]>;
}

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
    headerLine: header.line,
    batches,
    async *records() {
      for await (const batch of batches()) yield* batch;
    },
  };
}

/**
 * Where the header is (SPEC §3a) in the first chunk of the file: an Excel `sep=X` first line
 * sets the delimiter and is skipped; then the first record starting in the next 10 lines in
 * which a number and an amount column can be found. Records, not lines: Excel lets a
 * header cell hold a line break (`"Mobile⏎Number"`). When no record qualifies, the first
 * non-blank line is taken, and the header check says what is missing in it.
 */
function locateHeader(
  path: string,
  text: string,
  map: ColumnMap | undefined,
): { line: number; delimiter: Delimiter } {
  const body = text.replace(/^\uFEFF/, '');
  const firstLine = /^[^\r\n]*/.exec(body)![0];
  const sepLine = /^\s*"?sep=(.)"?\s*$/i.exec(firstLine);
  let sep: Delimiter | undefined;
  if (sepLine) {
    const d = sepLine[1]!;
    if (d !== ',' && d !== ';' && d !== '\t') {
      throw new BatchError(
        'CSV_PARSE',
        `${path}, line 1: "sep=${d}" names a delimiter this tool does not read; save the file with , ; or tab between cells`,
        {
          path,
          line: 1,
        },
      );
    }
    sep = d;
  }
  const from = sep ? 2 : 1;
  const to = from + HEADER_SEARCH_LINES - 1;
  let best: { line: number; delimiter: Delimiter; cells: number } | undefined;
  for (const delimiter of sep ? [sep] : ([',', ';', '\t'] as const)) {
    for (const { line, fields } of headRecords(body, delimiter, to)) {
      if (line < from || (best && line > best.line)) continue;
      if (!looksLikeHeader(fields, map)) continue;
      // one record read as a header with two delimiters: the one that splits it into more cells wins
      if (!best || line < best.line || fields.length > best.cells)
        best = { line, delimiter, cells: fields.length };
      break;
    }
  }
  if (best) return { line: best.line, delimiter: best.delimiter };
  const lines = body.split(/\r\n|\n|\r/, to);
  const filled = lines.findIndex((l, i) => i + 1 >= from && l.trim() !== '');
  return filled === -1
    ? { line: from, delimiter: sep ?? detectDelimiter(body) }
    : { line: filled + 1, delimiter: sep ?? detectDelimiter(lines[filled]!) };
}

/**
 * The records of the head that start on lines 1..`to`, with their start line (counted as the
 * reader counts them). Parsing stops after line `to`; a quote still open at the end of the
 * chunk only loses the record it opens.
 */
function headRecords(text: string, delimiter: Delimiter, to: number): { line: number; fields: string[] }[] {
  const out: { line: number; fields: string[] }[] = [];
  let next = 1;
  try {
    parseSync(text, {
      delimiter,
      relax_quotes: true,
      relax_column_count: true,
      record_delimiter: ANY_LINE_ENDING,
      on_record: (record: string[]) => {
        if (next > to) throw new Error('enough'); // the rest of the chunk is not looked at
        out.push({ line: next, fields: record });
        next += 1 + newlinesIn(record);
        return null;
      },
    });
  } catch {
    // enough records, or a quote still open at the end of the chunk: the records before are what counts
  }
  return out;
}

/**
 * The delimiter is the one of `,` `;` tab that occurs most often (outside quotes) in the
 * first non-empty line; a tie or none at all means `,`.
 */
export function detectDelimiter(text: string): Delimiter {
  const counts = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  let seen = false;
  for (let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') quoted = !quoted;
    else if (!quoted && (c === '\n' || c === '\r')) {
      if (seen) break;
    } else if (!quoted && (c === ',' || c === ';' || c === '\t')) counts[c]++;
    if (c !== '\n' && c !== '\r' && c !== ' ') seen = true;
  }
  let best: Delimiter = ',';
  if (counts[';'] > counts[best]) best = ';';
  if (counts['\t'] > counts[best]) best = '\t';
  return best;
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

/**
 * csv-parse's Parser, tagging each record with the line it starts on as it is parsed and
 * passing records on in batches. Lines are counted here, in step with the parser, so the
 * line named in a parse error is right even though records wait in buffers downstream.
 * (csv-parse's own `info.lines` miscounts a CRLF inside quotes; it is only used to see that
 * a record spans one line, the usual case, without looking into its fields.)
 */
class LineParser extends Parser {
  readonly #headerLine: number;
  #nextLine = 1;
  #parserLines = 0;
  #row = -1;
  #batch: CsvRecord[] = [];

  constructor(headerLine: number, options: ConstructorParameters<typeof Parser>[0]) {
    // 2 batches read ahead, not 16: ~20,000 parsed records waiting for a consumer that awaits
    // a write per batch (validate --out) doubled its GC (issue #13; a stream option, untyped)
    super({ ...options, readableHighWaterMark: 2 } as ConstructorParameters<typeof Parser>[0]);
    this.#headerLine = headerLine;
  }

  /** the line the record being parsed starts on */
  get line(): number {
    return this.#nextLine;
  }

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk === null) {
      this.#flushBatch();
      return super.push(null, encoding);
    }
    const fields = chunk as string[];
    const line = this.#nextLine;
    const lines = this.info.lines;
    const breaks = lines - this.#parserLines === 1 ? 0 : newlinesIn(fields);
    this.#nextLine += 1 + breaks;
    this.#parserLines = lines;
    // lines above the header (a sep= line, titles) are not rows
    if (line >= this.#headerLine && !isBlank(fields))
      this.#batch.push({ row: ++this.#row, line, endLine: line + breaks, fields });
    return true;
  }

  override _transform(chunk: Buffer, encoding: BufferEncoding, done: TransformCallback): void {
    super._transform(chunk, encoding, (err) => {
      this.#flushBatch();
      done(err);
    });
  }

  override _flush(done: TransformCallback): void {
    super._flush((err) => {
      this.#flushBatch();
      done(err);
    });
  }

  #flushBatch(): void {
    if (this.#batch.length === 0) return;
    const batch = this.#batch;
    this.#batch = [];
    super.push(batch);
  }
}

function isBlank(fields: string[]): boolean {
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (f.length !== 0 && f.trim().length !== 0) return false;
  }
  return true;
}

/** Line breaks inside quoted fields; CRLF counts once. */
function newlinesIn(fields: string[]): number {
  let n = 0;
  for (const f of fields) n += lineBreaksIn(f);
  return n;
}

/** Line breaks in one cell (LF, CRLF and CR each count once), as the file's lines count them. */
export function lineBreaksIn(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) n++;
  }
  return n;
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
