/** Whether an API key can be sent at all (API doc "Authentication": `Authorization: Bearer <key>`). */
import { BatchError } from '../errors.js';

/** Names of the characters a pasted key most often carries by mistake. */
const NAMES: Record<string, string> = {
  '\n': 'a line break',
  '\r': 'a carriage return',
  '\t': 'a tab',
  '\0': 'a NUL byte',
};

/**
 * Refuses a key holding a character an HTTP header cannot carry (a control character, e.g. a
 * newline pasted into the variable, or one beyond Latin-1): such a request is never sent, and
 * the failure would otherwise read as "cannot reach the API". The message gives the character's
 * kind and position (1-based, in the key as trimmed), never the key or any part of it.
 * @param key the key as it will be sent (trimmed)
 * @throws BatchError USAGE (exit 2), before anything is sent
 */
export function checkSendableKey(key: string): void {
  // C0 controls, DEL, and anything a Latin-1 header value cannot hold
  const at = [...key].findIndex((ch) => {
    const cp = ch.codePointAt(0)!;
    return cp < 0x20 || cp === 0x7f || cp > 0xff;
  });
  if (at < 0) return;
  const ch = [...key][at]!;
  const cp = ch.codePointAt(0)!;
  const what = NAMES[ch] ?? `the character U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  throw new BatchError(
    'USAGE',
    `the API key contains a character that cannot be sent (${what} at character ${at + 1} of ${[...key].length}); set ALSAMIFLEXI_API_KEY again without it — nothing was sent`,
  );
}
