/**
 * Words for people: counts with the right singular or plural, and amounts of money written one
 * way everywhere (SPEC §7: one clear line for a payroll clerk). Every message that counts rows
 * or shows taka goes through here, so no line says `row(s)` or mixes `34850 BDT` with `9,250 BDT`.
 */

/**
 * `count(1, 'row')` → `1 row`, `count(3, 'row')` → `3 rows`, `count(2, 'entry', 'entries')`.
 * Numbers of 1,000 and more are grouped like amounts.
 */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${group(n)} ${n === 1 ? singular : plural}`;
}

/** Just the word: `noun(1, 'row')` → `row`, `noun(0, 'row')` → `rows`. */
export function noun(n: number, singular: string, plural = `${singular}s`): string {
  return n === 1 ? singular : plural;
}

/**
 * An amount of taka: `34,850 BDT`, `9,250 BDT`, `12.50 BDT` (a balance with paisa keeps two
 * decimals; whole taka show none). Thousands are grouped in threes (en-US), the grouping the
 * API's own documentation and the operator list use.
 */
export function bdt(amount: number, currency = 'BDT'): string {
  const whole = Number.isInteger(amount);
  return `${amount.toLocaleString('en-US', whole ? { maximumFractionDigits: 0 } : { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ${currency}`;
}

/** A count without its noun, grouped like amounts: `3000` → `3,000` (SPEC §7: one way everywhere). */
export function group(n: number): string {
  return n.toLocaleString('en-US');
}
