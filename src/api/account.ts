/**
 * Which account a job belongs to (SPEC §5a): `sha256(normalized base URL + "\n" + API key)`,
 * first 16 hex. A sandbox rehearsal and the real run differ in base URL, so they are different
 * accounts: their jobs and registries never mix. The key itself is never stored, only this
 * one-way digest of it.
 */
import { createHash } from 'node:crypto';
import { BatchError } from '../errors.js';

/**
 * The base URL as the account identity reads it: scheme and host lowercased, the default port
 * dropped (both by WHATWG URL parsing), no trailing slash, no query or fragment.
 * `https://PRO.alsamiflexi.com:443/api/v1/` → `https://pro.alsamiflexi.com/api/v1`.
 * Throws BatchError USAGE on text that is not a URL.
 */
export function normalizeBaseUrl(baseUrl: string): string {
  let u: URL;
  try {
    u = new URL(baseUrl.trim());
  } catch {
    throw new BatchError('USAGE', `invalid base URL "${baseUrl}"`);
  }
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}

/** 16 lowercase hex digits; the key is trimmed first, as the CLI does before sending it. */
export function accountId(baseUrl: string, apiKey: string): string {
  return createHash('sha256')
    .update(`${normalizeBaseUrl(baseUrl)}\n${apiKey.trim()}`)
    .digest('hex')
    .slice(0, 16);
}
