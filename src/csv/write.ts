/**
 * Atomic CSV output (SPEC §4): rows are formatted by csv-stringify and streamed into
 * `<path>.tmp-<pid>`, which is fsync'd and renamed over `path`. A reader sees the old file or
 * the new one, never half of one; if the rows fail mid-way the temp file is removed and
 * `path` is untouched. The parent directory must exist.
 */
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { stringify } from 'csv-stringify/sync';

export interface WriteCsvOptions {
  /** start the file with a UTF-8 BOM, which Excel needs to show Bengali text correctly */
  bom?: boolean;
}

type Rows = AsyncIterable<string[]> | Iterable<string[]>;
type Batches = AsyncIterable<string[][]> | Iterable<string[][]>;

const BATCH = 1000;

export async function writeCsvAtomic(path: string, header: string[], rows: Rows, options: WriteCsvOptions = {}): Promise<void> {
  await writeCsvBatchesAtomic(path, header, batched(rows), options);
}

/**
 * The same, for rows that arrive in groups (as the validator produces them): formatting a
 * group at once is several times faster than a stream transform per row.
 */
export async function writeCsvBatchesAtomic(path: string, header: string[], batches: Batches, options: WriteCsvOptions = {}): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const fh = await open(tmp, 'w'); // fails at once when the directory is missing
    try {
      await writeAll(fh, stringify([header], { bom: options.bom ?? false }));
      for await (const batch of batches) if (batch.length > 0) await writeAll(fh, stringify(batch));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  // The rename itself is durable only once the directory is synced; not every platform
  // allows opening a directory, and the data is already safe, so failure is ignored.
  await fsyncDir(dirname(path)).catch(() => undefined);
}

async function* batched(rows: Rows): AsyncGenerator<string[][]> {
  let batch: string[][] = [];
  for await (const row of rows) {
    batch.push(row);
    if (batch.length >= BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Batches are written whole with positional-less writes, looping over short writes. */
async function writeAll(fh: FileHandle, text: string): Promise<void> {
  const buf = Buffer.from(text, 'utf8');
  for (let off = 0; off < buf.length; ) off += (await fh.write(buf, off)).bytesWritten;
}

async function fsyncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
