/**
 * Table-driven: every file of fixtures/field/ (one per reported problem with real spreadsheet
 * files, SPEC §3a) against its expected verdicts, row by row.
 */
import { describe, expect, it } from 'vitest';
import { BatchError } from '../../src/errors.js';
import { createValidator, parseMapOption, type RowVerdict } from '../../src/validate/index.js';
import { OPERATORS } from '../support/operators.js';
import { fieldCases, mapArgs } from '../support/field.js';

const cases = fieldCases();

describe('fixtures/field', () => {
  it('holds one case per reported problem, each with expected verdicts', () => {
    expect(cases.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        'stray-quote.csv',
        'mixed-line-endings.csv',
        'excel-sep-line.csv',
        'invisible-characters.csv',
        'text-markers.csv',
        'ambiguous-amounts.csv',
        'title-above-header.csv',
        'formula-cells.csv',
        'unit-in-header.csv',
        'nbsp-header-map.csv',
        'results-fed-back.csv',
      ]),
    );
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const opts = { operators: OPERATORS, map: parseMapOption(mapArgs(c.args)) };
    if (c.error !== undefined) {
      const err = await createValidator(c.path, opts).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, c.problem).toBeInstanceOf(BatchError);
      expect((err as BatchError).code).toBe(c.error);
      if (c.message !== undefined) expect((err as BatchError).message).toContain(c.message);
      return;
    }
    const v = await createValidator(c.path, opts);
    if (c.header_line !== undefined) expect(v.source.headerLine).toBe(c.header_line);
    const got: RowVerdict[] = [];
    for await (const verdict of v.rows()) got.push(verdict);
    expect(
      got.map((g) => String(g.row)),
      c.problem,
    ).toEqual(Object.keys(c.rows));
    for (const verdict of got) {
      const want = c.rows[String(verdict.row)]!;
      const value = verdict.ok ? verdict.value : verdict.partial;
      expect(
        {
          line: verdict.line,
          status: verdict.ok ? 'valid' : 'invalid',
          code: verdict.ok ? undefined : verdict.code,
        },
        `row ${verdict.row}`,
      ).toEqual({
        line: want.line,
        status: want.status,
        code: want.code,
      });
      if (want.number !== undefined) expect(value.number).toBe(want.number);
      if (want.amount !== undefined) expect(value.amount).toBe(want.amount);
      if (want.message !== undefined) expect(verdict.ok ? '' : verdict.message).toContain(want.message);
    }
    // validate's exit code follows from the verdicts: 1 when any row is invalid
    expect(got.some((g) => !g.ok) ? 1 : 0).toBe(c.validate_exit);
  });
});
