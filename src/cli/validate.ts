/**
 * `recharge-batch validate <csv>` (SPEC §2): validation only, nothing is submitted.
 * Prints through `io` only; whole-file problems are thrown for cli.ts to map to exit 2.
 */
import type { Operator } from '../api/types.js';
import type { ColumnMap, RowVerdict, ValidationSummary } from '../validate/index.js';
import { runValidation } from '../validate/index.js';
import { loadOperatorsFile } from '../validate/index.js';
import { SameNumberNotes } from '../validate/same-number.js';
import { bdt, count, group, noun } from '../util/words.js';
import { API, COMMON, csvPositional, type Command } from './command.js';
import { NO_KEY, apiContext, apiKey } from './context.js';
import { readHead } from '../csv/encoding.js';

/** The command line's `validate`: the operator list (amount limits) from the API, or offline from a file. */
export const validate: Command<{ csv: string }> = {
  command: 'validate <csv>',
  describe: 'validation only, nothing is submitted; --out writes the report CSV',
  uses: [
    ...API,
    'operators',
    'map',
    'allow-duplicates',
    'max-total',
    'out',
    'bom',
    'json',
    'quiet',
    ...COMMON,
  ],
  builder: csvPositional,
  async run(a, o, { io }) {
    // a missing or unreadable file is the first thing to hear, before the key or the API
    await readHead(a.csv);
    let operators;
    if (o.operators) operators = await loadOperatorsFile(o.operators);
    else {
      apiKey(
        o,
        `${NO_KEY}; to check a file offline, give the operator list instead: --operators operators.json (saved from \`recharge-batch operators --json\`)`,
      );
      const ctx = apiContext(o);
      try {
        operators = await ctx.client.getOperators();
      } finally {
        await ctx.close();
      }
    }
    return validateCommand(
      {
        csv: a.csv,
        operators,
        map: o.map,
        allowDuplicates: o.allowDuplicates,
        out: o.out,
        bom: o.bom,
        json: o.json,
        quiet: o.quiet,
        maxTotal: o.maxTotal,
      },
      io,
    );
  },
};

export interface Io {
  out(line: string): void;
  err(line: string): void;
}

export interface ValidateCommandOptions {
  csv: string;
  operators: Operator[];
  map?: ColumnMap;
  allowDuplicates?: boolean;
  out?: string;
  /** start the report with a UTF-8 BOM (default true) */
  bom?: boolean;
  json?: boolean;
  /** no human output at all; the exit code tells the result */
  quiet?: boolean;
  maxTotal?: number;
}

const SHOW_INVALID = 10;
const SHOW_WARNINGS = 5;

/** Returns the exit code: 0 every row valid, 1 some rows invalid. */
export async function validateCommand(opts: ValidateCommandOptions, io: Io): Promise<number> {
  const invalid: Extract<RowVerdict, { ok: false }>[] = [];
  const warnings: RowVerdict[] = [];
  const sameNumber = new SameNumberNotes();
  const { summary, validator } = await runValidation(
    opts.csv,
    {
      operators: opts.operators,
      map: opts.map,
      allowDuplicates: opts.allowDuplicates,
      out: opts.out,
      bom: opts.bom,
    },
    {
      maxTotal: opts.maxTotal,
      onVerdict: (v) => {
        if (!v.ok && invalid.length < SHOW_INVALID) invalid.push(v);
        const warning = v.ok ? v.value.warning : v.partial.warning;
        if (warning !== undefined && warnings.length < SHOW_WARNINGS) warnings.push(v);
        sameNumber.add(v);
      },
    },
  );
  const exitCode = summary.invalid > 0 ? 1 : 0;
  if (opts.json) {
    io.out(JSON.stringify(jsonSummary(summary, opts.out ?? null, exitCode, sameNumber)));
  } else if (!opts.quiet) {
    const lines = humanSummary(opts.csv, summary, invalid, { warnings, sameNumber }, opts.out);
    const { headerLine } = validator.source;
    // SPEC §3a: a sep= line or titles above the header are skipped; say so, since rows count from the header
    if (headerLine > 1)
      lines.splice(
        1,
        0,
        `  header on line ${headerLine} (the ${headerLine === 2 ? 'line' : `${headerLine - 1} lines`} above it skipped; rows count from the header)`,
      );
    for (const line of lines) io.out(line);
  }
  return exitCode;
}

/**
 * The `--json` object: the keys every command prints (SPEC §2); `job` is null for validate.
 * `counts.warnings`: rows carrying a warning (valid or not); `same_number`: the valid rows whose
 * number an earlier row has with another amount, counted, the first 10 given (as `run --json`).
 */
export function jsonSummary(
  summary: ValidationSummary,
  results: string | null,
  exitCode: number,
  sameNumber = new SameNumberNotes(),
) {
  return {
    job: null,
    counts: {
      rows: summary.rows,
      valid: summary.valid,
      invalid: summary.invalid,
      byCode: summary.invalidByCode,
      warnings: summary.warnings,
    },
    amounts: { total: summary.totalAmount, byOperator: summary.byOperator },
    results,
    same_number: sameNumber.toJSON(),
    exit_code: exitCode,
  };
}

function humanSummary(
  csv: string,
  s: ValidationSummary,
  invalid: Extract<RowVerdict, { ok: false }>[],
  { warnings, sameNumber }: { warnings: RowVerdict[]; sameNumber: SameNumberNotes },
  out: string | undefined,
): string[] {
  const lines = [`${csv}: ${count(s.rows, 'row')}, ${group(s.valid)} valid, ${group(s.invalid)} invalid`];
  const codes = Object.entries(s.invalidByCode).sort((a, b) => b[1] - a[1]);
  if (codes.length > 0)
    lines.push(`  invalid by code: ${codes.map(([code, n]) => `${code} ${group(n)}`).join(', ')}`);
  lines.push(`  total of valid rows: ${bdt(s.totalAmount)}`);
  const ops = Object.entries(s.byOperator).sort((a, b) => b[1].amount - a[1].amount);
  const nameWidth = Math.max(0, ...ops.map(([name]) => name.length));
  for (const [name, { rows, amount }] of ops) {
    lines.push(
      `    ${name.padEnd(nameWidth)}  ${String(rows).padStart(6)} ${noun(rows, 'row ', 'rows')}  ${bdt(amount).padStart(16)}`,
    );
  }
  if (invalid.length > 0) {
    lines.push(s.invalid > invalid.length ? `first ${invalid.length} invalid rows:` : 'invalid rows:');
    for (const v of invalid) lines.push(`  row ${v.row} ${v.code}: ${v.message}`);
  }
  if (s.warnings > 0) {
    lines.push(`${count(s.warnings, 'warning')} (a warning alone does not make a row invalid):`);
    for (const v of warnings)
      lines.push(`  row ${v.row}, line ${v.line}: ${v.ok ? v.value.warning : v.partial.warning}`);
    // thousands of them would flood the terminal: the report has every one
    if (s.warnings > warnings.length)
      lines.push(
        `  … and ${group(s.warnings - warnings.length)} more — ${out === undefined ? 'write the report with --out report.csv to see them all' : `see error_message in ${out}`}`,
      );
    // a count by kind, when the lines above do not already show every one of them
    const k = sameNumber.rows;
    if (k > 0 && (s.warnings > warnings.length || k !== s.warnings))
      lines.push(
        `  ${group(k)} of them ${noun(k, 'repeats', 'repeat')} the number of an earlier row with another amount: running the file pays ${noun(k, 'it', 'them')} too — check ${noun(k, 'it is', 'they are')} meant`,
      );
  }
  if (out !== undefined) lines.push(`report written to ${out}`);
  // the next step: nothing was sent, so fixing the file and checking it again costs nothing
  lines.push(nextStep(csv, s));
  return lines;
}

/**
 * What to do next: nothing was sent, so fixing the file and checking it again costs nothing.
 * DUPLICATE_ROW rows are not written to the failed CSV (SPEC §4: they need no fixing).
 */
function nextStep(csv: string, s: ValidationSummary): string {
  if (s.invalid === 0) return `next: \`recharge-batch run ${csv}\``;
  const dup = s.invalidByCode.DUPLICATE_ROW ?? 0;
  const toFix = s.invalid - dup;
  const fate =
    toFix === 0
      ? `${noun(dup, 'it repeats an earlier row and is', 'they repeat earlier rows and are')} not sent, nor written to the failed CSV`
      : dup === 0
        ? `the invalid ${noun(toFix, 'row is', 'rows are')} not sent and ${noun(toFix, 'comes', 'come')} back in the failed CSV`
        : `the invalid rows are not sent; the ${group(toFix)} to fix come back in the failed CSV, the ${group(dup)} ${noun(dup, 'duplicate does', 'duplicates do')} not`;
  return `next: fix the ${noun(s.invalid, 'row', 'rows')} above in ${csv} and validate again, or run it as it is: ${fate}`;
}
