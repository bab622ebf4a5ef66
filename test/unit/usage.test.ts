/** yargs' messages said for a clerk (SPEC §2): one line, what is missing, the closest name. */
import { describe, expect, it } from 'vitest';
import { closest, usageLine } from '../../src/cli/usage.js';

const ctx = {
  commands: ['run <csv>', 'validate <csv>', 'status <job>', 'watch <dir>', 'jobs', 'balance', 'operators'],
  options: ['poll-every', 'poll-after', 'concurrency', 'json'],
};
const NOT_ENOUGH = 'Not enough non-option arguments: got 0, need at least 1';

describe('usageLine', () => {
  it.each([
    ['status', "status needs a job name (or the job's input CSV): see `recharge-batch jobs`"],
    ['run', 'run needs the CSV file, e.g. `recharge-batch run payroll.csv`'],
    ['validate', 'validate needs the CSV file, e.g. `recharge-batch validate payroll.csv`'],
    ['watch', 'watch needs the folder to watch, e.g. `recharge-batch watch /srv/payroll/incoming`'],
  ])('a missing positional of %s', (command, line) => {
    expect(usageLine(NOT_ENOUGH, [command, '--json'], ctx)).toBe(line);
  });

  it('an unknown option names the closest one, once, typed as the user typed it', () => {
    expect(usageLine('Unknown arguments: poll-evry, pollEvry', ['balance', '--poll-evry', '1m'], ctx)).toBe(
      'unknown option --poll-evry: did you mean --poll-every? (see --help)',
    );
    expect(usageLine('Unknown argument: frobnicate-all', ['balance', '--frobnicate-all'], ctx)).toBe(
      'unknown option --frobnicate-all (see --help)',
    );
    expect(usageLine('Unknown arguments: x, yy', ['balance', '-x', '--yy'], ctx)).toBe(
      'unknown options -x, --yy (see --help)',
    );
  });

  it('an unknown command names the closest command, or lists them all', () => {
    expect(usageLine('Unknown argument: operatrs', ['operatrs'], ctx)).toBe(
      '"operatrs" is not a command: did you mean operators? (see --help)',
    );
    expect(usageLine('Unknown argument: frobnicate', ['frobnicate'], ctx)).toBe(
      '"frobnicate" is not a command: the commands are run, validate, status, watch, jobs, balance, operators (see --help)',
    );
  });

  it('a flag without its value', () => {
    expect(
      usageLine('Not enough arguments following: concurrency', ['run', 'a.csv', '--concurrency'], ctx),
    ).toBe('--concurrency needs a value (see --help)');
  });
});

describe('closest', () => {
  it('takes a near name, not a far one; the first on a tie', () => {
    expect(closest('concurency', ctx.options)).toBe('concurrency');
    expect(closest('poll', ctx.options)).toBeUndefined();
    expect(closest('zzzz', ctx.options)).toBeUndefined();
    expect(closest('JSON', ctx.options)).toBe('json');
  });
});
