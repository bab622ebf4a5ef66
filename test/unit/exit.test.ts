/** The exit code of every error code (SPEC §2): one table, exhaustive. */
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode } from '../../src/errors.js';
import { EXIT, EXIT_FOR, exitCodeFor, type ExitCode } from '../../src/exit.js';

// compile-time: the table is a Record over every ErrorCode (npm run typecheck fails otherwise)
const _exhaustive: Readonly<Record<ErrorCode, ExitCode>> = EXIT_FOR;

describe('exit codes', () => {
  it('every error code has its own entry, and nothing else has one', () => {
    expect(Object.keys(_exhaustive).sort()).toEqual([...ERROR_CODES].sort());
  });

  it('usage and input errors exit 2, API access 3, resumable stops and bugs 4', () => {
    const by = (exit: number) => ERROR_CODES.filter((c) => exitCodeFor(c) === exit);
    expect(by(EXIT.USAGE)).toEqual(
      expect.arrayContaining(['USAGE', 'CONFIG_INVALID', 'FILE_NOT_FOUND', 'LOCAL_IO']),
    );
    expect(by(EXIT.API)).toEqual(
      expect.arrayContaining(['API_UNAUTHORIZED', 'API_UNREACHABLE', 'API_RATE_LIMITED', 'API_UNREADABLE']),
    );
    expect(by(EXIT.STOPPED)).toEqual(
      expect.arrayContaining(['INSUFFICIENT_BALANCE', 'INTERRUPTED', 'LOCAL_IO_STOPPED', 'INTERNAL']),
    );
    expect(by(EXIT.USAGE).length + by(EXIT.API).length + by(EXIT.STOPPED).length).toBe(ERROR_CODES.length);
  });

  it('a code outside the list (only a cast could make one) is treated as a bug: 4, never a silent 2', () => {
    expect(exitCodeFor('SOMETHING_NEW' as ErrorCode)).toBe(EXIT.STOPPED);
  });
});
