/**
 * Which account a job belongs to (SPEC §5a): `sha256(normalized base URL + "\n" + API key)`,
 * first 16 hex. A sandbox rehearsal and the real run differ in base URL, so they are different
 * accounts: their jobs and registries never mix. The key itself is never stored, only this
 * one-way digest of it.
 */
import { createHash } from 'node:crypto';
import { BatchError } from '../errors.js';

const LOOPBACK =
  /^(localhost|127(\.\d{1,3}){3}|\[::1\]|\[::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}\]|\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\])$/i;

/**
 * The base URL as the account identity reads it: scheme and host lowercased, the default port
 * dropped (both by WHATWG URL parsing), no trailing slash, no query or fragment.
 * `https://PRO.alsamiflexi.com:443/api/v1/` → `https://pro.alsamiflexi.com/api/v1`.
 * The names of this machine's own loopback (`localhost`, `[::1]`, `[::ffff:127.0.0.1]`, any
 * 127.x) read as `127.0.0.1`: they reach the same server, and a rehearsal re-run under another
 * spelling must not look like another account with an empty registry.
 * Throws BatchError USAGE on text that is not a URL.
 */
export function normalizeBaseUrl(baseUrl: string): string {
  let u: URL;
  try {
    u = new URL(baseUrl.trim());
  } catch {
    throw new BatchError('USAGE', `invalid base URL "${baseUrl}"`);
  }
  if (LOOPBACK.test(u.hostname)) u.hostname = '127.0.0.1';
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}

/** 16 lowercase hex digits; the key is trimmed first, as the CLI does before sending it. */
export function accountId(baseUrl: string, apiKey: string): string {
  return createHash('sha256')
    .update(`${normalizeBaseUrl(baseUrl)}\n${apiKey.trim()}`)
    .digest('hex')
    .slice(0, 16);
}
