/**
 * SIGINT/SIGTERM/SIGHUP for the command line (README "Safety model"): the first asks the command
 * to stop cleanly, the second exits at once. SIGHUP is a clerk closing the terminal window or a
 * dropped SSH session: by default it killed the run on the spot, with no results file and no
 * stop for `status` to tell.
 */
import { writeSync } from 'node:fs';
import { setMaxListeners } from 'node:events';
import { BatchError } from '../errors.js';
import { EXIT } from '../exit.js';
import type { Io } from './context.js';

export interface SignalOutput {
  io: Io;
  /** `--json` in force: one object on stdout for every exit */
  json(): boolean;
  /** whether that object (a summary, an error) is already on stdout */
  outWritten(): boolean;
}

/**
 * Listens for the three signals for the rest of the process.
 * @returns the signal the first one aborts, with a BatchError INTERRUPTED as its reason
 */
export function stopSignal(out: SignalOutput): AbortSignal {
  const ac = new AbortController();
  // each wait in progress listens to it (requests, polls, sleeps): many at once is no leak
  setMaxListeners(0, ac.signal);
  let count = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      out.io.err(
        `${sig}: stopping — no new requests; waiting for those in flight (send again to exit at once)`,
      );
      ac.abort(new BatchError('INTERRUPTED', `interrupted by ${sig}`));
    } else {
      exitAtOnce(sig, out);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  return ac.signal;
}

/**
 * The second signal: exit 4 now, without waiting for the requests in flight. `--json` still
 * promises one object on every exit (README "Running it unattended"), so it is written first,
 * unless a summary or error object is already out. writeSync, because the process exits before
 * a stream's queued write would reach a pipe (macOS) or a terminal (Windows). The journal was
 * written record by record: running the same command again resumes (a row sent without an
 * answer becomes `unknown`, never sent again silently: SPEC §5).
 */
function exitAtOnce(sig: NodeJS.Signals, out: SignalOutput): never {
  const message = `exited at once on a second ${sig}: the requests in flight were not waited for; the journal is safe — run the same command again to resume`;
  const say = (fd: number, line: string) => {
    try {
      writeSync(fd, line + '\n');
    } catch {
      // a closed pipe or a hung-up terminal: nobody to tell, the exit code still says it
    }
  };
  // on a terminal, over the progress line rather than after it
  say(2, `${process.stderr.isTTY ? '\r\x1b[2K' : ''}${message}`);
  if (out.json() && !out.outWritten())
    say(1, JSON.stringify({ exit_code: EXIT.STOPPED, error: { code: 'INTERRUPTED', message } }));
  process.exit(EXIT.STOPPED);
}
