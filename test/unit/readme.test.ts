/** Options are documented once (src/config/options.ts): the README's table must be the generated one. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { OPTIONS, envName } from '../../src/config.js';
import { COMMANDS } from '../../src/cli/commands.js';

describe('README', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  it('lists every option with the words --help uses and the commands that use it', () => {
    const table = readme.slice(
      readme.indexOf('<!-- options-table:start -->'),
      readme.indexOf('<!-- options-table:end -->'),
    );
    for (const [name, spec] of Object.entries(OPTIONS)) {
      const line = table.split('\n').find((l) => l.startsWith(`| \`--${name}\` |`));
      expect(line, `--${name} in the README table`).toBeDefined();
      expect(line).toContain(spec.describe);
      expect(line).toContain(envName(name));
      const users = COMMANDS.filter((c) => (c.uses as readonly string[]).includes(name)).map(
        (c) => c.command.split(' ')[0],
      );
      expect(line).toContain(`| ${users.length === COMMANDS.length ? 'every command' : users.join(', ')} |`);
    }
  });
  it('documents every exit code and the two quick-start commands', () => {
    for (const code of [0, 1, 2, 3, 4]) expect(readme).toMatch(new RegExp(`^\\| ${code} \\|`, 'm'));
    expect(readme).toContain('npm install && npm run demo');
    expect(readme).toContain('npm test');
  });
});
