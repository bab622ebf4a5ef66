/**
 * Where an option's value came from (SPEC §2: flag > environment > config file > default), and
 * the one line that refuses a bad value, the same shape wherever it came from (README
 * "Options"): what was given, what is wrong, and the value written the way that place writes it.
 */
import { BatchError, type ErrorCode } from '../errors.js';
import { mask } from '../api/mask.js';
import { envName } from './options.js';

/** The config file in force: given by `--config`, or by RECHARGE_BATCH_CONFIG. */
export interface ConfigFile {
  path: string;
  fromEnv: boolean;
}

export type Source = { kind: 'flag' } | { kind: 'env'; name: string } | { kind: 'file'; file: ConfigFile };

/** How messages name the file: `--config night.json`, or `the config file night.json (from RECHARGE_BATCH_CONFIG)`. */
export function configFileName(f: ConfigFile): string {
  return f.fromEnv ? `the config file ${f.path} (from ${envName('config')})` : `--config ${f.path}`;
}

/** What to do about a bad config file, as the user gave it: leave out the flag or unset the variable. */
export function configFileWayOut(f: ConfigFile): string {
  return f.fromEnv ? `unset ${envName('config')}` : 'leave --config out';
}

/** An example value; or its text in each place, where the forms differ (`--map` against a JSON object). */
export type Example = string | number | boolean | { flag: string; env: string; file: string };

/** A value written as its source writes it: `--concurrency 4`, `RECHARGE_BATCH_CONCURRENCY=4`, `"concurrency": 4`. */
export function writtenAs(name: string, from: Source, example: Example): string {
  if (typeof example === 'object') {
    const text = example[from.kind];
    return from.kind === 'file'
      ? `"${name}": ${text}`
      : from.kind === 'env'
        ? `${from.name}=${text}`
        : `--${name} ${text}`;
  }
  if (from.kind === 'file') return `"${name}": ${JSON.stringify(example)}`;
  const text = /[\s"]/.test(String(example)) ? JSON.stringify(String(example)) : String(example);
  if (from.kind === 'env') return `${from.name}=${text}`;
  return example === true ? `--${name}` : `--${name} ${text}`;
}

/** A value the user typed, shown as typed: one line, not too long, never the key. */
export function shown(value: unknown): string {
  // masked: a key pasted into the wrong option or variable is still never printed
  const text = mask(Array.isArray(value) ? value.join(' ') : String(value));
  const line = text.replace(/[\r\n]+/g, ' ');
  return JSON.stringify(line.length > 40 ? `${line.slice(0, 40)}…` : line);
}

/**
 * What was given, named where it was given: `--concurrency "abc"`, `RECHARGE_BATCH_CONCURRENCY="abc"`,
 * `--config night.json: "concurrency"`. A config file's value is never quoted (SPEC §5 additions:
 * errors about a config file never quote its content; it may hold a secret by mistake).
 */
export function givenAs(name: string, from: Source, value: unknown): string {
  if (from.kind === 'file') return `${configFileName(from.file)}: "${name}"`;
  const typed = name === 'api-key' || value === undefined || value === true ? '' : shown(value);
  if (from.kind === 'env') return typed ? `${from.name}=${typed}` : from.name;
  return typed ? `--${name} ${typed}` : `--${name}`;
}

/**
 * The one line that refuses a value, `<given> <problem>: write it like <example>`:
 * `--concurrency "abc" is not a number: write it like --concurrency 4`,
 * `RECHARGE_BATCH_CONCURRENCY="abc" is not a number: write it like RECHARGE_BATCH_CONCURRENCY=4`,
 * `--config night.json: "concurrency" is not a number: write it like "concurrency": 4`.
 * @returns BatchError (exit 2): `code`, else CONFIG_INVALID for a config file and USAGE otherwise
 */
export function badValue(
  name: string,
  from: Source,
  value: unknown,
  problem: string,
  example: Example,
  code?: ErrorCode,
): BatchError {
  return new BatchError(
    code ?? (from.kind === 'file' ? 'CONFIG_INVALID' : 'USAGE'),
    `${givenAs(name, from, value)} ${problem}: write it like ${writtenAs(name, from, example)}`,
    from.kind === 'file' ? { path: from.file.path } : {},
  );
}

/**
 * Yes/no and number values given as text: how an environment variable holds them, and so also
 * accepted, in the same words, from a config file (`"once": "true"` as `"once": true`, `"port":
 * "8081"` as `"port": 8081`) — one rule for every option (README "Options").
 */
export const YES = ['1', 'true', 'yes', 'on'];
export const NO = ['0', 'false', 'no', 'off'];

/** true/false, or its text (`"yes"`, `"off"` …); undefined when it is neither. */
export function readBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value !== 'string') return undefined;
  const v = value.trim().toLowerCase();
  return YES.includes(v) ? true : NO.includes(v) ? false : undefined;
}
