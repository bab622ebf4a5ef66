/**
 * Where a CSV's header line is and which delimiter it uses (SPEC §3a), read from the first
 * chunk of the file: an Excel `sep=X` line, title or blank lines above the header, a header
 * cell holding a line break. The reader (read.ts) then streams from that line.
 */
import { parse as parseSync } from 'csv-parse/sync';
import { BatchError } from '../errors.js';
import { looksLikeHeader, type ColumnMap } from '../validate/header.js';
import { ANY_LINE_ENDING } from './encoding.js';
import { newlinesIn } from './line-parser.js';

export type Delimiter = ',' | ';' | '\t';

/** SPEC §3a: the header is the first of the first 10 lines where a number and an amount column can be found. */
const HEADER_SEARCH_LINES = 10;

/**
 * Where the header is (SPEC §3a) in the first chunk of the file: an Excel `sep=X` first line
 * sets the delimiter and is skipped; then the first record starting in the next 10 lines in
 * which a number and an amount column can be found. Records, not lines: Excel lets a
 * header cell hold a line break (`"Mobile⏎Number"`). When no record qualifies, the first
 * non-blank line is taken, and the header check says what is missing in it. `line` is 1-based;
 * `sepLine` tells that a `sep=` line set the delimiter (the failed CSV keeps it, report/results.ts).
 * @throws BatchError CSV_PARSE when a `sep=` line names a delimiter other than , ; or tab, or
 *   one other than the header's (refuseSepMismatch)
 */
export function locateHeader(
  path: string,
  text: string,
  map: ColumnMap | undefined,
): { line: number; delimiter: Delimiter; sepLine: boolean } {
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
  const sepFirst = sep !== undefined;
  if (best) return { line: best.line, delimiter: best.delimiter, sepLine: sepFirst };
  const lines = body.split(/\r\n|\n|\r/, to);
  const filled = lines.findIndex((l, i) => i + 1 >= from && l.trim() !== '');
  if (sep) refuseSepMismatch(path, body, sep, to, map, filled === -1 ? null : lines[filled]!);
  return filled === -1
    ? { line: from, delimiter: sep ?? detectDelimiter(body), sepLine: sepFirst }
    : { line: filled + 1, delimiter: sep ?? detectDelimiter(lines[filled]!), sepLine: sepFirst };
}

const shown = (d: Delimiter): string => (d === '\t' ? 'tab' : `'${d}'`);

/**
 * A `sep=X` line over a file whose header is written with another delimiter (an Excel file
 * re-saved by another program, or a `sep=` line pasted above the wrong file): the header check
 * would only say that no number or amount column was found, naming a header that is one long
 * cell. The header is there, under the other delimiter, or the first filled line holds that
 * delimiter and never X: then the `sep=` line is what is wrong, and the message says so.
 * @throws BatchError CSV_PARSE naming line 1, the `sep=` delimiter and the header's
 */
function refuseSepMismatch(
  path: string,
  body: string,
  sep: Delimiter,
  to: number,
  map: ColumnMap | undefined,
  firstFilled: string | null,
): void {
  const others = ([',', ';', '\t'] as const).filter((d) => d !== sep);
  let used = others.find((d) =>
    headRecords(body, d, to).some(({ line, fields }) => line >= 2 && looksLikeHeader(fields, map)),
  );
  if (!used && firstFilled !== null && !firstFilled.includes(sep)) {
    const d = detectDelimiter(firstFilled);
    if (d !== sep && firstFilled.includes(d)) used = d;
  }
  if (!used) return;
  throw new BatchError(
    'CSV_PARSE',
    `${path}, line 1: "sep=${sep === '\t' ? '\\t' : sep}" says the separator is ${shown(sep)}, but the header uses ${shown(used)}; ` +
      `delete that first line, or save the file again with ${shown(sep)} between cells`,
    { path, line: 1 },
  );
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
