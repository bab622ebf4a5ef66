/**
 * Atomic CSV output (SPEC §4): rows are formatted by csv-stringify and streamed into
 * `<path>.tmp-<pid>`, which is fsync'd and renamed over `path`. A reader sees the old file or
 * the new one, never half of one; if the rows fail mid-way the temp file is removed and
 * `path` is untouched. The parent directory must exist.
 *
 * Every file starts with a UTF-8 BOM unless `bom: false` (SPEC §2 `--bom`/`--no-bom`): without
 * it Excel on Windows reads the file as the local code page and garbles Bengali names.
 */
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { stringify } from 'csv-stringify/sync';

export interface WriteCsvOptions {
  /** start the file with a UTF-8 BOM (default true) */
  bom?: boolean;
}

type Rows = AsyncIterable<string[]> | Iterable<string[]>;
type Batches = AsyncIterable<string[][]> | Iterable<string[][]>;

const BATCH = 1000;

/**
 * One CSV being written: `create` opens the temp file and writes the header, `write` adds
 * rows, `commit` makes it the file at `path`, `abort` leaves `path` as it was. For writing
 * several files in one pass over the input.
 */
export class AtomicCsv {
  readonly #fh: FileHandle;
  readonly #tmp: string;
  readonly path: string;
  #done = false;

  private constructor(path: string, tmp: string, fh: FileHandle) {
    this.path = path;
    this.#tmp = tmp;
    this.#fh = fh;
  }

  /** @throws the fs error (ENOENT when the directory is missing, EACCES…) */
  static async create(path: string, header: string[], options: WriteCsvOptions = {}): Promise<AtomicCsv> {
    const tmp = `${path}.tmp-${process.pid}`;
    const fh = await open(tmp, 'w'); // fails at once when the directory is missing
    const file = new AtomicCsv(path, tmp, fh);
    try {
      await writeAll(fh, stringify([header], { bom: options.bom ?? true }));
    } catch (err) {
      await file.abort();
      throw err;
    }
    return file;
  }

  async write(rows: string[][]): Promise<void> {
    if (rows.length > 0) await writeAll(this.#fh, stringify(rows));
  }

  async commit(): Promise<void> {
    try {
      await this.#fh.sync();
      await this.#close();
      await rename(this.#tmp, this.path);
    } catch (err) {
      await this.abort();
      throw err;
    }
    // The rename itself is durable only once the directory is synced; not every platform
    // allows opening a directory, and the data is already safe, so failure is ignored.
    await fsyncDir(dirname(this.path)).catch(() => undefined);
  }

  /** Removes the temp file; never throws. */
  async abort(): Promise<void> {
    await this.#close().catch(() => undefined);
    await rm(this.#tmp, { force: true }).catch(() => undefined);
  }

  async #close(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    await this.#fh.close();
  }
}

export async function writeCsvAtomic(
  path: string,
  header: string[],
  rows: Rows,
  options: WriteCsvOptions = {},
): Promise<void> {
  await writeCsvBatchesAtomic(path, header, batched(rows), options);
}

/**
 * The same, for rows that arrive in groups (as the validator produces them): formatting a
 * group at once is several times faster than a stream transform per row.
 */
export async function writeCsvBatchesAtomic(
  path: string,
  header: string[],
  batches: Batches,
  options: WriteCsvOptions = {},
): Promise<void> {
  const file = await AtomicCsv.create(path, header, options);
  try {
    for await (const batch of batches) await file.write(batch);
  } catch (err) {
    await file.abort();
    throw err;
  }
  await file.commit();
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
  for (let off = 0; off < buf.length;) off += (await fh.write(buf, off)).bytesWritten;
}

async function fsyncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
