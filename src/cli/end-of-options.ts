/**
 * `--` ends the options (POSIX utility syntax guideline 10; README "Commands"): every word after
 * it is a positional, so `recharge-batch run -- --weird.csv` runs the file named `--weird.csv`.
 *
 * yargs 18 cannot do this itself: it keeps the words after `--` out of a command's positionals
 * (yargs/yargs#2423: "Not enough non-option arguments: got 0"), and it re-reads a positional's
 * value as `--csv <value>`, so a value starting with `-` is lost (yargs/yargs-parser#142). So
 * each word after `--` reaches yargs as a stand-in placed right after the command word, and is
 * put back before the command runs and in any usage message.
 */

export interface EndOfOptions {
  /** the words for yargs: the command word first, then the stand-ins, then the rest */
  args: string[];
  /** the word a stand-in stands for; any other value unchanged */
  restore<T>(value: T): T | string;
  /** a message with every stand-in replaced by its word */
  restoreText(text: string): string;
}

/** A process argument can never hold a NUL, so a stand-in can never be a word the user typed. */
const standIn = (i: number) => `\u0000${i}\u0000`;

/**
 * @param args the command line as typed (after the node and script paths)
 * @param commands the command words (`run`, `validate` …)
 * @param commandFirst moves options written before the command word after it
 *   (src/cli.ts); it never looks past `--`
 */
export function endOfOptions(
  args: string[],
  commands: ReadonlySet<string>,
  commandFirst: (args: string[]) => string[],
): EndOfOptions {
  const at = args.indexOf('--');
  if (at < 0) return { args: commandFirst(args), restore: (v) => v, restoreText: (t) => t };
  const after = args.slice(at + 1);
  let ordered = commandFirst(args.slice(0, at));
  // no command word before `--` (`recharge-batch -- run a.csv`): the first word after it is one
  if (!commands.has(ordered[0] ?? '') && after[0] !== undefined && !after[0].startsWith('-'))
    ordered = commandFirst([...args.slice(0, at), after.shift()!]);
  const words = new Map(after.map((w, i) => [standIn(i), w]));
  // without a command, nothing takes the words after `--`: yargs says to name one
  const final = commands.has(ordered[0] ?? '')
    ? [ordered[0]!, ...words.keys(), ...ordered.slice(1)]
    : ordered;
  return {
    args: final,
    restore: (v) => (typeof v === 'string' ? (words.get(v) ?? v) : v),
    restoreText: (t) => [...words].reduce((text, [stand, word]) => text.split(stand).join(word), t),
  };
}

/** The words before `--`: only they can be options (`--json`, `--debug` after it are file names). */
export function optionWords(args: readonly string[]): readonly string[] {
  const at = args.indexOf('--');
  return at < 0 ? args : args.slice(0, at);
}
