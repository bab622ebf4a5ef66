/**
 * Header matching (SPEC §3, §3a): which input column holds the number, amount, operator,
 * reference; whether a line is the header at all; and the refusal of our own results and unknown CSVs.
 */
import { BatchError } from '../errors.js';
import { cleanText, showText } from './unicode.js';

export type Role = 'number' | 'amount' | 'operator' | 'reference';
export type ColumnMap = Partial<Record<Role, string>>;
export interface Roles {
  number: number;
  amount: number;
  operator: number | null;
  reference: number | null;
}

const ROLES: readonly Role[] = ['number', 'amount', 'operator', 'reference'];

/** Normalized header names per role, from SPEC §3. */
export const HEADER_ALIASES: Record<Role, readonly string[]> = {
  number: ['mobilenumber', 'mobile', 'mobileno', 'msisdn', 'phone', 'phonenumber', 'phoneno', 'number'],
  amount: ['amount', 'amountbdt', 'taka', 'tk', 'value', 'rechargeamount', 'topupamount'],
  operator: ['operator', 'operatorid', 'operatorcode', 'operatorname', 'telco'],
  reference: ['reference', 'ref', 'referenceid', 'referenceno', 'refid'],
};

const EXAMPLES = {
  number: 'mobile number column (such as "Mobile Number", "Phone" or "MSISDN")',
  amount: 'amount column (such as "Amount", "Amount (BDT)" or "Taka")',
};

/**
 * `Amount (BDT)` → `amount`, `Mobile No.` → `mobileno`: invisible characters removed and NFKC
 * (SPEC §3a), lowercase, no (…)/[…] parts, letters and digits only.
 */
export function normalizeHeader(cell: string): string {
  return cleanText(cell)
    .toLowerCase()
    .replace(/\([^)]*\)|\[[^\]]*\]/g, '')
    .replace(/[^\p{L}\p{N}]/gu, '');
}

/**
 * A header or `--map` name as the user means it: invisible characters removed, no-break
 * spaces as spaces, NFKC (decomposed Bengali = composed), runs of spaces as one, trimmed,
 * lowercase (SPEC §3a).
 */
export function headerKey(name: string): string {
  return cleanText(name).replace(/\s+/g, ' ').trim().toLowerCase();
}

/**
 * `Allowance (Tk)`, `Salary (৳)`, `Bonus [BDT]`: a column whose (…)/[…] part is a taka unit
 * holds an amount whatever its name (issue: an amount header with its unit in parentheses).
 * Only used when no column has an amount name, so an `Amount` column always wins.
 */
const UNIT_PART = /[([]\s*(?:৳|tk\.?|taka|bdt|টাকা)\s*[)\]]/iu;

/** `--map number=Mobile No` (repeatable) → `{ number: 'Mobile No' }`. */
export function parseMapOption(values: string[] | undefined): ColumnMap {
  const map: ColumnMap = {};
  for (const value of values ?? []) {
    const eq = value.indexOf('=');
    const role = (eq === -1 ? '' : value.slice(0, eq).trim().toLowerCase()) as Role;
    const column = eq === -1 ? '' : value.slice(eq + 1).trim();
    if (!ROLES.includes(role) || column === '') {
      throw new BatchError(
        'HEADER_MAP_INVALID',
        `--map "${value}" is not understood: use ROLE=Column, where ROLE is one of ${ROLES.join(', ')} (e.g. --map "number=Mobile No")`,
        { value },
      );
    }
    if (map[role] !== undefined) {
      throw new BatchError(
        'HEADER_MAP_INVALID',
        `--map gives the ${role} column twice ("${map[role]}" and "${column}")`,
        { role },
      );
    }
    map[role] = column;
  }
  return map;
}

/**
 * Column index per role. `--map` names are matched against the header after the clean-up of
 * headerKey (so a name typed as it looks matches a header holding a no-break space or
 * decomposed Bengali) and win over the aliases; a mapped column is not considered for any
 * other role. Throws HEADER_MISSING_COLUMN, HEADER_AMBIGUOUS, or FILE_IS_OUTPUT for a
 * results or unknown CSV of this tool (SPEC §3a).
 */
export function mapColumns(path: string, columns: readonly string[], map: ColumnMap = {}): Roles {
  refuseOwnOutput(path, columns);
  const list = columns.map((c) => `"${showText(c)}"`).join(', ');
  const {
    found,
    mapMissing,
    ambiguous: [ambiguous],
  } = matchRoles(columns, map);
  if (mapMissing) {
    const want = map[mapMissing]!;
    throw new BatchError(
      'HEADER_MISSING_COLUMN',
      `${path}: --map ${mapMissing}="${want}" names no column; the header has ${list}`,
      {
        path,
        role: mapMissing,
        column: want,
      },
    );
  }
  if (ambiguous) {
    const { role, hits, mapped } = ambiguous;
    if (mapped) {
      throw new BatchError(
        'HEADER_AMBIGUOUS',
        `${path}: --map ${role}="${map[role]}" matches ${hits.length} columns with that name`,
        { path, role },
      );
    }
    const names = hits.map((i) => `"${showText(columns[i]!)}"`).join(' and ');
    throw new BatchError(
      'HEADER_AMBIGUOUS',
      `${path}: columns ${names} both look like the ${role === 'number' ? 'mobile number' : role} column; choose one with --map ${role}="<column>"`,
      { path, role, columns: hits.map((i) => columns[i]) },
    );
  }
  const missing = (['number', 'amount'] as const).filter((r) => found[r] === undefined);
  if (missing.length > 0) {
    const what = missing.map((r) => EXAMPLES[r]).join(' and no ');
    throw new BatchError(
      'HEADER_MISSING_COLUMN',
      `${path}: no ${what} in the header ${list}; name it with --map ${missing[0]}="<column>"`,
      { path, missing, columns: [...columns] },
    );
  }
  return {
    number: found.number!,
    amount: found.amount!,
    operator: found.operator ?? null,
    reference: found.reference ?? null,
  };
}

/** SPEC §3a "Where the header is": a line in which a number and an amount column can be found (with `--map` too). */
export function looksLikeHeader(cells: readonly string[], map: ColumnMap = {}): boolean {
  const { found, ambiguous } = matchRoles(cells, map);
  // two candidate columns still make a header: mapColumns then asks which one is meant
  const has = (role: Role) => found[role] !== undefined || ambiguous.some((a) => a.role === role);
  return has('number') && has('amount');
}

interface RoleMatch {
  found: Partial<Record<Role, number>>;
  /** a --map name that names no column */
  mapMissing?: Role;
  /** the roles that several columns claim, in role order */
  ambiguous: { role: Role; hits: number[]; mapped: boolean }[];
}

function matchRoles(columns: readonly string[], map: ColumnMap): RoleMatch {
  const result: RoleMatch = { found: {}, ambiguous: [] };
  const { found } = result;
  const claimed = new Set<number>();
  const keys = columns.map(headerKey);
  for (const role of ROLES) {
    const want = map[role];
    if (want === undefined) continue;
    const key = headerKey(want);
    const hits = indexesWhere(keys, (c) => c === key);
    if (hits.length === 0) result.mapMissing ??= role;
    else if (hits.length > 1) result.ambiguous.push({ role, hits, mapped: true });
    else {
      found[role] = hits[0]!;
      claimed.add(hits[0]!);
    }
  }
  const normalized = columns.map(normalizeHeader);
  for (const role of ROLES) {
    if (found[role] !== undefined || map[role] !== undefined) continue;
    const aliases = HEADER_ALIASES[role];
    let hits = indexesWhere(normalized, (n, i) => !claimed.has(i) && aliases.includes(n));
    if (hits.length === 0 && role === 'amount') {
      // a column named for what it pays, with the unit in parentheses: `Allowance (Tk)`
      hits = indexesWhere(
        columns,
        (c, i) =>
          !claimed.has(i) &&
          normalized[i] !== '' &&
          UNIT_PART.test(cleanText(c)) &&
          !isOtherRole(normalized[i]!),
      );
    }
    if (hits.length > 1) result.ambiguous.push({ role, hits, mapped: false });
    else if (hits.length === 1) {
      found[role] = hits[0]!;
      claimed.add(hits[0]!);
    }
  }
  return result;
}

const isOtherRole = (n: string) => ROLES.some((r) => HEADER_ALIASES[r].includes(n));

/**
 * The tool's own outputs, named by their kind (SPEC §4): the results CSV (and the `validate
 * --out` report) carries `status` and `transaction_id` next to `normalized_number`; the unknown
 * CSV `transaction_id` and `normalized_number` without `status`. Fed back, every row of a
 * results CSV would be paid again, and an unknown row may already have been paid. (The failed
 * CSV, which is meant to be fed back, has only `error_code`/`error_message`.)
 */
function refuseOwnOutput(path: string, columns: readonly string[]): void {
  const names = new Set(columns.map(headerKey));
  if (!names.has('transaction_id') || !(names.has('status') || names.has('normalized_number'))) return;
  const message = names.has('status')
    ? `${path} is a results CSV written by recharge-batch (it has the status and transaction_id columns), not a list to pay; to send the failed rows again, fix and feed back the matching .failed.csv`
    : `${path} is an unknown CSV written by recharge-batch (rows whose outcome was never learned: they may have been paid), not a list to pay; check each row with Alsamiflexi first, then pay the ones it never received from a new CSV with --allow-repeat`;
  throw new BatchError('FILE_IS_OUTPUT', message, { path });
}

function indexesWhere(list: readonly string[], pred: (value: string, index: number) => boolean): number[] {
  const out: number[] = [];
  list.forEach((v, i) => {
    if (pred(v, i)) out.push(i);
  });
  return out;
}
