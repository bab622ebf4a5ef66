/** Figures shown to the operator about a job in progress. */
import type { RowStatus } from '../job/rows.js';

/**
 * Seconds until the job should be done at the limiter's pace: each pending row costs a POST
 * and about one poll, each processing row a poll, and the last ones wait the poll delay.
 */
export function etaSeconds(
  counts: Pick<Record<RowStatus, number>, 'pending' | 'processing'>,
  intervalMs: number,
  pollAfterMs: number,
): number {
  const { pending, processing } = counts;
  if (pending + processing === 0) return 0;
  return Math.ceil(((pending * 2 + processing) * intervalMs + pollAfterMs) / 1000);
}
