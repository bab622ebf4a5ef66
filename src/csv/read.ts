/**
 * Streaming CSV reader (SPEC §3): sniffs the file (empty, binary, encoding), detects the
 * delimiter from the header line, then streams records through csv-parse with the file line
 * each one starts on. Memory is bounded by one chunk and one record, never the file.
 */
import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { pipeline, Transform, type TransformCallback } from 'node:stream';
import { CsvError, Parser } from 'csv-parse';
import { BatchError } from '../errors.js';

export interface CsvRecord {
  /** 1-based data row; the header is not counted, neither are empty lines */
  row: number;
  /** 1-based file line where the record starts */
  line: number;
  fields: string[];
}

export interface CsvSource {
  path: string;
  /** header cells as written (BOM stripped, trimmed) */
  columns: string[];
  delimiter: ',' | ';' | '\t';
  /** streams the data records; every call re-reads the file from disk */
  records(): AsyncIterable<CsvRecord>;
}

type Encoding = 'utf-8' | 'utf-16le' | 'utf-16be';
type Delimiter = CsvSource['delimiter'];

const CHUNK = 64 * 1024;
/** A quote that is never closed would otherwise swallow the rest of the file into one field. */
const MAX_RECORD_CHARS = 1_000_000;
const SAVE_AS = 'open it in Excel and use Save As → "CSV UTF-8 (Comma delimited)"';

/** A CsvSource that can also hand out records in batches (faster for millions of rows). */
export interface CsvFile extends CsvSource {
  /** the same records as records(), in file order, grouped as they were read */
  batches(): AsyncIterable<CsvRecord[]>;
}

export async function openCsv(path: string): Promise<CsvFile> {
  const head = await readHead(path);
  const encoding = sniff(path, head);
  const delimiter = detectDelimiter(decode(head, encoding));
  let header: CsvRecord | undefined;
  let hasData = false;
  // The header and the first data row are read here, so that a file with no data fails
  // before any output is written.
  for await (const batch of scan(path, encoding, delimiter)) {
    header ??= batch[0];
    if (batch.length > 1 || batch[0] !== header) {
      hasData = true;
      break;
    }
  }
  if (!header) throw new BatchError('FILE_EMPTY', `${path} has no header line (the file holds only empty lines)`, { path });
  if (!hasData) {
    throw new BatchError('FILE_NO_DATA', `${path} has a header line but no data rows`, { path });
  }
  const columns = header.fields.map((c, i) => (i === 0 ? c.replace(/^\uFEFF/, '') : c).trim());
  async function* batches(): AsyncGenerator<CsvRecord[]> {
    for await (const batch of scan(path, encoding, delimiter)) {
      const data = batch[0]!.row === 0 ? batch.slice(1) : batch;
      if (data.length > 0) yield data;
    }
  }
  return {
    path,
    columns,
    delimiter,
    batches,
    async *records() {
      for await (const batch of batches()) yield* batch;
    },
  };
}

/** The first chunk of the file; stat/open problems become FILE_* errors. */
async function readHead(path: string): Promise<Buffer> {
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new BatchError('FILE_UNREADABLE', `${path} is a directory, not a CSV file`, { path });
    if (!st.isFile()) throw new BatchError('FILE_UNREADABLE', `${path} is not a regular file`, { path });
    if (st.size === 0) throw new BatchError('FILE_EMPTY', `${path} is empty (0 bytes)`, { path });
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(Math.min(CHUNK, st.size));
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw fsError(err, path);
  }
}

const MAGIC: [number[], string][] = [
  [[0x50, 0x4b, 0x03, 0x04], 'a zip archive — most likely an Excel workbook (.xlsx) renamed to .csv'],
  [[0x50, 0x4b, 0x05, 0x06], 'an empty zip archive'],
  [[0xd0, 0xcf, 0x11, 0xe0], 'an old Excel workbook (.xls), not a CSV file'],
  [[0x25, 0x50, 0x44, 0x46], 'a PDF document, not a CSV file'],
  [[0x89, 0x50, 0x4e, 0x47], 'a PNG image, not a CSV file'],
  [[0xff, 0xd8, 0xff], 'a JPEG image, not a CSV file'],
  [[0x47, 0x49, 0x46, 0x38], 'a GIF image, not a CSV file'],
  [[0x1f, 0x8b], 'a gzip archive, not a CSV file'],
];

function sniff(path: string, head: Buffer): Encoding {
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  if (head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  for (const [magic, what] of MAGIC) {
    if (magic.every((b, i) => head[i] === b)) {
      throw new BatchError('FILE_BINARY', `${path} is ${what}; ${SAVE_AS}`, { path });
    }
  }
  const nul = head.indexOf(0);
  if (nul !== -1) {
    // UTF-16 without a BOM: ASCII text with a NUL in every other byte.
    const nuls = [0, 0];
    for (let i = 0; i < head.length; i++) if (head[i] === 0) nuls[i % 2]!++;
    const [even, odd] = nuls as [number, number];
    if (Math.max(even, odd) > head.length / 4 && Math.min(even, odd) === 0) {
      throw new BatchError('FILE_ENCODING', `${path} looks like UTF-16 text without a byte-order mark; ${SAVE_AS}`, { path });
    }
    throw binaryError(path, 1 + countNewlines(head.subarray(0, nul)));
  }
  return 'utf-8';
}

function decode(head: Buffer, encoding: Encoding): string {
  return encoding === 'utf-8' ? head.toString('utf8') : new TextDecoder(encoding).decode(head);
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
 * Every non-blank record of the file, the header first (row 0), in batches (one per chunk
 * read, so the async machinery runs per ~1000 records, not per record). A record is blank
 * when all its fields are empty or spaces: an empty line, and also a line of only delimiters
 * (`,,,,`, which spreadsheets leave below the data) — skipped, not counted as a row and not
 * MALFORMED_ROW, since there is nothing in it to recharge.
 */
async function* scan(path: string, encoding: Encoding, delimiter: Delimiter): AsyncGenerator<CsvRecord[]> {
  const parser = new LineParser({
    delimiter,
    bom: true,
    relax_quotes: true,
    relax_column_count: true,
    skip_empty_lines: false, // empty lines are dropped below, after their lines are counted
    max_record_size: MAX_RECORD_CHARS,
  });
  pipeline(createReadStream(path, { highWaterMark: CHUNK }), checkStream(path, encoding), parser, () => {
    // errors reach the consumer through the parser, which pipeline destroys with them
  });
  try {
    for await (const batch of parser) yield batch as CsvRecord[];
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
  #nextLine = 1;
  #parserLines = 0;
  #row = -1;
  #batch: CsvRecord[] = [];

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
    this.#nextLine += lines - this.#parserLines === 1 ? 1 : 1 + newlinesIn(fields);
    this.#parserLines = lines;
    if (!isBlank(fields)) this.#batch.push({ row: ++this.#row, line, fields });
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
  for (const f of fields) {
    for (let i = 0; i < f.length; i++) {
      const c = f.charCodeAt(i);
      if (c === 10 || (c === 13 && f.charCodeAt(i + 1) !== 10)) n++;
    }
  }
  return n;
}

function countNewlines(data: Buffer | string): number {
  let n = 0;
  let i = -1;
  // searching a Buffer for the byte 10 is much faster than for the string '\n'
  if (typeof data === 'string') while ((i = data.indexOf('\n', i + 1)) !== -1) n++;
  else while ((i = data.indexOf(10, i + 1)) !== -1) n++;
  return n;
}

/**
 * Checks every chunk before csv-parse sees it: no NUL bytes, valid UTF-8 (a character cut
 * between two chunks is carried over). UTF-16 is decoded and passed on as UTF-8.
 */
function checkStream(path: string, encoding: Encoding): Transform {
  let lines = 1; // file line at the start of the current chunk
  let carry: Buffer | null = null;
  const decoder = encoding === 'utf-8' ? null : new TextDecoder(encoding);
  const checkText = (text: string) => {
    const nul = text.indexOf('\0');
    if (nul !== -1) throw binaryError(path, lines + countNewlines(text.slice(0, nul)));
    lines += countNewlines(text);
  };
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      try {
        if (decoder) {
          const text = decoder.decode(chunk, { stream: true });
          checkText(text);
          return done(null, Buffer.from(text, 'utf8'));
        }
        const nul = chunk.indexOf(0);
        if (nul !== -1) throw binaryError(path, lines + countNewlines(chunk.subarray(0, nul)));
        const data: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
        const tail = incompleteTail(data);
        const body = tail ? data.subarray(0, data.length - tail) : data;
        if (!isUtf8(body)) {
          const text = body.toString('utf8');
          throw encodingError(path, lines + countNewlines(text.slice(0, text.indexOf('\uFFFD'))));
        }
        carry = tail ? Buffer.from(data.subarray(data.length - tail)) : null;
        lines += countNewlines(chunk);
        done(null, chunk);
      } catch (err) {
        done(err as Error);
      }
    },
    flush(done) {
      if (carry) return done(encodingError(path, lines));
      if (!decoder) return done();
      try {
        const text = decoder.decode();
        checkText(text);
        done(null, text ? Buffer.from(text, 'utf8') : undefined);
      } catch (err) {
        done(err as Error);
      }
    },
  });
}

/** Bytes at the end of `buf` that start a UTF-8 character the chunk does not finish. */
function incompleteTail(buf: Buffer): number {
  for (let i = buf.length - 1; i >= 0 && i >= buf.length - 4; i--) {
    const b = buf[i]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: look further back
    if (b < 0xc0) return 0;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    return buf.length - i < need ? buf.length - i : 0;
  }
  return 0;
}

const binaryError = (path: string, line: number) =>
  new BatchError('FILE_BINARY', `${path} is not a text file (line ${line} holds a NUL byte); ${SAVE_AS}`, { path, line });

const encodingError = (path: string, line: number) =>
  new BatchError('FILE_ENCODING', `${path} is not UTF-8 text (line ${line} holds bytes that are not UTF-8, perhaps a Windows code page); ${SAVE_AS}`, {
    path,
    line,
  });

function readError(err: unknown, path: string, line: number): unknown {
  if (err instanceof BatchError) return err;
  if (!(err instanceof CsvError)) return fsError(err, path);
  const why =
    err.code === 'CSV_QUOTE_NOT_CLOSED'
      ? 'the row starting on this line opens a quote (") that is never closed'
      : err.code === 'CSV_MAX_RECORD_SIZE'
        ? `a row is longer than ${MAX_RECORD_CHARS.toLocaleString('en-US')} characters, most likely a quote (") that is never closed`
        : err.message;
  return new BatchError('CSV_PARSE', `${path}, line ${line}: ${why}`, { path, line, csvCode: err.code }, { cause: err });
}

function fsError(err: unknown, path: string): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const fail = (c: 'FILE_NOT_FOUND' | 'FILE_UNREADABLE', why: string) => new BatchError(c, `${path} ${why}`, { path }, { cause: err });
  if (code === 'ENOENT' || code === 'ENOTDIR') return fail('FILE_NOT_FOUND', 'does not exist');
  if (code === 'EISDIR') return fail('FILE_UNREADABLE', 'is a directory, not a CSV file');
  if (code === 'EACCES' || code === 'EPERM') return fail('FILE_UNREADABLE', 'cannot be read (permission denied)');
  if (code === 'EIO') return fail('FILE_UNREADABLE', 'cannot be read (input/output error)');
  return err;
}
