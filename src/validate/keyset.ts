/**
 * The state one pass over a file keeps per row, for two rules of SPEC §3:
 * - DUPLICATE_ROW: the same normalized number and amount as an earlier row → that row's line;
 * - the same number with another amount (a warning, the in-file form of SPEC §5a's "same
 *   number with a different amount"): the earliest such row, its line and amount.
 *
 * A Map of a million keys costs ~125 MB and keeps the GC busy; this open-addressing table over
 * typed arrays costs 12 bytes a slot (≤ 24 MB for a million rows) and allocates nothing per
 * row. The slot is chosen by the number alone, so every entry of one number lies in the probe
 * run from its slot to the next empty one: one scan answers both questions. Exact: the key is
 * the number's 9 digits after `01` and the amount. A row's number is not stored per slot but
 * worked out from its line: `line - row` only changes at a blank line or a cell over several
 * lines, so the table keeps just the lines where it changes.
 */
export class RowKeyTable {
  #capacity = 1 << 12;
  #size = 0;
  #numbers = new Int32Array(this.#capacity);
  #amounts = new Int32Array(this.#capacity);
  /** 0 marks an empty slot; lines start at 1; negated when that row was invalid */
  #lines = new Int32Array(this.#capacity);
  /** where `line - row` changes, in file order: the line, and the new difference */
  #shiftLines = new Int32Array(16);
  #shifts = new Int32Array(16);
  #shiftCount = 0;
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
    let otherAt = 0;
    let same = 0;
    const mask = this.#capacity - 1;
    let slot = hash(digits) & mask;
    for (;;) {
      const signed = this.#lines[slot]!;
      if (signed === 0) break;
      if (this.#numbers[slot] === digits) {
        const at = Math.abs(signed);
        if (this.#amounts[slot] === amount) same = at;
        else if (this.otherLine === 0 || at < this.otherLine) {
          this.otherLine = at;
          otherAt = slot;
        }
      }
      slot = (slot + 1) & mask;
    }
    if (this.otherLine !== 0) {
      const signed = this.#lines[otherAt]!;
      const row = this.#rowOf(this.otherLine);
      this.#other(signed < 0 ? -row : row, this.otherLine, this.#amounts[otherAt]!);
    }
    if (this.#large.size > 0) {
      for (const e of this.#large.get(number) ?? []) {
        if (e.amount === amount) same = e.line;
        else if (this.otherLine === 0 || e.line < this.otherLine) this.#other(e.row, e.line, e.amount);
      }
    }
    if (same !== 0) return same;
    if (amount > 0x7fffffff) {
      const list = this.#large.get(number);
      const entry = { amount, line, row: invalid ? -row : row };
      if (list) list.push(entry);
      else this.#large.set(number, [entry]);
      return 0;
    }
    this.#noteRow(row, line);
    // `slot` is the empty slot that ended the scan
    this.#numbers[slot] = digits;
    this.#amounts[slot] = amount;
    this.#lines[slot] = invalid ? -line : line;
    if (++this.#size * 2 > this.#capacity) this.#grow();
    return 0;
  }

  /** Records `line - row` where it changes (rows come in file order). */
  #noteRow(row: number, line: number): void {
    const shift = line - row;
    const n = this.#shiftCount;
    if (n > 0 && this.#shifts[n - 1] === shift) return;
    if (n === this.#shifts.length) {
      const [lines, shifts] = [new Int32Array(n * 2), new Int32Array(n * 2)];
      lines.set(this.#shiftLines);
      shifts.set(this.#shifts);
      [this.#shiftLines, this.#shifts] = [lines, shifts];
    }
    this.#shiftLines[n] = line;
    this.#shifts[n] = shift;
    this.#shiftCount = n + 1;
  }

  /** The row recorded on `line`: the last change of `line - row` at or before it. */
  #rowOf(line: number): number {
    let [lo, hi] = [0, this.#shiftCount - 1];
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#shiftLines[mid]! <= line) lo = mid;
      else hi = mid - 1;
    }
    return line - this.#shifts[lo]!;
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
    const [numbers, amounts, lines] = [this.#numbers, this.#amounts, this.#lines];
    this.#capacity *= 2;
    this.#numbers = new Int32Array(this.#capacity);
    this.#amounts = new Int32Array(this.#capacity);
    this.#lines = new Int32Array(this.#capacity);
    const mask = this.#capacity - 1;
    for (let i = 0; i < lines.length; i++) {
      if (lines[i] === 0) continue;
      let slot = hash(numbers[i]!) & mask;
      while (this.#lines[slot] !== 0) slot = (slot + 1) & mask;
      this.#numbers[slot] = numbers[i]!;
      this.#amounts[slot] = amounts[i]!;
      this.#lines[slot] = lines[i]!;
    }
  }
}

function hash(a: number): number {
  let h = Math.imul(a, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  return h ^ (h >>> 13);
}
