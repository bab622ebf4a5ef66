/**
 * Pure normalization of one cell (SPEC §3): mobile numbers, amounts, operators.
 * These run once per row on files of millions of rows: regexes are compiled once, and the
 * plain forms (`01712345678`, `500`) take a fast path.
 */
import type { Operator } from '../api/types.js';
import { showText } from './unicode.js';

const MOBILE = /^01[3-9]\d{8}$/;
const BENGALI_DIGITS = /[\u09E6-\u09EF]/g;
/** spaces (incl. no-break), `-` and the Unicode dashes a word processor substitutes, `.`, `(`, `)` */
const NUMBER_SEPARATORS = /[\s\-\u2010-\u2015.()]/g;

/** Bengali digits ০-৯ → 0-9. */
export function toAsciiDigits(text: string): string {
  return text.replace(BENGALI_DIGITS, (d) => String.fromCharCode(d.charCodeAt(0) - 0x09e6 + 48));
}

/**
 * `+8801712-345678`, `008801712345678`, `8801712345678`, `01712 345678`, `1712345678`
 * (a spreadsheet dropped the 0), with Bengali digits too → `01712345678`; anything else → null.
 * Scientific notation (`8.8017E+12`) is refused: the spreadsheet has already lost digits.
 */
export function normalizeNumber(raw: string): string | null {
  if (raw.length === 11 && MOBILE.test(raw)) return raw;
  let s = toAsciiDigits(raw).replace(NUMBER_SEPARATORS, '');
  if (s.startsWith('+880')) s = s.slice(3);
  else if (s.startsWith('00880')) s = s.slice(4);
  else if (s.length === 13 && s.startsWith('880')) s = s.slice(2);
  else if (s.length === 10 && s[0] === '1') s = `0${s}`;
  return MOBILE.test(s) ? s : null;
}

const PLAIN_AMOUNT = /^[1-9]\d{0,8}$/;
const CURRENCY_PREFIX = /^(?:৳|bdt|tk\.?|taka|টাকা)\s*/i;
const CURRENCY_SUFFIX = /\s*(?:৳|bdt|tk\.?|taka|টাকা)$/i;
/** `1,000,000` or the South-Asian `10,00,000` grouping; a lone `100,5` is a decimal comma, refused. */
const GROUPED = /^(?:\d{1,3}(?:,\d{3})+|\d{1,2}(?:,\d{2})*,\d{3})(?=\.|$)/;
const DECIMAL = /^(\d+)(?:\.(\d+))?$/;
/** `50.000`, `1.000.000`: a dot then exactly three digits is a European thousands separator as often as a decimal point (SPEC §3a) */
const DOT_THOUSANDS = /\.\d{3}(?!\d)/;
/** `1,000`, `12,500`: the mirror of DOT_THOUSANDS, ambiguous where the comma may be the decimal mark */
const COMMA_THOUSANDS = /,\d{3}(?!\d)/;

/**
 * Whether a comma in an amount may be a decimal mark: in a `;`-separated file (Excel saves `;`
 * where the comma is the locale's decimal mark, most of Europe) and in a tab-separated one
 * (Excel's "Text (Tab delimited)" writes numbers in the sheet's locale, so the tab says nothing
 * about it). Only in a `,` file is a comma inside an amount (a quoted cell) surely a thousands mark.
 */
function commaMayBeDecimal(delimiter: string): boolean {
  return delimiter !== ',';
}

/**
 * Whole taka: `500`, ` ৳500 `, `1,000 BDT`, `Tk. 500/-`, `৫০০ টাকা`, `100.00` → the integer;
 * `100.5`, `0`, negatives, text → null; so is the ambiguous `50.000` (SPEC §3a: 50 or 50000?).
 * `delimiter` is the file's (SPEC §3: `,`, `;` or tab; default `,`). In a `;` or tab file the
 * comma may be a decimal mark (commaMayBeDecimal), so the mirror of SPEC §3a's dot rule
 * applies: `1,000`, `12,500`, `1,000,000` → null (1 or 1000?), `100,00` → 100 as `100.00` is,
 * `100,50` → null (never 10050), and a cell with both marks (`1.000,00`) → null. In a `,` file
 * a comma is a thousands mark as SPEC §3 says. Invisible characters and text markers are the
 * caller's (unicode.ts cleanValueCell).
 */
export function normalizeAmount(raw: string, delimiter = ','): number | null {
  if (PLAIN_AMOUNT.test(raw)) return Number(raw);
  let s = toAsciiDigits(raw.trim());
  if (s.endsWith('/-')) s = s.slice(0, -2).trimEnd(); // "500/-": Bangladeshi way of writing an exact sum
  s = s.replace(CURRENCY_PREFIX, '').replace(CURRENCY_SUFFIX, '');
  if (DOT_THOUSANDS.test(s)) return null;
  if (s.includes(',')) {
    if (commaMayBeDecimal(delimiter)) {
      // Which mark is the decimal one cannot be told from one cell: refuse rather than guess.
      if (COMMA_THOUSANDS.test(s) || s.includes('.')) return null;
      s = s.replace(',', '.'); // a second comma stays and fails DECIMAL
    } else {
      const grouped = GROUPED.exec(s);
      if (!grouped) return null;
      s = grouped[0].replace(/,/g, '') + s.slice(grouped[0].length);
    }
  }
  const m = DECIMAL.exec(s);
  if (!m || (m[2] !== undefined && /[1-9]/.test(m[2]))) return null;
  const n = Number(m[1]);
  return n > 0 && Number.isSafeInteger(n) ? n : null;
}

/**
 * Why a number cell was refused, for the row's error message. `cell` is the cleaned cell that
 * was judged; `raw` the cell as written, which the message quotes (invisible characters escaped).
 */
export function explainNumber(cell: string, raw = cell): string {
  const text = cell.trim();
  const shown = clip(raw.trim());
  if (text === '')
    return raw.trim() === ''
      ? 'mobile number is empty'
      : `mobile number "${shown}" holds only invisible characters`;
  if (/^[+-]?\d+(\.\d+)?e[+-]?\d+$/i.test(text)) {
    return `mobile number "${shown}" was turned into scientific notation by a spreadsheet and has lost digits; format the column as text and export again`;
  }
  const digits = toAsciiDigits(text).replace(NUMBER_SEPARATORS, '');
  if (/^01[0-2]\d{8}$/.test(digits))
    return `mobile number "${shown}" has no mobile operator prefix (013 to 019)`;
  return `"${shown}" is not a Bangladeshi mobile number (11 digits like 01712345678, or +8801712345678)`;
}

/**
 * Why an amount cell was refused; `cell` is what was judged, `raw` what the message quotes,
 * `delimiter` the file's (as for normalizeAmount). Each ambiguous form names what to write.
 */
export function explainAmount(cell: string, raw = cell, delimiter = ','): string {
  const text = cell.trim();
  const shown = clip(raw.trim());
  if (text === '')
    return raw.trim() === '' ? 'amount is empty' : `amount "${shown}" holds only invisible characters`;
  const s = toAsciiDigits(text)
    .replace(/\s*\/-$/, '')
    .replace(CURRENCY_PREFIX, '')
    .replace(CURRENCY_SUFFIX, '');
  const decimalComma = commaMayBeDecimal(delimiter);
  if (/^-/.test(s)) return `amount "${shown}" is negative`;
  if (/^[0.,]+$/.test(s)) return `amount "${shown}" is zero`;
  const mixed = bothMarks(s);
  if (mixed !== null) {
    if (/[1-9]/.test(mixed.fraction)) return `amount "${shown}" is not a whole number of taka`;
    return `amount "${shown}" is ambiguous (it has both a dot and a comma): write ${mixed.whole}`;
  }
  if (DOT_THOUSANDS.test(s)) return `amount "${shown}" is ambiguous: write ${instead(s, '.', decimalComma)}`;
  if (decimalComma && COMMA_THOUSANDS.test(s)) {
    const file = delimiter === '\t' ? 'tab-' : `${delimiter}-`;
    return `amount "${shown}" is ambiguous in a ${file}separated file (the comma may be a decimal mark): write ${instead(s, ',', true)}`;
  }
  if (/^\d+\.\d*[1-9]/.test(decimalComma ? s : s.replace(/,/g, '')))
    return `amount "${shown}" is not a whole number of taka`;
  if (/^\d+,\d+$/.test(s))
    return decimalComma
      ? `amount "${shown}" is not a whole number of taka`
      : `amount "${shown}" has a decimal comma; write whole taka such as 100`;
  if (/^\d{1,3}(?: \d{3})+$/.test(s))
    return `amount "${shown}" has spaces between its digits; write ${s.replace(/ /g, '')}`;
  return `amount "${shown}" is not a number of taka`;
}

/**
 * What to write instead of an ambiguous `50.000` / `1,000` (`mark` the ambiguous separator):
 * the thousands reading, also with a thousands comma where a comma is one, and the small
 * reading when the digits after the mark are all zeros (`50.000` may mean 50; `12.500` is no
 * whole number either way).
 */
function instead(s: string, mark: '.' | ',', decimalComma: boolean): string {
  const groups = s.split(mark);
  const last = groups.length - 1;
  // middle groups of two digits: the lakh grouping `1,00,000`
  const fits = (g: string, i: number) =>
    /^\d+$/.test(g) &&
    (i === 0 ? g.length <= 3 : g.length === 3 || (i < last && g.length === 2 && mark === ','));
  if (!groups.every(fits))
    return decimalComma ? 'whole taka without separators, such as 50000' : 'such as 50000 or 50,000';
  const whole = Number(groups.join(''));
  const large = decimalComma ? `${whole}` : `${whole} or ${whole.toLocaleString('en-US')}`;
  const small =
    groups.length === 2 && groups[1] === '000' ? ` (for ${groups[0]} taka, write ${groups[0]})` : '';
  return `${large}${small}`;
}

/**
 * `1.000,00` (European) or `1,000.00` (English) when an amount holds both marks and was refused:
 * the whole part read with the later mark as the decimal one, and the digits after it; else null.
 */
function bothMarks(s: string): { whole: number; fraction: string } | null {
  const m = /^(\d{1,3})([.,])(\d{3}(?:\2\d{3})*)([.,])(\d+)$/.exec(s);
  if (!m || m[2] === m[4]) return null;
  return { whole: Number(m[1]! + m[3]!.replace(/[.,]/g, '')), fraction: m[5]! };
}

/** A cell as a message quotes it: invisible characters escaped (unicode.ts), at most `max` characters. */
export function clip(text: string, max = 40): string {
  const shown = showText(text);
  return shown.length > max ? `${shown.slice(0, max - 1)}…` : shown;
}

// ---- operators -------------------------------------------------------------------------

type Family = 'grameenphone' | 'banglalink' | 'teletalk' | 'airtel' | 'robi';

/** Prefix → operator, SPEC §3. Numbers are portable, so this is only a default. */
const PREFIX_FAMILY: Record<string, Family> = {
  '013': 'grameenphone',
  '017': 'grameenphone',
  '014': 'banglalink',
  '019': 'banglalink',
  '015': 'teletalk',
  '016': 'airtel',
  '018': 'robi',
};
const FAMILY_CODES: Record<Family, string[]> = {
  grameenphone: ['gp'],
  banglalink: ['bl'],
  teletalk: ['tt'],
  airtel: ['at'],
  robi: ['robi', 'rb'],
};

export interface OperatorIndex {
  operators: readonly Operator[];
  /** lowercased id, code or name → operator; null when the key names two operators */
  byKey: Map<string, Operator | null>;
  /** `017` → operator, when the list has one for that prefix */
  byPrefix: Map<string, Operator>;
  familyOf: Map<Operator, Family>;
}

const alnum = (s: string) => s.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');

export function indexOperators(operators: readonly Operator[]): OperatorIndex {
  const byKey = new Map<string, Operator | null>();
  const put = (key: string, op: Operator) => {
    if (key === '') return;
    const had = byKey.get(key);
    byKey.set(key, had === undefined || had === op ? op : null);
  };
  for (const op of operators) {
    for (const v of [String(op.id), op.code, op.name]) {
      put(v.trim().toLowerCase(), op);
      put(alnum(v), op);
    }
  }
  const familyOf = new Map<Operator, Family>();
  const find = (family: Family): Operator | undefined =>
    operators.find((op) => alnum(op.name) === family || FAMILY_CODES[family].includes(alnum(op.code))) ??
    operators.find((op) => alnum(op.name).startsWith(family));
  for (const family of Object.keys(FAMILY_CODES) as Family[]) {
    const op = find(family);
    if (op && !familyOf.has(op)) familyOf.set(op, family);
  }
  const byPrefix = new Map<string, Operator>();
  for (const [prefix, family] of Object.entries(PREFIX_FAMILY)) {
    // Airtel merged into Robi: 016 numbers go to Robi when the list has no Airtel.
    const op = find(family) ?? (family === 'airtel' ? find('robi') : undefined);
    if (op) byPrefix.set(prefix, op);
  }
  return { operators, byKey, byPrefix, familyOf };
}

/** The operator a cell names (id, code or name, any case); undefined: none; null: ambiguous. */
export function lookupOperator(index: OperatorIndex, cell: string): Operator | null | undefined {
  const key = cell.trim().toLowerCase();
  const hit = index.byKey.get(key);
  return hit !== undefined ? hit : index.byKey.get(alnum(key));
}

/**
 * A warning when an explicit operator differs from the one the prefix suggests; Robi and
 * Airtel count as one (the same company), so a 016 number sent to Robi is no surprise.
 */
export function prefixMismatch(index: OperatorIndex, explicit: Operator, number: string): string | undefined {
  const inferred = index.byPrefix.get(number.slice(0, 3));
  if (!inferred || inferred === explicit) return undefined;
  const a = index.familyOf.get(explicit);
  const b = index.familyOf.get(inferred);
  if ((a === 'robi' || a === 'airtel') && (b === 'robi' || b === 'airtel')) return undefined;
  return `operator ${explicit.name} given, but ${number.slice(0, 3)} numbers are ${inferred.name} (fine if the number was ported)`;
}

export function describeOperators(operators: readonly Operator[]): string {
  return operators.map((op) => `${op.name} (${op.code}, id ${op.id})`).join(', ');
}
