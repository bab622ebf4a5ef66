/**
 * Masking of secrets in text that came from the API or is about to be shown or stored
 * (SPEC §5 additions, "The key is never persisted"; §7 "The API key never appears anywhere").
 *
 * An API may echo the `Authorization` header in an error message; a proxy may quote the
 * request. Every such text passes `mask()` before it reaches the journal, a CSV, a log or the
 * terminal. The key is registered once (trimmed: a key read from a file or an environment
 * variable often carries a trailing newline, and it is the trimmed key that is sent and so
 * echoed); any `Bearer <token>` is masked whatever the token.
 */

const secrets = new Set<string>();

/** What a masked secret is replaced with. */
export const MASK = '***';

/**
 * Registers a secret (trimmed) so that `mask` hides it from now on. Secrets shorter than 6
 * characters are not registered: masking them would mangle ordinary words and ids.
 */
export function addSecret(secret: string | undefined | null): void {
  const s = secret?.trim();
  if (s && s.length >= 6) secrets.add(s);
}

/** `text` with every registered secret and every `Bearer <token>` replaced by `***`. */
export function mask(text: string): string {
  let out = text;
  // registered keys first: a key may hold characters a Bearer token cannot
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(MASK);
  // the token is RFC 6750's b64token, so "(Bearer abc)" keeps its ")"
  return out.replace(/(bearer\s+)[A-Za-z0-9\-._~+/]+=*/gi, `$1${MASK}`);
}

/** `mask` for optional values. */
export function maskOpt<T extends string | null | undefined>(text: T): T {
  return (typeof text === 'string' ? mask(text) : text) as T;
}

/** A Redis (or any) URL with its password (and user) replaced, for messages. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = MASK;
    return u.toString();
  } catch {
    // not a URL: show at most the scheme, never what could be a password
    const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0];
    return scheme ? `${scheme}//…` : '(unreadable URL)';
  }
}
