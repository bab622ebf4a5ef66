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
import { OPTION_NAMES, envName } from '../config.js';
import { readConfigFile } from '../config/file.js';

/** What yargs knows of a builder's options (its own `getOptions()`, missing from its types). */
interface YargsOptions {
  key: Record<string, unknown>;
  hiddenOptions: string[];
  boolean: string[];
  string: string[];
  array: string[];
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
const fromFile = new Map<string, string>();

/** How a message names an own option: `--port`, or `"port" (in --config f.json)`. */
export function ownLabel(name: string): string {
  const file = fromFile.get(name);
  return file === undefined ? `--${name}` : `"${name}" (in --config ${file})`;
}

/**
 * The `--config` file's values for the command's own options that its command line does not
 * give (flag > config file > default, as for the shared options). A file that cannot be read is
 * left to src/config.ts, which reports it once, naming the file. Values of the wrong kind are
 * refused, naming the key and the file (never quoting the value: it may be a secret): returned
 * as `refused`, for the command to throw when it runs (so `--help` still answers).
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
  const given = line.config as string | string[] | undefined;
  const path = (Array.isArray(given) ? given.at(-1) : given) ?? (env[envName('config')] || undefined);
  if (!path) return { values: {} };
  let file: Record<string, unknown>;
  try {
    file = readConfigFile(path, fileKeys);
  } catch {
    return { values: {} };
  }
  const kinds = yargsOptions(b);
  const camel = (n: string) => n.replace(/-([a-z])/g, (_, ch: string) => ch.toUpperCase());
  const picked: Record<string, unknown> = {};
  for (const name of own) {
    if (!Object.hasOwn(file, name) || file[name] === null) continue;
    if (line[name] !== undefined || line[camel(name)] !== undefined) continue;
    const value = file[name];
    const bad = (shape: string) =>
      new BatchError(
        'CONFIG_INVALID',
        `--config ${path}: "${name}" must be ${shape}; fix the file or leave that key out`,
        { path },
      );
    if (kinds.boolean.includes(name) && typeof value !== 'boolean')
      return { values: picked, refused: bad(`true or false, like "${name}": true`) };
    if (kinds.array.includes(name) && !Array.isArray(value))
      return { values: picked, refused: bad(`a list, like "${name}": ["…"]`) };
    if (kinds.string.includes(name) && !kinds.array.includes(name) && typeof value !== 'string')
      return { values: picked, refused: bad(`text, like "${name}": "…"`) };
    picked[name] = value;
    fromFile.set(name, path);
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
 * A number as typed (`"abc"`, `2`) checked against its range: the message names the option as
 * the user wrote it (`--drop-rate`, or the config file's key) and the value given, never NaN
 * or an internal name. A repeated option counts by its last value, as for the shared options.
 * @throws BatchError USAGE (exit 2)
 */
export function checkNumber(name: string, value: unknown, r: NumberRange): number {
  const last = Array.isArray(value) ? (value.at(-1) as unknown) : value;
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
  const label = ownLabel(name);
  if (fromFile.has(name))
    throw new BatchError('USAGE', `${label} must be ${rangeWords(r)}, like "${name}": ${r.example}`);
  const typed = last === true || last === undefined ? '' : ` ${JSON.stringify(String(last)).slice(0, 42)}`;
  const shown = typeof last === 'number' ? ` ${last}` : typed;
  throw new BatchError(
    'USAGE',
    `${label}${shown} is not ${rangeWords(r)}: write it like --${name} ${r.example}`,
  );
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
