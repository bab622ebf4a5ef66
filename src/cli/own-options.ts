/**
 * A command's own options (`watch --settle`, `retry --include-unknown`, `sandbox --port` …) in
 * a `--config` file, and the messages that refuse one of their values (SPEC §2: every option
 * can be set in the config file; README "Options"). The shared options are resolved in
 * src/config.ts; these are declared in each command's yargs builder, so they are read from
 * there: one list, no second copy to forget.
 */
import yargs, { type Argv } from 'yargs';
import { Parser } from 'yargs/helpers';
import { BatchError } from '../errors.js';
import { OPTION_NAMES, configFileOf } from '../config.js';
import { readConfigFile } from '../config/file.js';
import { oneValue } from '../config/kinds.js';
import { badValue, readBoolean, type ConfigFile, type Example, type Source } from '../config/source.js';
import { readDuration, readRate, type Rate } from '../util/units.js';

/** What yargs knows of a builder's options (its own `getOptions()`, missing from its types). */
interface YargsOptions {
  key: Record<string, unknown>;
  hiddenOptions: string[];
  boolean: string[];
  string: string[];
  array: string[];
  choices: Record<string, unknown[]>;
}

export function yargsOptions(b: Argv): YargsOptions {
  return (b as unknown as { getOptions(): YargsOptions }).getOptions();
}

/**
 * The options a builder declares for its command alone: not its positionals, not hidden ones,
 * and not one named like a shared option (`sandbox --rate-limit` is the simulated API's limit:
 * a config file's `rate-limit`, meant for the client, must not change it — README "Sandbox").
 */
export function ownOptionNames(b: Argv, form: string): string[] {
  const { key, hiddenOptions } = yargsOptions(b);
  const positionals = [...form.matchAll(/<(\w+)>/g)].map((m) => m[1]!);
  return Object.keys(key).filter(
    (k) =>
      !['help', 'version', ...positionals].includes(k) &&
      !hiddenOptions.includes(k) &&
      !(OPTION_NAMES as readonly string[]).includes(k),
  );
}

/** Every command's own options: the keys a config file may hold besides the shared ones. */
export function allOwnOptionNames(
  commands: readonly { command: string; builder?: (y: Argv) => Argv<unknown> }[],
): string[] {
  const names = new Set<string>();
  for (const c of commands)
    if (c.builder) for (const n of ownOptionNames(c.builder(yargs([])), c.command)) names.add(n);
  return [...names];
}

/** The own options whose value came from the config file (not the command line): name → file. */
const fromFile = new Map<string, ConfigFile>();

/** Where an own option's value came from: the config file, or the command line (they have no variable). */
export function ownSource(name: string): Source {
  const file = fromFile.get(name);
  return file === undefined ? { kind: 'flag' } : { kind: 'file', file };
}

/**
 * The `--config` file's values for the command's own options that its command line does not
 * give (flag > config file > default, as for the shared options). A file that cannot be read is
 * left to src/config.ts, which reports it once, naming the file. A value is taken as JSON gives
 * it or as text in the words an environment variable would hold (`"once": "true"`, `"port":
 * "8081"`: one rule for every option, README "Options"); a value of the wrong kind or not one of
 * the choices is refused with the same line as a shared option's (src/config/source.ts), never
 * quoting it: returned as `refused`, for the command to throw when it runs (so `--help` still answers).
 * @param args the command line; @param own the command's own option names
 */
export function ownFromConfig(
  b: Argv,
  args: string[],
  own: readonly string[],
  fileKeys: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): { values: Record<string, unknown>; refused?: BatchError } {
  const line = Parser(args, { string: ['config'], configuration: { 'parse-numbers': false } });
  const given = configFileOf({ config: line.config as unknown }, env);
  if (!given) return { values: {} };
  let file: Record<string, unknown>;
  try {
    file = readConfigFile(given, fileKeys);
  } catch {
    return { values: {} };
  }
  const kinds = yargsOptions(b);
  const camel = (n: string) => n.replace(/-([a-z])/g, (_, ch: string) => ch.toUpperCase());
  const picked: Record<string, unknown> = {};
  const from: Source = { kind: 'file', file: given };
  for (const name of own) {
    if (!Object.hasOwn(file, name) || file[name] === null) continue;
    if (line[name] !== undefined || line[camel(name)] !== undefined) continue;
    let value = file[name];
    const bad = (problem: string, example: Example) => ({
      values: picked,
      refused: badValue(name, from, value, problem, example),
    });
    const choices = kinds.choices[name];
    if (kinds.boolean.includes(name)) {
      value = readBoolean(value);
      if (value === undefined) return bad('is not true or false', true);
    } else if (kinds.array.includes(name)) {
      if (typeof value === 'string') value = [value];
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
        return bad('is not a list', { flag: '', env: '', file: `[${JSON.stringify(choices?.[0] ?? '…')}]` });
    } else if (kinds.string.includes(name) || choices) {
      if (typeof value === 'number') value = String(value);
      if (typeof value !== 'string') return bad('is not text', String(choices?.[0] ?? '…'));
    }
    if (choices && ![value].flat().every((v) => choices.includes(v))) {
      const first = JSON.stringify(String(choices[0]));
      const example = Array.isArray(value) ? { flag: '', env: '', file: `[${first}]` } : String(choices[0]);
      return bad(`is not one of ${choices.join(', ')}`, example);
    }
    picked[name] = value;
    fromFile.set(name, given);
  }
  return { values: picked };
}

/** The allowed values of a numeric own option, for its check and its message. */
export interface NumberRange {
  min: number;
  max?: number;
  integer?: boolean;
  /** a value that fits, for "write it like --port 8080" */
  example: number;
}

function rangeWords(r: NumberRange): string {
  const what = r.integer ? 'a whole number' : 'a number';
  return r.max === undefined ? `${what} ≥ ${r.min}` : `${what} from ${r.min} to ${r.max}`;
}

/**
 * A number as typed (`"abc"`, `2`) or as the config file gives it, checked against its range:
 * the message names the option where it was given (`--drop-rate "2"`, or the config file and
 * its key) with the same line as a shared option's; typed twice with two values, refused (oneValue).
 * @throws BatchError USAGE or CONFIG_INVALID (exit 2)
 */
export function checkNumber(name: string, value: unknown, r: NumberRange): number {
  let last: unknown;
  try {
    last = oneValue(name, value);
  } catch (err) {
    refusedNumber = err as BatchError;
    throw err;
  }
  const n =
    typeof last === 'number'
      ? last
      : typeof last === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(last)
        ? Number(last)
        : NaN;
  const fits =
    Number.isFinite(n) &&
    n >= r.min &&
    (r.max === undefined || n <= r.max) &&
    (!r.integer || Number.isInteger(n));
  if (fits) return n;
  refusedNumber = badValue(name, ownSource(name), last, `is not ${rangeWords(r)}`, r.example);
  throw refusedNumber;
}

/** The last number {@link checkNumber} refused: yargs rethrows a coerce's error as its own (YError). */
let refusedNumber: BatchError | undefined;

/** The error {@link checkNumber} threw with this message, as it was (its code, no usage suffix). */
export function refusedByCoerce(message: string): BatchError | undefined {
  return refusedNumber?.message === message ? refusedNumber : undefined;
}

/** A yargs option of a number in a range, read as typed (so "abc" is quoted back, not NaN). */
export function numberOption(name: string, describe: string, dflt: number, range: NumberRange) {
  return {
    requiresArg: true,
    default: dflt,
    describe: `${describe} (${rangeWords(range)})`,
    coerce: (v: unknown): number => checkNumber(name, v, range),
  } as const;
}

/** An own option's duration (`watch --settle`, `sandbox --latency` …) in ms. @throws BatchError as {@link checkNumber} */
export function ownDuration(name: string, typed: string): number {
  const text = oneValue(name, typed) as string;
  const r = readDuration(text);
  if (r.ok) return r.value;
  const from = ownSource(name);
  throw badValue(name, from, text, r.problem, from.kind === 'file' ? '5s' : r.example);
}

/** An own option's rate (`sandbox --rate-limit`). @throws BatchError as {@link checkNumber} */
export function ownRate(name: string, typed: string): Rate {
  const text = oneValue(name, typed) as string;
  const r = readRate(text);
  if (r.ok) return r.value;
  throw badValue(name, ownSource(name), text, r.problem, r.example);
}
