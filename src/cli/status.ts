/** `status <job>` (SPEC §2): counts and amounts by status, times, ETA. */
import { snapshot, type JobSnapshot } from '../job/job.js';
import { ROW_STATUSES } from '../job/rows.js';
import { lockHolder } from '../job/lock.js';
import { etaSeconds } from '../report/summary.js';
import { fmtDuration } from '../report/progress.js';
import { planRate, type ResolvedOptions } from '../config.js';
import { bdt, count } from '../util/words.js';
import { COMMON, jobPositional, type Command } from './command.js';
import { EXIT } from '../exit.js';
import { resolveJob } from './target.js';
import { unsettledSkips } from '../job/recheck.js';

export const time = (t: number | null) => (t === null ? '-' : new Date(t).toISOString());

/**
 * ETA in seconds at the pace the job last ran at (job.json `pace`); for a job made before that
 * was recorded, at the pace the options set (the starter plan's if they name none usable).
 */
function eta(s: JobSnapshot, options: ResolvedOptions): number {
  if (s.meta.pace) return etaSeconds(s.tally.counts, s.meta.pace.intervalMs, s.meta.pace.pollAfterMs);
  let interval = 1000;
  try {
    const rate = planRate(options);
    interval = rate.windowMs / rate.limit;
  } catch {
    // --plan enterprise without --rate-limit: fall back to the starter pace
  }
  return etaSeconds(s.tally.counts, interval, options.pollAfterMs);
}

export const status: Command<{ job: string }> = {
  command: 'status <job>',
  describe: 'counts and amounts by status, times, ETA',
  uses: ['state-dir', 'plan', 'rate-limit', 'poll-after', 'json', ...COMMON],
  builder: jobPositional,
  async run(a, options, { io }) {
    const job = await resolveJob(a.job, options.stateDir);
    const s = await snapshot(options.stateDir, job);
    const etaS = s.finished ? 0 : eta(s, options);
    const running = await lockHolder(s.paths.dir);
    const state = s.finished ? 'finished' : running ? `running (pid ${running})` : 'stopped (resumable)';
    // skipped rows whose earlier payment was not known to be completed: a manual check, or a resume
    let unsettled = 0;
    if (s.tally.counts.skipped > 0) for (const _ of unsettledSkips(s.rows)) unsettled++;
    if (options.json) {
      io.out(
        JSON.stringify({
          job: s.meta.job,
          state: s.finished ? 'finished' : running ? 'running' : 'stopped',
          input: s.meta.input.path,
          counts: s.tally.counts,
          amounts: s.tally.amounts,
          created_at: s.meta.createdAt,
          started_at: s.startedAt === null ? null : time(s.startedAt),
          updated_at: s.updatedAt === null ? null : time(s.updatedAt),
          eta_seconds: etaS,
          // SPEC §5a: skipped rows not known to be paid (MAYBE_PAID, or the earlier payment still open)
          unsettled_skipped: unsettled,
          // why the last run ended before the job finished; null when it did not, or was killed
          stop: running ? null : (s.meta.stop ?? null),
          exit_code: EXIT.OK,
        }),
      );
      return EXIT.OK;
    }
    io.out(`job ${s.meta.job}: ${state}`);
    io.out(
      `  input: ${s.meta.input.path} (${count(s.meta.rows, 'row')}, sha256 ${s.meta.input.hash.slice(0, 12)}…)`,
    );
    io.out(`  created ${s.meta.createdAt}, started ${time(s.startedAt)}, updated ${time(s.updatedAt)}`);
    if (s.meta.stop && !running)
      io.out(`  last run stopped at ${s.meta.stop.at}: ${s.meta.stop.message} [${s.meta.stop.code}]`);
    for (const st of ROW_STATUSES) {
      const n = s.tally.counts[st];
      if (n > 0)
        io.out(`  ${st.padEnd(10)} ${String(n).padStart(7)}  ${bdt(s.tally.amounts[st]).padStart(14)}`);
    }
    if (unsettled > 0)
      io.out(
        `  ${count(unsettled, 'skipped row is', 'skipped rows are')} not known to be paid (another job's payment of the same number and amount had no final answer): \`recharge-batch resume ${s.meta.job}\` looks ${unsettled === 1 ? 'it' : 'them'} up again once that job has finished`,
      );
    if (!s.finished)
      io.out(
        `  ETA about ${fmtDuration(etaS)} at the ${s.meta.pace ? 'rate it last ran at' : 'configured rate'}${running ? '' : ` once resumed: \`recharge-batch resume ${s.meta.job}\``}`,
      );
    return EXIT.OK;
  },
};
