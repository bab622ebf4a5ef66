/**
 * An option's value as given (flag, environment or config file) → the form of its kind, or the
 * line refusing it (src/config/source.ts). Used by src/config.ts.
 */
import { z } from 'zod';
import { BatchError } from '../errors.js';
import type { OptionName, OptionSpec } from './options.js';
import { badValue, readBoolean, shown, writtenAs, type Example, type Source } from './source.js';

/**
 * The values each kind takes, from any source: JSON gives numbers and booleans as such, the
 * environment as text, and a config file may write them either way (one rule for every option,
 * README "Options"; src/config/source.ts).
 */
const boolValue = z.unknown().transform((v, ctx) => {
  const b = readBoolean(v);
  if (b === undefined) ctx.addIssue({ code: 'custom', message: 'not a boolean' });
  return b;
});
const numValue = z.union([
  z.number().finite(),
  z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/)
    .transform(Number),
]);
/** `--map` as a list (`["number=Phone"]`, `number=Phone,amount=Taka`) or, in a config file, an object `{ "number": "Phone" }`. */
const mapValue = z.union([
  z.array(z.string()),
  z.string().transform((s) => s.split(',').map((x) => x.trim())),
  z.record(z.string(), z.string()).transform((o) => Object.entries(o).map(([role, col]) => `${role}=${col}`)),
]);
/** text; a JSON number is its text (a duration's `5` is then refused for its missing unit, as `--poll-every 5` is) */
const textValue = z.union([z.string(), z.number().transform(String)]);

export const MAP_EXAMPLE = {
  flag: '"number=Mobile No"',
  env: '"number=Mobile No"',
  file: '{"number": "Mobile No"}',
};

/** What a value of each kind is, and one that fits, for the message that refuses one. */
function expected(name: OptionName, spec: OptionSpec): [problem: string, example: Example] {
  if (spec.kind === 'number')
    return ['is not a number', typeof spec.default === 'number' ? spec.default : 100];
  if (spec.kind === 'boolean') return ['is not true or false', true];
  if (name === 'map') return ['is not ROLE=Column pairs', MAP_EXAMPLE];
  if (spec.kind === 'duration') return [`is not a duration (a number with ms, s, m, h or d)`, '15s'];
  return ['is not text', 'VALUE'];
}

/** A value as given → the form of its kind. @throws BatchError naming where it came from (src/config/source.ts) */
export function coerce(name: OptionName, spec: OptionSpec, value: unknown, from: Source): unknown {
  if (value === undefined || value === null) return undefined;
  if (spec.kind !== 'array' && from.kind === 'flag') value = oneValue(name, value);
  const schema = {
    boolean: boolValue,
    number: numValue,
    array: mapValue,
    duration: textValue,
    string: textValue,
  }[spec.kind];
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const [problem, example] = expected(name, spec);
  if (value === true && from.kind === 'flag')
    throw new BatchError(
      'CONFIG_INVALID',
      `--${name} needs a value: write it like ${writtenAs(name, from, example)}`,
    );
  throw badValue(name, from, value, problem, example);
}

/**
 * A flag typed more than once (yargs gives an array): the same value twice is that value; two
 * values are not guessed at — yargs would join them, `--concurrency 2 --concurrency 3` read as
 * "2 3" — nor is the last taken (a wrapper script's option and the user's would silently differ).
 * @throws BatchError CONFIG_INVALID (exit 2) `--<name> is given N times ("a", "b"): give it once`
 */
export function oneValue(name: string, value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  if (new Set(value.map((v) => JSON.stringify(v))).size > 1)
    throw new BatchError(
      'CONFIG_INVALID',
      `--${name} is given ${value.length} times (${value.map((v) => shown(v)).join(', ')}): give it once`,
    );
  return value[0] as unknown;
}
