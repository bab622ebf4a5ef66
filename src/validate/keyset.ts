/**
 * The state one pass over a file keeps per row, for two rules of SPEC §3:
 * - DUPLICATE_ROW: the same normalized number and amount as an earlier row → that row's line;
 * - the same number with another amount (a warning, the in-file form of SPEC §5a's "same
 *   number with a different amount"): the earliest such row, its line and amount.
 *
 * A Map of a million keys costs ~125 MB and keeps the GC busy; this open-addressing table over
 * typed arrays costs 16 bytes a slot (≤ 32 MB for a million rows) and allocates nothing per
 * row. The slot is chosen by the number alone, so every entry of one number lies in the probe
 * run from its slot to the next empty one: one scan answers both questions. Exact: the key is
 * the number's 9 digits after `01` and the amount.
 */
export class RowKeyTable {
  #capacity = 1 << 12;
  #size = 0;
  #numbers = new Int32Array(this.#capacity);
  #amounts = new Int32Array(this.#capacity);
  /** 0 marks an empty slot; lines start at 1 */
  #lines = new Int32Array(this.#capacity);
  /** the row number, negated when that row was invalid */
  #rows = new Int32Array(this.#capacity);
  /** amounts beyond 32 bits (only with an unusual operator list): number → entries */
  #large = new Map<string, { amount: number; line: number; row: number }[]>();

  /** After {@link see}: the earliest earlier row with the same number and another amount; 0: none. */
  otherRow = 0;
  otherLine = 0;
  otherAmount = 0;
  /** that row was invalid (not sent) */
  otherInvalid = false;

  /**
   * Looks up a row read as `number` (a normalized `01XXXXXXXXX`) and `amount` (whole taka) and
   * records it when no earlier row has both. Also sets `other…` (above).
   * @param invalid the row is invalid for another reason (it is still recorded: fixed and fed
   *   back later, it would pay the number twice)
   * @returns the line of the earlier row with this number and amount, or 0
   */
  see(number: string, amount: number, row: number, line: number, invalid: boolean): number {
    let digits = 0;
    for (let i = 2; i < 11; i++) digits = digits * 10 + (number.charCodeAt(i) - 48);
    this.otherLine = 0;
    let same = 0;
    const mask = this.#capacity - 1;
    let slot = hash(digits) & mask;
    for (;;) {
      const at = this.#lines[slot]!;
      if (at === 0) break;
      if (this.#numbers[slot] === digits) {
        if (this.#amounts[slot] === amount) same = at;
        else if (this.otherLine === 0 || at < this.otherLine) {
          this.#other(this.#rows[slot]!, at, this.#amounts[slot]!);
        }
      }
      slot = (slot + 1) & mask;
    }
    if (this.#large.size > 0) {
      for (const e of this.#large.get(number) ?? []) {
        if (e.amount === amount) same = e.line;
        else if (this.otherLine === 0 || e.line < this.otherLine) this.#other(e.row, e.line, e.amount);
      }
    }
    if (same !== 0) return same;
    const signed = invalid ? -row : row;
    if (amount > 0x7fffffff) {
      const list = this.#large.get(number);
      if (list) list.push({ amount, line, row: signed });
      else this.#large.set(number, [{ amount, line, row: signed }]);
      return 0;
    }
    // `slot` is the empty slot that ended the scan
    this.#numbers[slot] = digits;
    this.#amounts[slot] = amount;
    this.#lines[slot] = line;
    this.#rows[slot] = signed;
    if (++this.#size * 2 > this.#capacity) this.#grow();
    return 0;
  }

  get size(): number {
    let large = 0;
    for (const list of this.#large.values()) large += list.length;
    return this.#size + large;
  }

  #other(signedRow: number, line: number, amount: number): void {
    this.otherRow = Math.abs(signedRow);
    this.otherInvalid = signedRow < 0;
    this.otherLine = line;
    this.otherAmount = amount;
  }

  #grow(): void {
    const [numbers, amounts, lines, rows] = [this.#numbers, this.#amounts, this.#lines, this.#rows];
    this.#capacity *= 2;
    this.#numbers = new Int32Array(this.#capacity);
    this.#amounts = new Int32Array(this.#capacity);
    this.#lines = new Int32Array(this.#capacity);
    this.#rows = new Int32Array(this.#capacity);
    const mask = this.#capacity - 1;
    for (let i = 0; i < lines.length; i++) {
      if (lines[i] === 0) continue;
      let slot = hash(numbers[i]!) & mask;
      while (this.#lines[slot] !== 0) slot = (slot + 1) & mask;
      this.#numbers[slot] = numbers[i]!;
      this.#amounts[slot] = amounts[i]!;
      this.#lines[slot] = lines[i]!;
      this.#rows[slot] = rows[i]!;
    }
  }
}

function hash(a: number): number {
  let h = Math.imul(a, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  return h ^ (h >>> 13);
}
