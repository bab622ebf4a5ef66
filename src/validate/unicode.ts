/**
 * What copy-paste and spreadsheets leave in cells that nobody can see (SPEC §3a "Invisible
 * characters", "Spreadsheet text markers"): the clean-up applied to the number, amount,
 * operator and reference cells and to header and `--map` names, and the escaping that makes
 * a message quote a cell the way it really is.
 *
 * Hot path: these run on every role cell of files of millions of rows, so a cell of plain
 * printable ASCII (the usual case) is returned as it is after one regex test.
 */

const PLAIN = /^[\x20-\x7e]*$/;
/** Unicode format characters (Cf: ZWSP, ZWJ/ZWNJ, LRM/RLM, bidi embeddings and isolates, word joiner, BOM) and the soft hyphen (also Cf, listed for the reader) */
const INVISIBLE = /[\p{Cf}\u00ad]/gu;
/** no-break, figure and narrow no-break spaces: spreadsheets use them as thousands separators and padding */
const NO_BREAK_SPACES = /[\u00a0\u2007\u202f]/g;

/**
 * Removes format characters and soft hyphens, turns no-break spaces into spaces, then applies
 * NFKC (decomposed Bengali is composed, full-width digits become ASCII). Never trims.
 */
export function cleanText(text: string): string {
  if (PLAIN.test(text)) return text;
  return text.replace(INVISIBLE, '').replace(NO_BREAK_SPACES, ' ').normalize('NFKC');
}

/** `=""01712345678""` as Excel's CSV keeps it → the text inside; `="…"` is how sheets keep leading zeros. */
const EQUALS_QUOTED = /^="(.*)"$/s;

/**
 * A number or amount cell, cleaned and without the spreadsheet's text markers: a leading `'`
 * (Excel's "this is text", and the CSV-injection guard of our own output, SPEC §4) and a
 * `="…"` wrapper. Surrounding spaces are trimmed.
 */
export function cleanValueCell(raw: string): string {
  const first = raw.charCodeAt(0);
  // fast path: plain ASCII that starts with neither ' nor =
  if (first !== 39 && first !== 61 && PLAIN.test(raw)) return raw;
  let s = cleanText(raw).trim();
  // our own output guards a `="…"` input cell as `'="…"`: both markers, in that order
  if (s.startsWith("'")) s = s.slice(1).trim();
  const m = EQUALS_QUOTED.exec(s);
  if (m) s = m[1]!.trim();
  return s;
}

/**
 * An operator or reference cell, cleaned and trimmed. A leading `'` is dropped only when it
 * guards a character our own output guards (`= + - @`, right after it or after blanks), so a
 * reference written back by the tool (`'-PAY-1`, `' -PAY-1`) reads as it was; any other `'`
 * stays and makes the reference invalid.
 */
export function cleanKeyCell(raw: string): string {
  let s = cleanText(raw).trim();
  if (s[0] === "'") {
    // the guard also goes before blanks that lead to a formula starter (report/cells.ts textCell)
    const rest = s.slice(1).trimStart();
    if (rest.length > 0 && '=+-@'.includes(rest[0]!)) s = rest;
  }
  return s;
}

/** What a reader cannot see or tell apart: controls, format characters, separators other than the plain space. */
const UNSEEN = /[\p{Cc}\p{Cf}\p{Z}\u00ad]/gu;

/**
 * The cell as a message should quote it: invisible characters written as `\u200b`, line
 * breaks as `\n`/`\r`, a tab as `\t`; the plain space stays. So `"01712\u200b345670"` never
 * reads as a number that looks right (SPEC §3a).
 */
export function showText(text: string): string {
  if (PLAIN.test(text)) return text;
  return text.replace(UNSEEN, (c) => {
    if (c === ' ') return c;
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    const cp = c.codePointAt(0)!;
    return cp > 0xffff ? `\\u{${cp.toString(16)}}` : `\\u${cp.toString(16).padStart(4, '0')}`;
  });
}
