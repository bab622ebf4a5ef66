/**
 * How a run reports why it stopped (SPEC §5, §5 additions): which of several stop reasons
 * wins, and the one warning per undocumented status word.
 */
import type { ErrorCode } from '../errors.js';
import type { JobEvents } from './events.js';
import { unknownWordText } from './submit.js';

/** Which stop reason wins when several happen: the one needing the user most. */
const STOP_RANK: Partial<Record<ErrorCode, number>> = {
  API_UNAUTHORIZED: 6,
  API_UNREADABLE: 5,
  API_ERROR: 4,
  API_UNREACHABLE: 4,
  INTERRUPTED: 3,
  RATE_LIMITED: 2,
  INSUFFICIENT_BALANCE: 2,
  POLL_TIMEOUT: 1,
};

/** True when stop reason `code` should replace `current` as the one the run reports. */
export function outranks(code: ErrorCode, current: ErrorCode): boolean {
  return (STOP_RANK[code] ?? 0) > (STOP_RANK[current] ?? 0);
}

/** A warning per status word nobody documented, once per word (SPEC §5 additions, "Status words"). */
export function warnOncePerWord(events: JobEvents): (word: string) => void {
  const warned = new Set<string>();
  return (word) => {
    if (warned.has(word.toLowerCase())) return;
    warned.add(word.toLowerCase());
    events.emit('warning', {
      message: `${unknownWordText(word)}; such rows stay processing (see their error_message)`,
    });
  };
}
