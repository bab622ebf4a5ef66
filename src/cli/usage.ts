/**
 * yargs' messages are written for programmers ("Not enough non-option arguments: got 0, need at
 * least 1"); these say the same for a payroll clerk (SPEC §2: bad usage is one clear line, exit
 * 2): what is missing, what to type, the closest command or option to a misspelt one.
 */
import { Parser } from 'yargs/helpers';

/** What a command's positional is, said to a clerk, with an example (`<csv>`, `<job>`, `<dir>`). */
const POSITIONAL_WORDS: Record<string, (command: string) => string> = {
  csv: (c) => `the CSV file, e.g. \`recharge-batch ${c} payroll.csv\``,
  job: () => "a job name (or the job's input CSV): see `recharge-batch jobs`",
  dir: (c) => `the folder to watch, e.g. \`recharge-batch ${c} /srv/payroll/incoming\``,
};

/** What a command's positional is, counted: "validate takes one CSV file; got 2: …". */
const ONE_POSITIONAL: Record<string, string> = {
  csv: 'one CSV file',
  job: "one job name (or the job's input CSV)",
  dir: 'one folder',
};

/** Levenshtein distance: how far a misspelt name is from a real one. */
export function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The known name nearest to `name`, if it is near enough to be what was meant. */
export function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(name.toLowerCase(), k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

export interface UsageContext {
  /** every command's yargs form: `run <csv>`, `jobs` … */
  commands: readonly string[];
  /** the options the command named on the line takes (its own and the shared ones it uses) */
  options: readonly string[];
  /** the options of that command that take no value (so `--once a b` has positionals a, b) */
  flags?: readonly string[];
}

/**
 * The command and the words after it that are neither options nor option values, as typed.
 * Only the options the command takes count as taking a value, so `--out r.csv` is not one.
 */
function positionalsOf(args: string[], flags: readonly string[]): [string | undefined, string[]] {
  const parsed = Parser(args, {
    boolean: [...flags],
    configuration: { 'parse-positional-numbers': false, 'parse-numbers': false },
  });
  const words = parsed._.map(String);
  return [words[0], words.slice(1)];
}

/** The quoted form of a word that holds a space, so the list can be read back. */
const word = (s: string) => (/[\s"]/.test(s) || s === '' ? JSON.stringify(s) : s);

/** One line for a yargs usage message; every line points at --help exactly once. */
export function usageLine(msg: string, args: string[], ctx: UsageContext): string {
  const names = ctx.commands.map((c) => c.split(' ')[0]!);
  const command = args.find((a) => !a.startsWith('-'));
  const help = (line: string) => (line.includes('--help') ? line : `${line} (see --help)`);
  if (/^Not enough non-option arguments/.test(msg) && command) {
    const form = ctx.commands.find((c) => c.split(' ')[0] === command);
    const positional = /<(\w+)>/.exec(form ?? '')?.[1];
    const words = positional ? POSITIONAL_WORDS[positional] : undefined;
    if (words) return `${command} needs ${words(command)}`;
  }
  const following = /^(?:Not enough arguments following|Missing argument value): (\S+)/.exec(msg);
  if (following) return help(`--${following[1]} needs a value`);
  const unknown = /^Unknown arguments?: (.+)$/.exec(msg);
  if (unknown) {
    // yargs names a dashed option twice (`--poll-evry` and `pollEvry`): keep the form typed
    const all = unknown[1]!.split(', ');
    const camel = (n: string) => n.replace(/-([a-z])/g, (_, ch: string) => ch.toUpperCase());
    const given = all.filter((n) => !all.some((m) => m !== n && m.includes('-') && camel(m) === n));
    if (command && given.includes(command) && !names.includes(command)) {
      const near = closest(command, names);
      return help(
        near
          ? `"${command}" is not a command: did you mean ${near}?`
          : `"${command}" is not a command: the commands are ${names.join(', ')}`,
      );
    }
    // a stray extra file or name (`validate a.csv extra.csv`) is not an unknown option
    // (the command as parsed: `--config night.json validate a.csv b.csv` names validate)
    const [cmd, positionals] = positionalsOf(args, ctx.flags ?? []);
    const form = ctx.commands.find((c) => c.split(' ')[0] === cmd);
    if (form && given.some((g) => positionals.includes(g) && args.includes(g))) {
      const kind = /<(\w+)>/.exec(form)?.[1];
      const takes = kind ? (ONE_POSITIONAL[kind] ?? `one <${kind}>`) : 'no file or name';
      return `${cmd} takes ${takes}; got ${positionals.length}: ${positionals.map(word).join(' ')}`;
    }
    const dashed = (n: string) => (n.length === 1 ? `-${n}` : `--${n}`);
    if (given.length === 1) {
      const near = closest(given[0]!, ctx.options);
      return help(`unknown option ${dashed(given[0]!)}${near ? `: did you mean --${near}?` : ''}`);
    }
    return help(`unknown options ${given.map(dashed).join(', ')}`);
  }
  const didYouMean = /^Did you mean (\S+)\?$/.exec(msg);
  if (didYouMean && command) return help(`"${command}" is not a command: did you mean ${didYouMean[1]}?`);
  const choices = /^Invalid values:\s+Argument: (\S+), Given: (.*), Choices: (.*)$/s.exec(msg);
  if (choices) return help(`--${choices[1]} ${choices[2]!.trim()} is not one of ${choices[3]!.trim()}`);
  return help(msg.replace(/\s*\n\s*/g, ' '));
}
