/** Helpers of the validation tests: every verdict of a file, and the one error a broken file gives. */
import { expect } from 'vitest';
import { BatchError } from '../../src/errors.js';
import { createValidator, type RowVerdict, type ValidateOptions } from '../../src/validate/index.js';
import { OPERATORS } from './operators.js';

/** Every row verdict of the file at `path`, validated against the test operator list. */
export async function verdicts(path: string, opts: Partial<ValidateOptions> = {}): Promise<RowVerdict[]> {
  const v = await createValidator(path, { operators: OPERATORS, ...opts });
  const out: RowVerdict[] = [];
  for await (const verdict of v.rows()) out.push(verdict);
  return out;
}

/** The BatchError `promise` rejects with; a file-level problem is one line, never more. */
export async function batchError(promise: Promise<unknown>): Promise<BatchError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BatchError);
  expect((err as Error).message).not.toMatch(/\n/);
  return err as BatchError;
}
