/** `jobs` (SPEC §2): the jobs in the state dir with their status. */
import { listJobs, snapshot } from '../job/job.js';
import { lockHolder } from '../job/lock.js';
import { count, group } from '../util/words.js';
import { COMMON, type Command } from './command.js';
import { EXIT } from '../exit.js';
import { time } from './status.js';

export const jobs: Command = {
  command: 'jobs',
  describe: 'list the jobs in the state dir with their status',
  uses: ['state-dir', 'json', ...COMMON],
  async run(_a, options, { io }) {
    const { stateDir } = options;
    const metas = await listJobs(stateDir);
    const rows = [];
    for (const m of metas) {
      const s = await snapshot(stateDir, m.job);
      rows.push({
        job: m.job,
        state: s.finished ? 'finished' : (await lockHolder(s.paths.dir)) ? 'running' : 'stopped',
        input: m.input.path,
        rows: m.rows,
        counts: s.tally.counts,
        updated_at: s.updatedAt === null ? null : time(s.updatedAt),
      });
    }
    if (options.json) {
      io.out(JSON.stringify({ jobs: rows, exit_code: EXIT.OK }));
      return EXIT.OK;
    }
    if (rows.length === 0) {
      io.out(`no jobs in ${stateDir} (start one with \`recharge-batch run FILE.csv\`)`);
      return EXIT.OK;
    }
    for (const r of rows) {
      const c = r.counts;
      io.out(
        `${r.job}  ${r.state.padEnd(8)}  ${count(r.rows, 'row')}: completed ${group(c.completed)}, failed ${group(c.failed)}, unknown ${group(c.unknown)}, invalid ${group(c.invalid)}, skipped ${group(c.skipped)}, processing ${group(c.processing)}, pending ${group(c.pending)}  (${r.input})`,
      );
    }
    return EXIT.OK;
  },
};
