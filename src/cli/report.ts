/** `report <job>` (SPEC §2, §4, §5a): (re)write the results, failed and unknown CSVs from the checkpoint. */
import { snapshot } from '../job/job.js';
import { staleSkips, type StaleSkips } from '../job/recheck.js';
import { count, noun } from '../util/words.js';
import { checkAccount } from '../job/run.js';
import { accountId } from '../api/account.js';
import { jobOutputs, refuseInputAsOutput, writeResults } from '../report/results.js';
import { COMMON, jobPositional, type Command } from './command.js';
import { EXIT } from '../exit.js';
import { resolveJob } from './target.js';

/**
 * Rewrites the job's CSVs where the job remembers them (or at `--out`). An input that changed
 * or is gone is not paired with the job's verdicts: the files come from the job's own record,
 * and a warning says so (exit 0: the report was written). The files show the journal (the
 * job's truth); skipped rows whose earlier payment has since completed or failed (SPEC §5a) are
 * only told about, read-only from the registry, with `resume` as the way to record them.
 */
export const report: Command<{ job: string }> = {
  command: 'report <job>',
  describe:
    '(re)write the results CSV, the failed CSV and (when rows are unknown) the unknown CSV from the checkpoint',
  uses: ['state-dir', 'out', 'bom', 'json', 'api-key', 'base-url', ...COMMON],
  builder: jobPositional,
  async run(a, options, { io }) {
    const job = await resolveJob(a.job, options.stateDir, 'report');
    const s = await snapshot(options.stateDir, job);
    // report needs no key; when one is given, it must be the job's account (SPEC §5a)
    if (options.apiKey) checkAccount(s.meta, accountId(options.baseUrl, options.apiKey));
    const outputs = jobOutputs(s.meta, options.out);
    await refuseInputAsOutput(s.meta.input.path, outputs);
    const written = await writeResults(s.meta, s.rows, outputs, { bom: options.bom, jobDir: s.paths.dir });
    const stale = await staleSkips(options.stateDir, s.meta.account, s.rows, s.startedAt);
    if (options.json) {
      const { results, failed, unknown, inputChanged } = written;
      io.out(
        JSON.stringify({
          job,
          counts: s.tally.counts,
          amounts: s.tally.amounts,
          results,
          failed,
          unknown,
          input_changed: inputChanged,
          warnings: written.warnings ?? [],
          recheck: { paid: stale?.paid ?? 0, unpaid: stale?.unpaid ?? 0 },
          exit_code: EXIT.OK,
        }),
      );
    } else {
      io.out(`results: ${written.results}`);
      if (written.failed) io.out(`failed rows, to fix and feed back: ${written.failed}`);
      if (written.unknown)
        io.out(`unknown rows, to check with the API (never feed them back): ${written.unknown}`);
      for (const line of staleLines(job, stale)) io.out(line);
    }
    if (written.inputChanged) io.err(`warning: ${written.inputChanged}`);
    for (const w of written.warnings ?? []) io.err(`warning: ${w}`);
    return EXIT.OK;
  },
};

/** What a resume would change in the skipped rows (recheck.ts); one line each. */
function staleLines(job: string, stale: StaleSkips | null): string[] {
  const resume = `\`recharge-batch resume ${job}\``;
  const lines: string[] = [];
  if (stale?.paid)
    lines.push(
      `${count(stale.paid, 'skipped row')}: the earlier payment has since completed — run ${resume} to record ${noun(stale.paid, 'it', 'them')}`,
    );
  if (stale?.unpaid)
    lines.push(
      `${count(stale.unpaid, 'skipped row')}: the earlier payment failed or was never sent, so nobody has paid ${noun(stale.unpaid, 'it', 'them')} — run ${resume} to pay ${noun(stale.unpaid, 'it', 'them')}`,
    );
  return lines;
}
