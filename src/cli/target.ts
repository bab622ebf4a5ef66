/**
 * A job named the way a clerk names it: by its job name (`allowance-3f9a1c2e`) or by the CSV
 * it was made from (`status allowance.csv`). The file is matched by path, then by content (it
 * moved), then by file name alone; more than one job for it is an error listing them, so a
 * command never picks one of several jobs by guess.
 */
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { BatchError } from '../errors.js';
import { hashFile, jobPaths, listJobs, readMeta, type JobMeta } from '../job/job.js';

const looksLikeJobName = (s: string) => /^[\w.@+-]{1,128}$/.test(s) && !s.startsWith('.');

/** The job `target` names in `stateDir`. Throws JOB_NOT_FOUND (none) or USAGE (several), both exit 2. */
export async function resolveJob(target: string, stateDir: string, command = 'status'): Promise<string> {
  if (looksLikeJobName(target) && (await readMeta(jobPaths(stateDir, target)).catch(() => null)))
    return target;
  const metas = await listJobs(stateDir);
  const abs = resolve(target);
  let matches = metas.filter((m) => m.input.path === abs);
  if (
    matches.length === 0 &&
    (await stat(abs)
      .then((s) => s.isFile())
      .catch(() => false))
  ) {
    const { hash } = await hashFile(abs);
    matches = metas.filter((m) => m.input.hash === hash);
  }
  if (matches.length === 0 && !target.includes('/'))
    matches = metas.filter((m) => basename(m.input.path) === target);
  if (matches.length === 1) return matches[0]!.job;
  if (matches.length > 1) {
    matches.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    throw new BatchError(
      'USAGE',
      `${target} has ${matches.length} jobs: ${matches.map(describe).join('; ')} — name one of them, e.g. \`recharge-batch ${command} ${matches.at(-1)!.job}\``,
      { jobs: matches.map((m) => m.job) },
    );
  }
  throw new BatchError(
    'JOB_NOT_FOUND',
    `no job named ${target}, and none made from a file of that name, in ${resolve(stateDir)}: see \`recharge-batch jobs\` (or give the right --state-dir)`,
    {
      job: target,
    },
  );
}

function describe(m: JobMeta): string {
  return `${m.job} (${m.input.path}, created ${m.createdAt})`;
}
