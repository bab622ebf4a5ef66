/**
 * What a CSV file is before it is parsed (SPEC §3): not empty, not binary (an .xlsx renamed,
 * a PNG, NUL bytes), UTF-8 or UTF-16 with a byte-order mark; and the stream check that keeps
 * every later chunk honest. Each problem is one FILE_* error naming the line.
 */
import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { BatchError } from '../errors.js';

export type Encoding = 'utf-8' | 'utf-16le' | 'utf-16be';

export const CHUNK = 64 * 1024;
const SAVE_AS = 'open it in Excel and use Save As → "CSV UTF-8 (Comma delimited)"';

/**
 * Refuses (FILE_UNREADABLE, exit 2) anything but a regular file, before it is opened: a FIFO
 * would block the open (and then every signal), `/dev/zero` or a symlink to it would be read
 * for ever (SPEC §3a "Not a file"). Symlinks are followed: a link to a regular file is fine.
 * Returns the file's size in bytes.
 */
export async function assertRegularFile(path: string): Promise<number> {
  try {
    const st = await stat(path);
    if (st.isFile()) return st.size;
    const what = st.isDirectory()
      ? 'a directory'
      : st.isFIFO()
        ? 'a named pipe (FIFO)'
        : st.isCharacterDevice() || st.isBlockDevice()
          ? 'a device'
          : st.isSocket()
            ? 'a socket'
            : 'not a regular file';
    throw new BatchError(
      'FILE_UNREADABLE',
      `${path} is ${what}, not a CSV file; save the data to a file and give that`,
      { path },
    );
  } catch (err) {
    throw fsError(err, path);
  }
}

/** The first chunk of the file; stat/open problems become FILE_* errors. */
export async function readHead(path: string): Promise<Buffer> {
  const size = await assertRegularFile(path);
  if (size === 0) throw new BatchError('FILE_EMPTY', `${path} is empty (0 bytes)`, { path });
  try {
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(Math.min(CHUNK, size));
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw fsError(err, path);
  }
}

const MAGIC: [number[], string][] = [
  [[0x50, 0x4b, 0x03, 0x04], 'a zip archive — most likely an Excel workbook (.xlsx) renamed to .csv'],
  [[0x50, 0x4b, 0x05, 0x06], 'an empty zip archive'],
  [[0xd0, 0xcf, 0x11, 0xe0], 'an old Excel workbook (.xls), not a CSV file'],
  [[0x25, 0x50, 0x44, 0x46], 'a PDF document, not a CSV file'],
  [[0x89, 0x50, 0x4e, 0x47], 'a PNG image, not a CSV file'],
  [[0xff, 0xd8, 0xff], 'a JPEG image, not a CSV file'],
  [[0x47, 0x49, 0x46, 0x38], 'a GIF image, not a CSV file'],
  [[0x1f, 0x8b], 'a gzip archive, not a CSV file'],
];

export function sniff(path: string, head: Buffer): Encoding {
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  if (head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  for (const [magic, what] of MAGIC) {
    if (magic.every((b, i) => head[i] === b)) {
      throw new BatchError('FILE_BINARY', `${path} is ${what}; ${SAVE_AS}`, { path });
    }
  }
  const nul = head.indexOf(0);
  if (nul !== -1) {
    // UTF-16 without a BOM: ASCII text with a NUL in every other byte.
    const nuls = [0, 0];
    for (let i = 0; i < head.length; i++) if (head[i] === 0) nuls[i % 2]!++;
    const [even, odd] = nuls as [number, number];
    if (Math.max(even, odd) > head.length / 4 && Math.min(even, odd) === 0) {
      throw new BatchError(
        'FILE_ENCODING',
        `${path} looks like UTF-16 text without a byte-order mark; ${SAVE_AS}`,
        { path },
      );
    }
    throw binaryError(path, 1 + countNewlines(head.subarray(0, nul)));
  }
  return 'utf-8';
}

export function decode(head: Buffer, encoding: Encoding): string {
  return encoding === 'utf-8' ? head.toString('utf8') : new TextDecoder(encoding).decode(head);
}

export function countNewlines(data: Buffer | string): number {
  let n = 0;
  let i = -1;
  // searching a Buffer for the byte 10 is much faster than for the string '\n'
  if (typeof data === 'string') while ((i = data.indexOf('\n', i + 1)) !== -1) n++;
  else while ((i = data.indexOf(10, i + 1)) !== -1) n++;
  return n;
}

/**
 * Checks every chunk before csv-parse sees it: no NUL bytes, valid UTF-8 (a character cut
 * between two chunks is carried over). UTF-16 is decoded and passed on as UTF-8.
 */
export function checkStream(path: string, encoding: Encoding): Transform {
  let lines = 1; // file line at the start of the current chunk
  let carry: Buffer | null = null;
  const decoder = encoding === 'utf-8' ? null : new TextDecoder(encoding);
  const checkText = (text: string) => {
    const nul = text.indexOf('\0');
    if (nul !== -1) throw binaryError(path, lines + countNewlines(text.slice(0, nul)));
    lines += countNewlines(text);
  };
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      try {
        if (decoder) {
          const text = decoder.decode(chunk, { stream: true });
          checkText(text);
          return done(null, Buffer.from(text, 'utf8'));
        }
        const nul = chunk.indexOf(0);
        if (nul !== -1) throw binaryError(path, lines + countNewlines(chunk.subarray(0, nul)));
        const data: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
        const tail = incompleteTail(data);
        const body = tail ? data.subarray(0, data.length - tail) : data;
        if (!isUtf8(body)) {
          const text = body.toString('utf8');
          throw encodingError(path, lines + countNewlines(text.slice(0, text.indexOf('\uFFFD'))));
        }
        carry = tail ? Buffer.from(data.subarray(data.length - tail)) : null;
        lines += countNewlines(chunk);
        done(null, chunk);
      } catch (err) {
        done(err as Error);
      }
    },
    flush(done) {
      if (carry) return done(encodingError(path, lines));
      if (!decoder) return done();
      try {
        const text = decoder.decode();
        checkText(text);
        done(null, text ? Buffer.from(text, 'utf8') : undefined);
      } catch (err) {
        done(err as Error);
      }
    },
  });
}

/** Bytes at the end of `buf` that start a UTF-8 character the chunk does not finish. */
function incompleteTail(buf: Buffer): number {
  for (let i = buf.length - 1; i >= 0 && i >= buf.length - 4; i--) {
    const b = buf[i]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: look further back
    if (b < 0xc0) return 0;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    return buf.length - i < need ? buf.length - i : 0;
  }
  return 0;
}

/** Every line ending ends a record (SPEC §3a: CRLF, LF and CR may be mixed); CRLF first, so it counts once. */
export const ANY_LINE_ENDING = ['\r\n', '\n', '\r'];

/**
 * The record delimiters csv-parse needs for this file, from a byte scan (memchr, no parsing):
 * `\n` when the file holds no CR, `\r\n` when every CR and every LF pair up, else all three.
 * One delimiter instead of three saves csv-parse a comparison per byte, about a tenth of the
 * time of a million-row validation; mixed files still get all three. UTF-16 files (decoded on
 * the way) always get all three.
 */
export async function recordDelimiters(
  path: string,
  encoding: Encoding,
  signal?: AbortSignal,
): Promise<string[]> {
  if (encoding !== 'utf-8') return ANY_LINE_ENDING;
  let cr = 0;
  let lf = 0;
  let crlf = 0;
  let pendingCr = false; // the chunk ended on a CR: is the next byte an LF?
  let bareLf = false; // an LF seen while there was no CR yet
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: CHUNK }) as AsyncIterable<Buffer>) {
      signal?.throwIfAborted();
      if (cr === 0) {
        const first = chunk.indexOf(13);
        if (first === -1) {
          bareLf ||= chunk.indexOf(10) !== -1; // the usual LF-only file costs two memchr per chunk
          continue;
        }
        if (bareLf || (first > 0 && chunk.lastIndexOf(10, first) !== -1)) return ANY_LINE_ENDING;
      }
      if (pendingCr && chunk[0] === 10) crlf++;
      pendingCr = false;
      for (let i = chunk.indexOf(13); i !== -1; i = chunk.indexOf(13, i + 1)) {
        cr++;
        if (i + 1 === chunk.length) pendingCr = true;
        else if (chunk[i + 1] === 10) crlf++;
      }
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lf++;
      if (cr - crlf - (pendingCr ? 1 : 0) > 0 || lf > crlf) return ANY_LINE_ENDING; // a lone CR, or a lone LF next to CRLF
    }
  } catch (err) {
    throw fsError(err, path);
  }
  if (cr === 0) return ['\n'];
  return cr === crlf && lf === crlf ? ['\r\n'] : ANY_LINE_ENDING;
}

const binaryError = (path: string, line: number) =>
  new BatchError('FILE_BINARY', `${path} is not a text file (line ${line} holds a NUL byte); ${SAVE_AS}`, {
    path,
    line,
  });

const encodingError = (path: string, line: number) =>
  new BatchError(
    'FILE_ENCODING',
    `${path} is not UTF-8 text (line ${line} holds bytes that are not UTF-8, perhaps a Windows code page); ${SAVE_AS}`,
    {
      path,
      line,
    },
  );

export function fsError(err: unknown, path: string): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const fail = (c: 'FILE_NOT_FOUND' | 'FILE_UNREADABLE', why: string) =>
    new BatchError(c, `${path} ${why}`, { path }, { cause: err });
  if (code === 'ENOENT' || code === 'ENOTDIR') return fail('FILE_NOT_FOUND', 'does not exist');
  if (code === 'EISDIR') return fail('FILE_UNREADABLE', 'is a directory, not a CSV file');
  if (code === 'EACCES' || code === 'EPERM')
    return fail('FILE_UNREADABLE', 'cannot be read (permission denied)');
  if (code === 'ELOOP') return fail('FILE_UNREADABLE', 'is a symbolic link that points back to itself');
  if (code === 'EIO') return fail('FILE_UNREADABLE', 'cannot be read (input/output error)');
  return err;
}
