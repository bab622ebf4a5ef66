/**
 * The DUPLICATE_ROW state: normalized number + amount → the line it was first seen on.
 * A Map of a million keys costs ~125 MB and keeps the GC busy; this open-addressing table
 * over typed arrays costs 12 bytes a slot (≤ 24 MB for a million rows) and allocates
 * nothing per row. Exact: the key is the number's 9 digits after `01` and the amount.
 */
export class RowKeyTable {
  #capacity = 1 << 12;
  #size = 0;
  #numbers = new Int32Array(this.#capacity);
  #amounts = new Int32Array(this.#capacity);
  /** 0 marks an empty slot; lines start at 1 */
  #lines = new Int32Array(this.#capacity);
  /** amounts beyond 32 bits (only with an unusual operator list) */
  #large = new Map<string, number>();

  /**
   * The line already holding `number`+`amount`, or undefined after recording `line` for it.
   * `number` is a normalized `01XXXXXXXXX`.
   */
  firstLine(number: string, amount: number, line: number): number | undefined {
    if (amount > 0x7fffffff) {
      const key = `${number}:${amount}`;
      const had = this.#large.get(key);
      if (had === undefined) this.#large.set(key, line);
      return had;
    }
    let digits = 0;
    for (let i = 2; i < 11; i++) digits = digits * 10 + (number.charCodeAt(i) - 48);
    const mask = this.#capacity - 1;
    let slot = hash(digits, amount) & mask;
    for (;;) {
      const at = this.#lines[slot]!;
      if (at === 0) break;
      if (this.#numbers[slot] === digits && this.#amounts[slot] === amount) return at;
      slot = (slot + 1) & mask;
    }
    this.#numbers[slot] = digits;
    this.#amounts[slot] = amount;
    this.#lines[slot] = line;
    if (++this.#size * 2 > this.#capacity) this.#grow();
    return undefined;
  }

  get size(): number {
    return this.#size + this.#large.size;
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
      let slot = hash(numbers[i]!, amounts[i]!) & mask;
      while (this.#lines[slot] !== 0) slot = (slot + 1) & mask;
      this.#numbers[slot] = numbers[i]!;
      this.#amounts[slot] = amounts[i]!;
      this.#lines[slot] = lines[i]!;
    }
  }
}

function hash(a: number, b: number): number {
  let h = Math.imul(a ^ Math.imul(b, 0x27d4eb2d), 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  return h ^ (h >>> 13);
}
