/** Parsing of the human units used by options: durations (`15s`, `2m`) and rates (`60/min`). */
import { BatchError } from '../errors.js';

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A value read, or what is wrong with it and a value that fits (for "write it like …"). */
export type Reading<T> = { ok: true; value: T } | { ok: false; problem: string; example: string };

const UNITS_WORDS = 'ms, s, m, h or d';

/**
 * `250ms`, `15s`, `2m`, `1h`, `7d`, `1.5s` → ms; a number (library callers) is ms. Text must
 * name its unit (0 aside): `--repeat-window 7` read as 7 ms would turn the repeat check off,
 * `--request-timeout 5` would be 5 ms. The example of a bare number gives it its unit in
 * seconds (`5` → `5s`).
 */
export function readDuration(text: string | number): Reading<number> {
  if (typeof text === 'number' && Number.isFinite(text) && text >= 0) return { ok: true, value: text };
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(String(text));
  if (!m) return { ok: false, problem: `is not a duration (a number with ${UNITS_WORDS})`, example: '15s' };
  if (!m[2] && Number(m[1]) !== 0)
    return { ok: false, problem: `has no unit (${UNITS_WORDS})`, example: `${m[1]}s` };
  return { ok: true, value: Math.round(Number(m[1]) * DURATION_UNITS[(m[2] ?? 'ms').toLowerCase()]!) };
}

/** {@link readDuration}, thrown. @throws BatchError USAGE naming `what` and the text */
export function parseDuration(text: string | number, what = 'duration'): number {
  const r = readDuration(text);
  if (r.ok) return r.value;
  throw new BatchError(
    'USAGE',
    `${what} ${JSON.stringify(String(text).trim())} ${r.problem}: write it like ${r.example}`,
  );
}

const UNIT_ORDER: [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/**
 * ms → the shortest exact text `parseDuration` reads back: 15000 → `15s`, 1800000 → `30m`,
 * 604800000 → `7d`, 250 → `250ms`, 0 → `0`. Used to show the defaults (src/defaults.ts) in
 * `--help` and the README's options table.
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  for (const [unit, size] of UNIT_ORDER) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

export interface Rate {
  /** requests allowed per window */
  limit: number;
  /** window length in ms */
  windowMs: number;
}

/** `60/min`, `20/s`, `1000/h`, `120/minute` → requests per window (ms). */
export function readRate(text: string): Reading<Rate> {
  const m = /^\s*(\d+)\s*\/\s*(ms|s|sec|second|m|min|minute|h|hr|hour)\s*$/i.exec(text);
  if (!m || Number(m[1]) <= 0)
    return { ok: false, problem: 'is not a rate (N/s, N/min or N/h)', example: '60/min' };
  const unit = m[2]!.toLowerCase();
  const windowMs =
    unit === 'ms' ? 1 : unit.startsWith('s') ? 1000 : unit.startsWith('h') ? 3_600_000 : 60_000;
  return { ok: true, value: { limit: Number(m[1]), windowMs } };
}

/** {@link readRate}, thrown. @throws BatchError USAGE naming `what` and the text */
export function parseRate(text: string, what = 'rate limit'): Rate {
  const r = readRate(text);
  if (r.ok) return r.value;
  throw new BatchError('USAGE', `${what} ${JSON.stringify(text)} ${r.problem}: write it like ${r.example}`);
}
