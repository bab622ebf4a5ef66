/**
 * The status words a transaction can carry and what each makes of its row (SPEC "§5
 * additions", "Status words"; docs/api.md, "Which status words exist"): one synonym table,
 * read case-insensitively, used by the POST outcome (outcome.ts) and the poller alike.
 */

/** What a row's status becomes from a transaction's status word. */
export type RowOutcome = 'completed' | 'failed' | 'processing';

export interface StatusReading {
  outcome: RowOutcome;
  /** the word as the API sent it */
  word: string;
  /** false for a word not in the synonym table (the row stays processing; it is shown and warned about) */
  known: boolean;
}

/** SPEC §5 additions, "Status words": synonyms, read case-insensitively. */
const STATUS_WORDS: Record<string, RowOutcome> = Object.fromEntries([
  ...['completed', 'success', 'successful', 'succeeded', 'complete', 'done'].map((w) => [
    w,
    'completed' as const,
  ]),
  ...[
    'failed',
    'failure',
    'declined',
    'rejected',
    'cancelled',
    'canceled',
    'expired',
    'refunded',
    'reversed',
    'error',
  ].map((w) => [w, 'failed' as const]),
  ...['processing', 'pending', 'queued', 'initiated', 'in_progress', 'submitted'].map((w) => [
    w,
    'processing' as const,
  ]),
]);

/**
 * What a status word means for its row; an empty, missing or unknown word keeps the row
 * `processing` (`known: false`, so it is shown and warned about). Never throws.
 */
export function readStatusWord(word: string | undefined | null): StatusReading {
  const w = (word ?? '').trim();
  const outcome = STATUS_WORDS[w.toLowerCase()];
  return outcome ? { outcome, word: w, known: true } : { outcome: 'processing', word: w, known: false };
}
