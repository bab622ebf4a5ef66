/**
 * The config file (SPEC §2: `--config`, or RECHARGE_BATCH_CONFIG): a JSON object keyed by the
 * long option names. Its messages name it as it was given (src/config/source.ts).
 */
import { readFileSync } from 'node:fs';
import { BatchError } from '../errors.js';
import { mask } from '../api/mask.js';
import { isOptionName } from './options.js';
import { configFileName, configFileWayOut, type ConfigFile } from './source.js';

/**
 * Reads a `--config` file: a JSON object keyed by long option names, any option of any command
 * (a command ignores the keys it does not use, so one file serves every command).
 * @param ownKeys the options of single commands (`settle`, `port` …) besides the shared ones
 *   (src/cli/own-options.ts): a key that is neither is refused, naming the key and the file
 * @throws BatchError CONFIG_INVALID naming the file and what to do, never quoting its content
 *   (SPEC §5 additions: a config error must not print a secret); for a missing or unreadable
 *   file, invalid JSON, not an object, an unknown key, a `config` key (a file cannot name
 *   another: one place holds the options, README "Options"), or the API key stored in it.
 */
export function readConfigFile(given: ConfigFile, ownKeys: readonly string[] = []): Record<string, unknown> {
  const { path } = given;
  const name = configFileName(given);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' || code === 'ENOTDIR'
        ? `there is no such file; check the name and folder, or ${configFileWayOut(given)}`
        : code === 'EISDIR'
          ? 'is a folder, not a JSON file'
          : code === 'EACCES' || code === 'EPERM'
            ? 'cannot be read (permission denied)'
            : `cannot be read (${code ?? 'read error'})`;
    throw new BatchError('CONFIG_INVALID', `${name}: ${why}`, { path }, { cause: err });
  }
  let file: unknown;
  try {
    file = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    // JSON.parse's own message may quote the text around the mistake: give the place only
    // (and keep it out of the cause too, which --debug would print)
    const pos = /position (\d+)/.exec((err as Error).message);
    let where = '';
    if (pos) {
      const before = text.slice(0, Number(pos[1]));
      const line = before.split('\n').length;
      where = ` (line ${line}, column ${before.length - before.lastIndexOf('\n')})`;
    }
    throw new BatchError(
      'CONFIG_INVALID',
      `${name} is not valid JSON${where}: check the quotes, commas and braces`,
      { path },
    );
  }
  if (!file || typeof file !== 'object' || Array.isArray(file)) {
    throw new BatchError('CONFIG_INVALID', `${name} must hold one JSON object, like {"plan": "business"}`, {
      path,
    });
  }
  const obj = file as Record<string, unknown>;
  if ('api-key' in obj)
    throw new BatchError(
      'CONFIG_INVALID',
      `${name}: do not store the API key in a config file; use ALSAMIFLEXI_API_KEY`,
      { path },
    );
  if ('config' in obj)
    throw new BatchError(
      'CONFIG_INVALID',
      `${name}: "config" cannot name another config file; put its options in this one, or leave that key out`,
      { path },
    );
  for (const key of Object.keys(obj)) {
    if (!isOptionName(key) && !ownKeys.includes(key)) {
      throw new BatchError(
        'CONFIG_INVALID',
        `${name}: "${mask(key).slice(0, 40)}" is not an option of any command; the keys are the long option names (see --help)`,
        { path },
      );
    }
  }
  return obj;
}
