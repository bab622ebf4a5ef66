/** The field fixtures (fixtures/field/): one small CSV per reported problem, with its expected verdicts. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ExpectedRow {
  line: number;
  status: 'valid' | 'invalid';
  code?: string;
  number?: string;
  amount?: number;
  /** a part the row's message must hold */
  message?: string;
}

export interface FieldCase {
  name: string;
  path: string;
  /** what was reported */
  problem: string;
  /** extra CLI options, e.g. ["--map", "number=Mobile No"] */
  args: string[];
  validate_exit: number;
  /** the whole file is refused with this code (exit 2) */
  error?: string;
  /** a part the refusal's message must hold */
  message?: string;
  header_line?: number;
  rows: Record<string, ExpectedRow>;
}

export const FIELD_DIR = 'fixtures/field';

export function fieldCases(): FieldCase[] {
  return readdirSync(FIELD_DIR)
    .filter((f) => f.endsWith('.csv'))
    .sort()
    .map((f) => {
      const expected = JSON.parse(
        readFileSync(join(FIELD_DIR, f.replace(/\.csv$/, '.expected.json')), 'utf8'),
      ) as Omit<FieldCase, 'name' | 'path' | 'args'> & {
        args?: string[];
      };
      return { ...expected, args: expected.args ?? [], name: f, path: join(FIELD_DIR, f) };
    });
}

/** `--map role=Col` pairs of a case's args, as the library takes them. */
export function mapArgs(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) if (args[i] === '--map') out.push(args[++i]!);
  return out;
}
