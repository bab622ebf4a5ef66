/**
 * The file lines of each CSV record, counted in step with csv-parse, and records handed on in
 * batches (SPEC §3a: errors and verdicts name the line a clerk sees in a text editor).
 */
import { Parser } from 'csv-parse';
import type { TransformCallback } from 'node:stream';

export interface CsvRecord {
  /** 1-based data row; the header is not counted, neither are empty lines */
  row: number;
  /** 1-based file line where the record starts */
  line: number;
  /** file line where it ends: more than `line` when a quoted cell holds line breaks */
  endLine: number;
  fields: string[];
}

/**
 * csv-parse's Parser, tagging each record with the line it starts on as it is parsed and
 * passing records on in batches. Lines are counted here, in step with the parser, so the
 * line named in a parse error is right even though records wait in buffers downstream.
 * (csv-parse's own `info.lines` miscounts a CRLF inside quotes; it is only used to see that
 * a record spans one line, the usual case, without looking into its fields.)
 */
export class LineParser extends Parser {
  readonly #headerLine: number;
  #nextLine = 1;
  #parserLines = 0;
  #row = -1;
  #batch: CsvRecord[] = [];

  constructor(headerLine: number, options: ConstructorParameters<typeof Parser>[0]) {
    // 2 batches read ahead, not 16: ~20,000 parsed records waiting for a consumer that awaits
    // a write per batch (validate --out) doubled its GC (bench/README.md; a stream option, untyped)
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
export function newlinesIn(fields: string[]): number {
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
