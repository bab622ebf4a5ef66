#!/usr/bin/env node
/** Prints the README's options table from the one place options are described (src/config.ts). */
import { OPTIONS, envName } from '../dist/config.js';

export function optionsTable() {
  const rows = ['| option | default | environment | meaning |', '|---|---|---|---|'];
  for (const [name, spec] of Object.entries(OPTIONS)) {
    const envs = [envName(name), ...(spec.env ?? [])].map((e) => `\`${e}\``).join(', ');
    const def = spec.default === undefined ? '' : `\`${String(spec.default)}\``;
    rows.push(`| \`--${name}\` | ${def} | ${envs} | ${spec.describe} |`);
  }
  return rows.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(optionsTable());
