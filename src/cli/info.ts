/** `status`, `jobs`, `report`, `balance`, `operators`: read and print. */
import { listJobs, snapshot, type JobSnapshot } from '../job/job.js';
import { ROW_STATUSES } from '../job/rows.js';
import { jobOutputs, refuseInputAsOutput, writeResults } from '../report/results.js';
import { durationOption, resolveRate } from '../config.js';
import { etaSeconds } from '../report/summary.js';
import { apiContext, type Io, type Options } from './context.js';
import { EXIT } from './exit.js';
import { lockHolder } from '../job/lock.js';
import { checkAccount } from '../job/run.js';
import { accountId } from '../api/account.js';
import { bdt, count } from '../util/words.js';
import { fmtDuration } from '../report/progress.js';

const time = (t: number | null) => (t === null ? '-' : new Date(t).toISOString());

/** ETA at the pace this command's options set (the starter plan's if they name none usable). */
function eta(s: JobSnapshot, options: Options): number {
  let interval = 1000;
  try {
    const rate = resolveRate(options.plan, options['rate-limit']);
    interval = rate.windowMs / rate.limit;
  } catch {
    // no usable plan: fall back to the starter pace
  }
  return etaSeconds(s.tally.counts, interval, durationOption(options, 'poll-after'));
}

export async function statusCommand(job: string, options: Options, io: Io): Promise<number> {
  const s = await snapshot(String(options['state-dir']), job);
  const etaS = s.finished ? 0 : eta(s, options);
  const running = await lockHolder(s.paths.dir);
  const state = s.finished ? 'finished' : running ? `running (pid ${running})` : 'stopped (resumable)';
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
      }),
    );
    return EXIT.OK;
  }
  io.out(`job ${s.meta.job}: ${state}`);
  io.out(
    `  input: ${s.meta.input.path} (${count(s.meta.rows, 'row')}, sha256 ${s.meta.input.hash.slice(0, 12)}…)`,
  );
  io.out(`  created ${s.meta.createdAt}, started ${time(s.startedAt)}, updated ${time(s.updatedAt)}`);
  for (const st of ROW_STATUSES) {
    const n = s.tally.counts[st];
    if (n > 0)
      io.out(`  ${st.padEnd(10)} ${String(n).padStart(7)}  ${bdt(s.tally.amounts[st]).padStart(14)}`);
  }
  if (!s.finished)
    io.out(
      `  ETA about ${fmtDuration(etaS)} at the configured rate${running ? '' : ` once resumed: \`recharge-batch resume ${s.meta.job}\``}`,
    );
  return EXIT.OK;
}

export async function jobsCommand(options: Options, io: Io): Promise<number> {
  const stateDir = String(options['state-dir']);
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
    io.out(JSON.stringify({ jobs: rows }));
    return EXIT.OK;
  }
  if (rows.length === 0) {
    io.out(`no jobs in ${stateDir} (start one with \`recharge-batch run FILE.csv\`)`);
    return EXIT.OK;
  }
  for (const r of rows) {
    const c = r.counts;
    io.out(
      `${r.job}  ${r.state.padEnd(8)}  ${count(r.rows, 'row')}: completed ${c.completed}, failed ${c.failed}, unknown ${c.unknown}, invalid ${c.invalid}, skipped ${c.skipped}, processing ${c.processing}, pending ${c.pending}  (${r.input})`,
    );
  }
  return EXIT.OK;
}

/**
 * `report <job>` (SPEC §4, §5a): rewrites the job's CSVs where the job remembers them (or at
 * `--out`). An input that changed or is gone is not paired with the job's verdicts: the files
 * come from the job's own record, and a warning says so (exit 0: the report was written).
 */
export async function reportCommand(job: string, options: Options, io: Io): Promise<number> {
  const s = await snapshot(String(options['state-dir']), job);
  // report needs no key; when one is given, it must be the job's account (SPEC §5a)
  const key = options['api-key'];
  if (typeof key === 'string' && key.trim())
    checkAccount(s.meta, accountId(String(options['base-url']), key));
  const outputs = jobOutputs(s.meta, options.out ? String(options.out) : undefined);
  await refuseInputAsOutput(s.meta.input.path, outputs);
  const written = await writeResults(s.meta, s.rows, outputs, { bom: options.bom !== false });
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
      }),
    );
  } else {
    io.out(`results: ${written.results}`);
    io.out(`failed rows, to fix and feed back: ${written.failed}`);
    if (written.unknown)
      io.out(`unknown rows, to check with the API (never feed them back): ${written.unknown}`);
  }
  if (written.inputChanged) io.err(`warning: ${written.inputChanged}`);
  return EXIT.OK;
}

export async function balanceCommand(options: Options, io: Io): Promise<number> {
  const ctx = apiContext(options);
  try {
    const b = await ctx.client.getBalance();
    io.out(options.json ? JSON.stringify(b) : `balance: ${bdt(b.balance, b.currency)}`);
  } finally {
    await ctx.close();
  }
  return EXIT.OK;
}

export async function operatorsCommand(options: Options, io: Io): Promise<number> {
  const ctx = apiContext(options);
  try {
    const ops = await ctx.client.getOperators();
    if (options.json) {
      io.out(JSON.stringify(ops));
    } else {
      const w = Math.max(4, ...ops.map((o) => o.name.length));
      io.out(`${'id'.padEnd(4)} ${'name'.padEnd(w)} ${'code'.padEnd(8)} range (BDT)`);
      for (const o of ops)
        io.out(
          `${String(o.id).padEnd(4)} ${o.name.padEnd(w)} ${o.code.padEnd(8)} ${o.min_amount}–${o.max_amount}`,
        );
    }
  } finally {
    await ctx.close();
  }
  return EXIT.OK;
}
