#!/usr/bin/env node
/**
 * Prints the README's options table from the one place options are described
 * (src/config/options.ts) and the options each command uses (src/cli/<command>.ts).
 */
import { OPTIONS, envName } from '../dist/config.js';
import { COMMANDS } from '../dist/cli/commands.js';

/** The commands that use an option, by name; `every command` when all do. */
export function usedBy(name) {
  const users = COMMANDS.filter((c) => c.uses.includes(name)).map((c) => c.command.split(' ')[0]);
  return users.length === COMMANDS.length ? 'every command' : users.join(', ');
}

export function optionsTable() {
  const rows = ['| option | default | environment | used by | meaning |', '|---|---|---|---|---|'];
  for (const [name, spec] of Object.entries(OPTIONS)) {
    const envs = [envName(name), ...(spec.env ?? [])].map((e) => `\`${e}\``).join(', ');
    const def = spec.default === undefined ? '' : `\`${String(spec.default)}\``;
    rows.push(`| \`--${name}\` | ${def} | ${envs} | ${usedBy(name)} | ${spec.describe} |`);
  }
  return rows.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(optionsTable());
