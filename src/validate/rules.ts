/**
 * One data row → a verdict (SPEC §3). Validation returns, it does not throw.
 *
 * Number, amount, operator and reference cells are read after the clean-up of unicode.ts
 * (invisible characters, no-break spaces, NFKC, spreadsheet text markers; SPEC §3a); messages
 * quote the cells as written, invisible characters escaped.
 *
 * When several problems apply, the first in this order is reported:
 *   MALFORMED_ROW → INVALID_NUMBER → INVALID_AMOUNT → UNKNOWN_OPERATOR → AMOUNT_OUT_OF_RANGE
 *   → INVALID_REFERENCE → DUPLICATE_REFERENCE → DUPLICATE_ROW
 * (the range needs the operator, the operator may need the number).
 *
 * Duplicates are judged over every row whose number and amount (or whose reference) could be
 * read, valid or not: if row 5 is invalid for another reason and row 9 repeats it, row 9 is
 * still a duplicate, so fixing row 5 and feeding it back later cannot pay the number twice.
 * The first occurrence is judged on its own. The state kept across rows is a compact table of
 * number+amount keys (keyset.ts) and a Map of the references, never the row text.
 *
 * A row whose number an earlier row has with another amount stays valid and is paid, with a
 * warning naming that row (same-number.ts): the in-file form of SPEC §5a's "same number with a
 * different amount: paid, and listed as a warning". It is judged over the same rows as
 * DUPLICATE_ROW; the first row of such a pair carries no warning (a streaming pass cannot know
 * what follows), and a row that is itself DUPLICATE_ROW gets none (it is not sent).
 */
import type { Operator } from '../api/types.js';
import type { RowErrorCode } from '../errors.js';
import { lineBreaksIn, type CsvRecord } from '../csv/read.js';
import type { Roles } from './header.js';
import { RowKeyTable } from './keyset.js';
import { bdt } from '../util/words.js';
import {
  clip,
  describeOperators,
  explainAmount,
  explainNumber,
  lookupOperator,
  normalizeAmount,
  normalizeNumber,
  prefixMismatch,
  type OperatorIndex,
} from './normalize.js';
import { sameNumberWarning, type SameNumber } from './same-number.js';
import { cleanKeyCell, cleanValueCell } from './unicode.js';

export interface ValidRow {
  /** 01XXXXXXXXX */
  number: string;
  /** whole taka */
  amount: number;
  operatorId: number | string;
  operatorName: string;
  /** the explicit reference from the file, else null (the job engine generates one) */
  reference: string | null;
  /**
   * e.g. an operator that does not match the number's prefix, or the same number on an earlier
   * row with another amount; several are joined with `; `
   */
  warning?: string;
  /** the earliest earlier row with the same number and another amount (its warning is in `warning`) */
  sameNumber?: SameNumber;
}

export type RowVerdict =
  | { row: number; line: number; fields: string[]; ok: true; value: ValidRow }
  | {
      row: number;
      line: number;
      fields: string[];
      ok: false;
      code: RowErrorCode;
      message: string;
      partial: Partial<ValidRow>;
    };

export interface RuleContext {
  /** number of header columns */
  width: number;
  /**
   * how many of the last header columns a record may leave out (its missing cells read as
   * empty): the `error_code, error_message` of a fed-back failed CSV, whose hand-added rows lack
   * them (README "Feeding back"); 0 for any other file, where a short record is MALFORMED_ROW
   */
  optionalTail?: number;
  roles: Roles;
  operators: OperatorIndex;
  allowDuplicates: boolean;
  /**
   * the file's delimiter, to recognise rows swallowed by a stray quote, and to read amounts:
   * in a `;` or tab file a comma may be a decimal mark (normalize.ts normalizeAmount)
   */
  delimiter: string;
}

const REFERENCE = /^[A-Za-z0-9_-]{1,64}$/;

/** A checker keeps the duplicate state of one pass over the file. */
export function createRowChecker(ctx: RuleContext): (rec: CsvRecord) => RowVerdict {
  const { width, roles, operators: index, allowDuplicates } = ctx;
  const shortest = width - (ctx.optionalTail ?? 0);
  const rowKeys = new RowKeyTable();
  const refLines = new Map<string, number>();

  return ({ row, line, endLine, fields }) => {
    if (endLine !== line) {
      const broken = multiLineProblem(line, fields, roles, ctx.delimiter);
      if (broken !== undefined) return invalid(row, line, fields, 'MALFORMED_ROW', broken, {});
    }
    if (fields.length !== width && !(fields.length < width && fields.length >= shortest)) {
      const span = endLine !== line ? ` (the row runs over lines ${line}–${endLine})` : '';
      const message = `${fields.length} field${fields.length === 1 ? '' : 's'} where the header has ${width}${span}; check for a missing or extra delimiter, or an unquoted comma`;
      return invalid(row, line, fields, 'MALFORMED_ROW', message, {});
    }
    const rawNumber = fields[roles.number]!;
    const rawAmount = fields[roles.amount]!;
    // A cell the plain rules accept has nothing to clean (no invisible character or text
    // marker passes them), so the clean-up runs only for the others: most rows skip it.
    let number = normalizeNumber(rawNumber);
    let numberCell = rawNumber;
    if (number === null) {
      numberCell = cleanValueCell(rawNumber);
      if (numberCell !== rawNumber) number = normalizeNumber(numberCell);
    }
    // the delimiter says whether a comma in an amount may be a decimal mark (normalize.ts)
    let amount = normalizeAmount(rawAmount, ctx.delimiter);
    let amountCell = rawAmount;
    if (amount === null) {
      amountCell = cleanValueCell(rawAmount);
      if (amountCell !== rawAmount) amount = normalizeAmount(amountCell, ctx.delimiter);
    }

    let reference: string | null = null;
    let refValid = true;
    let firstRefLine: number | undefined;
    if (roles.reference !== null) {
      const cell = cleanKeyCell(fields[roles.reference]!);
      if (cell !== '') {
        reference = cell;
        refValid = REFERENCE.test(cell);
        if (refValid) {
          firstRefLine = refLines.get(cell);
          if (firstRefLine === undefined) refLines.set(cell, line);
        }
      }
    }
    const opCell = roles.operator === null ? '' : cleanKeyCell(fields[roles.operator]!);
    let operator: Operator | null | undefined;
    let warning: string | undefined;
    if (opCell !== '') {
      operator = lookupOperator(index, opCell);
      if (operator && number !== null) warning = prefixMismatch(index, operator, number);
    } else if (number !== null) {
      operator = index.byPrefix.get(number.slice(0, 3));
    }

    let code: RowErrorCode | undefined;
    let message = '';
    if (number === null) {
      code = 'INVALID_NUMBER';
      const label = rawNumber.trim() === '' ? totalsLabel(fields) : undefined;
      message = label
        ? `this looks like a totals row ("${label}"), not a payment: it is never sent — delete it from the file, or leave it`
        : explainNumber(numberCell, rawNumber);
    } else if (amount === null) {
      code = 'INVALID_AMOUNT';
      message = explainAmount(amountCell, rawAmount, ctx.delimiter);
    } else if (!operator) {
      code = 'UNKNOWN_OPERATOR';
      message =
        opCell === ''
          ? `no operator in the list serves ${number.slice(0, 3)} numbers; add an Operator column`
          : `operator "${clip(opCell)}" ${operator === null ? 'matches more than one operator' : 'is not in the operator list'}; known: ${describeOperators(index.operators)}`;
    } else if (amount < operator.min_amount || amount > operator.max_amount) {
      code = 'AMOUNT_OUT_OF_RANGE';
      message = `amount ${bdt(amount)} is outside ${operator.name}'s range of ${Number(operator.min_amount).toLocaleString('en-US')}–${bdt(Number(operator.max_amount))}`;
    } else if (!refValid) {
      code = 'INVALID_REFERENCE';
      message = `reference "${clip(reference!)}" may only hold letters, digits, _ and - (at most 64), or be left empty`;
    } else if (firstRefLine !== undefined) {
      code = 'DUPLICATE_REFERENCE';
      message = `reference "${reference}" is already used on line ${firstRefLine}`;
    }
    let sameNumber: SameNumber | undefined;
    if (number !== null && amount !== null) {
      const firstRowLine = rowKeys.see(number, amount, row, line, code !== undefined);
      if (code === undefined && firstRowLine !== 0 && !allowDuplicates) {
        code = 'DUPLICATE_ROW';
        message = `${number} with ${bdt(amount)} is a repeat of line ${firstRowLine}; use --allow-duplicates if both are meant`;
      } else if (rowKeys.otherLine !== 0) {
        const { otherRow, otherLine, otherAmount, otherInvalid } = rowKeys;
        sameNumber = { row: otherRow, line: otherLine, amount: otherAmount, invalid: otherInvalid };
        const note = sameNumberWarning(number, amount, sameNumber, code === undefined);
        warning = warning === undefined ? note : `${warning}; ${note}`;
      }
    }

    if (code === undefined) {
      const value: ValidRow = {
        number: number!,
        amount: amount!,
        operatorId: operator!.id,
        operatorName: operator!.name,
        reference,
      };
      if (warning !== undefined) value.warning = warning;
      if (sameNumber !== undefined) value.sameNumber = sameNumber;
      return { row, line, fields, ok: true, value };
    }
    // Whatever was read still goes to the report columns.
    const partial: Partial<ValidRow> = {};
    if (number !== null) partial.number = number;
    if (amount !== null) partial.amount = amount;
    if (operator) {
      partial.operatorId = operator.id;
      partial.operatorName = operator.name;
    }
    if (reference !== null && refValid) partial.reference = reference;
    if (warning !== undefined) partial.warning = warning;
    if (sameNumber !== undefined) partial.sameNumber = sameNumber;
    return invalid(row, line, fields, code, message, partial);
  };
}

const ROLE_NAMES = {
  number: 'mobile number',
  amount: 'amount',
  operator: 'operator',
  reference: 'reference',
} as const;

/**
 * SPEC §3a "A quote that swallows rows is an error, not a long cell": a cell with line breaks
 * in a role column, or one that holds the delimiter and something that reads as a mobile
 * number (the rows a stray quote took in), makes the row MALFORMED_ROW; the message names the
 * lines where the quote opens and closes, so every line it took is accounted for. A quoted
 * address or name over two lines stays a long cell.
 */
function multiLineProblem(
  line: number,
  fields: string[],
  roles: Roles,
  delimiter: string,
): string | undefined {
  let at = line; // the line the current cell starts on
  for (let i = 0; i < fields.length; i++) {
    const cell = fields[i]!;
    const breaks = lineBreaksIn(cell);
    if (breaks === 0) continue;
    const role =
      i === roles.number
        ? 'number'
        : i === roles.amount
          ? 'amount'
          : i === roles.operator
            ? 'operator'
            : i === roles.reference
              ? 'reference'
              : null;
    const lines = `a quote (") opens on line ${at} and closes only on line ${at + breaks}`;
    if (role !== null) {
      return `the ${ROLE_NAMES[role]} cell "${clip(cell)}" spans lines ${at}–${at + breaks}: ${lines}; a ${ROLE_NAMES[role]} must be on one line — remove the stray quote or the line breaks`;
    }
    if (cell.includes(delimiter) && holdsMobileNumber(cell, delimiter)) {
      return `${lines}, so lines ${at}–${at + breaks} were read as one cell ("${clip(cell)}") and the rows on them were not checked; remove the stray quote (or close it on line ${at}) and validate again`;
    }
    at += breaks;
  }
  return undefined;
}

function holdsMobileNumber(cell: string, delimiter: string): boolean {
  for (const lineText of cell.split(/\r\n|\n|\r/)) {
    for (const piece of lineText.split(delimiter)) {
      if (normalizeNumber(cleanValueCell(piece)) !== null) return true;
    }
  }
  return false;
}

function invalid(
  row: number,
  line: number,
  fields: string[],
  code: RowErrorCode,
  message: string,
  partial: Partial<ValidRow>,
): RowVerdict {
  return { row, line, fields, ok: false, code, message: `line ${line}: ${message}`, partial };
}

/** A cell that names a spreadsheet's totals row ("Total", "Grand total", "Sum", Bengali "মোট"). */
const TOTALS = /^(grand\s*|sub\s*)?totals?\b|^sum\b|^মোট/i;

/** The totals word of a row whose number cell is empty, if one of its cells holds one. */
function totalsLabel(fields: string[]): string | undefined {
  return fields.map((f) => f.trim()).find((f) => f.length <= 40 && TOTALS.test(f));
}
