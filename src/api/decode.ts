/**
 * Undoing what HTTP allows an answer to carry (SPEC §5 additions, "Answers are decoded as HTTP
 * allows"): `Content-Encoding` gzip, deflate (zlib or raw) and br, also when not asked for, and
 * a UTF-8 BOM. A gzip body without the header (a proxy that dropped it) is recognised by its
 * magic bytes: JSON never starts with 0x1f 0x8b.
 *
 * Why not undici's `interceptors.decompress`: in undici 7 it prints an ExperimentalWarning on
 * stderr and skips error answers by default; answers here are small and read whole anyway.
 */
import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import type { Answer } from './outcome.js';

/** A decoded answer bigger than this is refused (a decompression bomb is not an answer). */
const MAX_DECODED_BYTES = 16 * 1024 * 1024;

/** An answer's bytes decoded, and parsed when they are JSON. */
export function readAnswer(status: number, headers: Record<string, string>, raw: Buffer): Answer {
  const { text, undecodable } = decodeBody(raw, headers['content-encoding']);
  let body: unknown = undefined;
  if (text.trim().length > 0) {
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  }
  return { status, headers, text, body, ...(undecodable ? { undecodable } : {}) };
}

export interface Decoded {
  text: string;
  /** why the bytes could not be decoded, if they could not */
  undecodable?: string;
}

export function decodeBody(raw: Buffer, contentEncoding: string | undefined): Decoded {
  let bytes = raw;
  const encodings = (contentEncoding ?? '')
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e && e !== 'identity');
  try {
    // applied in order, so undone in reverse
    for (const enc of encodings.reverse()) bytes = undo(enc, bytes);
    if (encodings.length === 0 && bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b)
      bytes = undo('gzip', bytes);
  } catch (err) {
    return {
      text: '',
      undecodable: `the answer's ${contentEncoding ?? 'gzip'} encoding could not be undone (${(err as Error).message})`,
    };
  }
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return { text };
}

function undo(encoding: string, bytes: Buffer): Buffer {
  const opts = { maxOutputLength: MAX_DECODED_BYTES };
  switch (encoding) {
    case 'gzip':
    case 'x-gzip':
      return gunzipSync(bytes, opts);
    case 'br':
      return brotliDecompressSync(bytes, opts);
    case 'deflate':
      // RFC 9110 says zlib-wrapped; some servers send raw deflate
      try {
        return inflateSync(bytes, opts);
      } catch {
        return inflateRawSync(bytes, opts);
      }
    default:
      throw new Error(`unsupported content-encoding "${encoding}"`);
  }
}
