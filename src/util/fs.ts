/**
 * File-system helpers shared by the job store and the CSV writers. `AtomicFile` is the one way
 * the tool replaces a file (SPEC §4 "written atomically (temp file + rename)", SPEC §5 the job's
 * plan and meta): a reader — or the next start after a crash — sees the old file or the whole
 * new one, never half of one.
 */
import { constants as fsConstants, promises as fsp } from 'node:fs';
import { dirname } from 'node:path';

/** Temp files of this process get distinct names, so two writers of one path never share one. */
let tmpSeq = 0;
/**
 * A large file is flushed to disk as it is written, every this many bytes, while the caller
 * goes on producing: the fsync at commit then has little left to do (a 90 MB report's took
 * 70–190 ms, all of it waiting, issue #13).
 */
const FLUSH_EVERY = 8 << 20;

/**
 * A file being replaced: `open` creates `<path>.tmp-<pid>-<n>` beside the target, `write`
 * appends chunks, `commit` fsyncs it, renames it over `path` and fsyncs the directory (the
 * rename is durable only then), `abort` removes the temp file and leaves `path` as it was.
 * A failed `write` or `commit` does not remove the temp file by itself: call `abort` (the
 * `writeFileAtomic` and CSV writers do), which is safe at any point and more than once.
 */
export class AtomicFile {
  readonly path: string;
  readonly tmp: string;
  readonly #fh: fsp.FileHandle;
  #closed = false;
  #finished = false;
  #unflushed = 0;
  /** the background flush in flight, if any; its failure fails the next write or the commit */
  #flushing: Promise<void> | null = null;
  #flushError: unknown = null;

  private constructor(path: string, tmp: string, fh: fsp.FileHandle) {
    this.path = path;
    this.tmp = tmp;
    this.#fh = fh;
  }

  /**
   * @param mode of the new file, before the umask: 0o600 for the job's own state (it holds
   *   names, numbers and amounts), 0o666 for a file the user asked for, like any file they save
   * @throws the fs error of the temp file (ENOENT when the directory is missing, EACCES…)
   */
  static async open(path: string, mode: number): Promise<AtomicFile> {
    const tmp = `${path}.tmp-${process.pid}-${tmpSeq++}`;
    // 'w' truncates a temp file a crashed process of the same pid may have left
    const fh = await fsp.open(tmp, 'w', mode);
    return new AtomicFile(path, tmp, fh);
  }

  /**
   * Appends `data` (a string is written as UTF-8), looping over short writes; resolves once
   * the OS has it, so a caller awaiting each chunk never holds more than one in memory.
   * @throws the fs error (ENOSPC…); the file is then unusable: `abort` it
   */
  async write(data: string | Uint8Array): Promise<void> {
    if (this.#flushError !== null) throw this.#flushError;
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let off = 0; off < buf.length;) off += (await this.#fh.write(buf, off)).bytesWritten;
    this.#unflushed += buf.length;
    if (this.#unflushed >= FLUSH_EVERY && this.#flushing === null) {
      this.#unflushed = 0;
      this.#flushing = this.#fh
        .datasync()
        .catch((err: unknown) => {
          this.#flushError ??= err;
        })
        .finally(() => {
          this.#flushing = null;
        });
    }
  }

  /**
   * Makes the written bytes the file at `path`. On failure the temp file is removed and
   * `path` is left as it was.
   * @throws the fs error of the fsync, close or rename
   */
  async commit(): Promise<void> {
    try {
      await this.#flushing;
      if (this.#flushError !== null) throw this.#flushError;
      await this.#fh.sync();
      await this.#close();
      await fsp.rename(this.tmp, this.path);
      this.#finished = true;
    } catch (err) {
      await this.abort();
      throw err;
    }
    await syncDir(dirname(this.path));
  }

  /** Removes the temp file (unless committed); never throws. */
  async abort(): Promise<void> {
    await this.#close().catch(() => undefined);
    if (this.#finished) return;
    this.#finished = true;
    await fsp.rm(this.tmp, { force: true }).catch(() => undefined);
  }

  async #close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#flushing;
    await this.#fh.close();
  }
}

/**
 * Replaces `path` with `data` through an `AtomicFile`: all or nothing.
 * @param mode default 0o600 (job state: meta, plan)
 * @throws the fs error; `path` is then untouched and no temp file is left
 */
export async function writeFileAtomic(path: string, data: string, mode = 0o600): Promise<void> {
  const file = await AtomicFile.open(path, mode);
  try {
    await file.write(data);
  } catch (err) {
    await file.abort();
    throw err;
  }
  await file.commit();
}

/**
 * fsyncs a directory, making a rename or unlink in it durable. Some filesystems (and
 * platforms) refuse to open or fsync a directory; the rename is still atomic there, so that
 * failure is ignored.
 */
export async function syncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch {
    // see above: durability of the directory entry is best effort
  } finally {
    await fh?.close();
  }
}

/**
 * An append-only file whose every write is durable when it returns: opened with `O_DSYNC`
 * where the platform has it (Linux, macOS: POSIX synchronized I/O data integrity, what
 * `fdatasync` gives — the data and the size needed to read it back are on disk), so a batch
 * costs one system call instead of a write and an fsync, each a trip through libuv's thread
 * pool (issue #13: about half the engine's file-system calls per row). Where there is no
 * `O_DSYNC` (Windows), `syncsOnWrite` is false and the caller must `sync()` after writing.
 * Readable too (`O_RDWR`), for replays and the registry's tail reads; created with `mode`.
 * @throws the fs error of `open` (ENOENT, EACCES…)
 */
export async function openDurableAppend(
  path: string,
  mode: number,
): Promise<{ fh: fsp.FileHandle; syncsOnWrite: boolean }> {
  const dsync = fsConstants.O_DSYNC as number | undefined;
  if (dsync === undefined) return { fh: await fsp.open(path, 'a+', mode), syncsOnWrite: false };
  const flags = fsConstants.O_RDWR | fsConstants.O_APPEND | fsConstants.O_CREAT | dsync;
  return { fh: await fsp.open(path, flags, mode), syncsOnWrite: true };
}

export async function exists(path: string): Promise<boolean> {
  try {
    await fsp.access(path);
    return true;
  } catch {
    return false;
  }
}
