/**
 * The sandbox's only source of randomness: a small seeded PRNG (mulberry32), so that a run with
 * the same seed and the same sequence of requests draws the same faults and failures.
 */
export type Random = () => number;

/** mulberry32: 32-bit state, uniform floats in [0, 1). */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** True for a `rate` fraction of draws: 0 never, 1 always (a draw is always < 1). */
export function chance(random: Random, rate: number): boolean {
  return random() < rate;
}
