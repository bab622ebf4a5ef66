/**
 * The one cell builder for every CSV the tool writes (SPEC §4): the results, the failed and
 * unknown rows, and `validate --out`. A rule that lives twice drifts: an earlier second copy
 * left `=HYPERLINK(…)` unguarded in an invalid number cell of the results.
 *
 * CSV injection (OWASP "CSV injection"): a spreadsheet runs a cell that starts with
 * `= + - @`, and it trims leading blanks before it looks (` =1+1` runs too), so a cell whose
 * first non-blank character is one of those — or that starts with a tab/CR, which some strip
 * before looking — gets a leading `'`, which Excel and LibreOffice show as "this is text" and
 * SPEC §3a accepts back around numbers and amounts. Blanks are what `\s` matches (space, tab,
 * CR, LF, no-break and other Unicode spaces). The rule:
 * - every cell that came from the input — data cells and header cells, the number and amount
 *   cells included, parsed or not — and every text that came from the API is guarded;
 * - only what the tool produced itself from a parsed value is written as it is: the row
 *   number, the status word, the normalized number, the whole-taka amount, timestamps.
 */

/**
 * A cell that came from outside (the input, the API): guarded against CSV injection when its
 * first non-blank character is `=`, `+`, `-` or `@`, or when it starts with a tab or a CR.
 */
export function textCell(value: string): string {
  // a look at the first character code instead of a regex: this runs for most cells of every
  // line of a million-row report (issue #13); '' gives NaN, matching nothing. Only a cell that
  // starts with a blank takes the look past its blanks.
  const c = value.charCodeAt(0);
  if (c === 61 || c === 43 || c === 45 || c === 64 || c === 9 || c === 13) return `'${value}`;
  if (!isBlank(c)) return value;
  let i = 1;
  while (isBlank(value.charCodeAt(i))) i++;
  const d = value.charCodeAt(i);
  return d === 61 || d === 43 || d === 45 || d === 64 ? `'${value}` : value;
}

/** What `\s` matches, by code: tab to CR, space, and the Unicode spaces. */
function isBlank(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13);
  if (c < 160) return false;
  return (
    c === 160 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/**
 * The input's cells of one record, `width` wide (the header's), every cell guarded. A record
 * with more fields than the header keeps the extra ones joined into the last cell (with the
 * file's delimiter), so nothing of the input is lost; a shorter one is padded with empty cells.
 */
export function inputCells(fields: readonly string[], width: number, delimiter: string): string[] {
  const cells: string[] = []; // packed, unlike new Array(width): the outcome cells are pushed after
  for (let i = 0; i < width; i++) {
    const cell =
      i === width - 1 && fields.length > width ? fields.slice(i).join(delimiter) : (fields[i] ?? '');
    cells.push(textCell(cell));
  }
  return cells;
}

/** What the tool knows of one row, for the columns it adds after the input's (SPEC §4). */
export interface Outcome {
  row: number;
  /** a SPEC §4 status word (or `valid`/`invalid` for `validate --out`) */
  status: string;
  /** normalized `01XXXXXXXXX`, when the number was read */
  number?: string;
  operator?: string;
  /** whole taka, when the amount was read */
  amount?: number;
  reference?: string | null;
  transactionId?: string | null;
  code?: string | null;
  message?: string | null;
  /** ISO 8601 with offset */
  submittedAt?: string;
  completedAt?: string;
}

/*
 * The outcome builders append to `into` when given — the row's input cells, so a line of a
 * million-row report is one array instead of three (issue #13: per-row garbage cost more than
 * formatting) — and return it; without it, a new array of just their cells.
 */

/** The cells of RESULT_COLUMNS (report/columns.ts), in that order, appended to `into`. */
export function outcomeCells(o: Outcome, into: string[] = []): string[] {
  into.push(
    String(o.row),
    o.status,
    o.number ?? '',
    textCell(o.operator ?? ''),
    o.amount === undefined ? '' : String(o.amount),
    textCell(o.reference ?? ''),
    textCell(o.transactionId ?? ''),
    textCell(o.code ?? ''),
    textCell(o.message ?? ''),
    o.submittedAt ?? '',
    o.completedAt ?? '',
  );
  return into;
}

/** The cells of FAILED_EXTRA_COLUMNS after the input's: what to fix, appended to `into`. */
export function failedCells(o: Outcome, into: string[] = []): string[] {
  into.push(textCell(o.code ?? ''), textCell(o.message ?? ''));
  return into;
}

/** The cells of UNKNOWN_EXTRA_COLUMNS after the input's: what to check with the API, appended to `into`. */
export function unknownCells(o: Outcome, into: string[] = []): string[] {
  into.push(
    String(o.row),
    o.number ?? '',
    o.amount === undefined ? '' : String(o.amount),
    textCell(o.reference ?? ''),
    textCell(o.transactionId ?? ''),
    textCell(o.code ?? ''),
    textCell(o.message ?? ''),
    o.submittedAt ?? '',
  );
  return into;
}

/**
 * A header line: the input's column names (guarded, and renamed `input_<name>` when they
 * collide with one of `ours`, SPEC §4), then `ours`.
 */
export function headerCells(inputColumns: readonly string[], ours: readonly string[]): string[] {
  const taken = new Set<string>(ours);
  return [...inputColumns.map((c) => textCell(taken.has(c) ? `input_${c}` : c)), ...ours];
}
