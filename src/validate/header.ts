/** Header matching (SPEC §3): which input column holds the number, amount, operator, reference. */
import { BatchError } from '../errors.js';

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

/** `Amount (BDT)` → `amount`, `Mobile No.` → `mobileno`: lowercase, no (…)/[…] parts, letters and digits only. */
export function normalizeHeader(cell: string): string {
  return cell
    .toLowerCase()
    .replace(/\([^)]*\)|\[[^\]]*\]/g, '')
    .replace(/[^\p{L}\p{N}]/gu, '');
}

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
      throw new BatchError('HEADER_MAP_INVALID', `--map gives the ${role} column twice ("${map[role]}" and "${column}")`, { role });
    }
    map[role] = column;
  }
  return map;
}

/**
 * Column index per role. `--map` names are matched against the header as written
 * (case-insensitive, trimmed) and win over the aliases; a mapped column is not considered
 * for any other role.
 */
export function mapColumns(path: string, columns: readonly string[], map: ColumnMap = {}): Roles {
  const found: Partial<Record<Role, number>> = {};
  const claimed = new Set<number>();
  const list = columns.map((c) => `"${c}"`).join(', ');
  for (const role of ROLES) {
    const want = map[role];
    if (want === undefined) continue;
    const hits = indexesWhere(columns, (c) => c.trim().toLowerCase() === want.trim().toLowerCase());
    if (hits.length === 0) {
      throw new BatchError('HEADER_MISSING_COLUMN', `${path}: --map ${role}="${want}" names no column; the header has ${list}`, {
        path,
        role,
        column: want,
      });
    }
    if (hits.length > 1) {
      throw new BatchError('HEADER_AMBIGUOUS', `${path}: --map ${role}="${want}" matches ${hits.length} columns with that name`, {
        path,
        role,
      });
    }
    found[role] = hits[0]!;
    claimed.add(hits[0]!);
  }
  const normalized = columns.map(normalizeHeader);
  for (const role of ROLES) {
    if (found[role] !== undefined) continue;
    const aliases = HEADER_ALIASES[role];
    const hits = indexesWhere(normalized, (n, i) => !claimed.has(i) && aliases.includes(n));
    if (hits.length > 1) {
      const names = hits.map((i) => `"${columns[i]}"`).join(' and ');
      throw new BatchError(
        'HEADER_AMBIGUOUS',
        `${path}: columns ${names} both look like the ${role === 'number' ? 'mobile number' : role} column; choose one with --map ${role}="<column>"`,
        { path, role, columns: hits.map((i) => columns[i]) },
      );
    }
    if (hits.length === 1) found[role] = hits[0]!;
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
  return { number: found.number!, amount: found.amount!, operator: found.operator ?? null, reference: found.reference ?? null };
}

function indexesWhere(list: readonly string[], pred: (value: string, index: number) => boolean): number[] {
  const out: number[] = [];
  list.forEach((v, i) => {
    if (pred(v, i)) out.push(i);
  });
  return out;
}
