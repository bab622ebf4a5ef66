/**
 * The crash-safe journal of row state changes (SPEC §5): append-only JSON lines, each
 * record durable (written and fsync'd) before the promise of `append` resolves. Callers
 * await it before the effect the record guards: the intent before the POST goes out, the
 * transaction id before anything else happens to the row.
 *
 * Group commit: appends made in the same turn of the event loop, or while a write is in
 * progress, are written together and share one fsync; each append's promise resolves only
 * once the fsync that covers its own line has returned (never on an earlier one's). So rows
 * running concurrently share disk flushes, and a row's transaction id and the next row's
 * intent (the submit loop appends them back to back) cost one fsync between them. The file
 * is opened `O_DSYNC` where the platform has it (util/fs.ts `openDurableAppend`): its write
 * returns only once the bytes are on disk, and stands for the write and the fsync.
 *
 * Replay reads the file line by line. A last line that is incomplete or does not parse is a
 * record torn by a crash mid-write: it is dropped and the file truncated to the last whole
 * record. A bad line anywhere else means the file was damaged, and replay refuses.
 *
 * The file is private (mode 0600, like every state file) and the free text of a record —
 * which may come from the API — is masked before it is written (SPEC §5 additions, "The key
 * is never persisted"). A write that fails (disk full, read-only) fails every later append
 * with one `LOCAL_IO` error naming the file.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import { mask } from '../api/mask.js';
import { BatchError, localIoError } from '../errors.js';
import type { RowErrorCode } from '../errors.js';
import { openDurableAppend } from '../util/fs.js';

type DurableFile = Awaited<ReturnType<typeof openDurableAppend>>;

export type FinalStatus = 'completed' | 'failed';

export type JournalRecord =
  /** about to POST this row (attempt `att`, reference `ref`) */
  | { t: 'intent'; row: number; att: number; ref: string; at: number }
  /** the API answered 200: the transaction id, and the status it gave */
  | {
      t: 'accepted';
      row: number;
      att: number;
      txn: string;
      st: 'processing' | FinalStatus;
      op?: string;
      code?: string;
      msg?: string;
      at: number;
      done?: string | null;
    }
  /** a status poll (or the POST answer) gave a final state */
  | {
      t: 'final';
      row: number;
      att: number;
      txn: string;
      st: FinalStatus;
      code?: string;
      msg?: string;
      at: number;
      done?: string | null;
    }
  /** the API refused the row with a 4xx: failed, nothing charged */
  | { t: 'rejected'; row: number; att: number; code: string; msg: string; at: number }
  /** the POST may or may not have been carried out */
  | { t: 'unknown'; row: number; att: number; code: string; msg: string; at: number }
  /** the POST certainly did nothing (402, 401, connection refused): the row is pending again */
  | { t: 'released'; row: number; att: number; why: string; at: number }
  /** never sent: the account registry holds an earlier payment of this number and amount (SPEC §5a); `prev` names its job, `paid` = it completed */
  | {
      t: 'skipped';
      row: number;
      att: number;
      code: 'ALREADY_PAID' | 'MAYBE_PAID';
      msg: string;
      prev: string;
      paid: boolean;
      /** the earlier intent's job instance, row and attempt (registry IntentRef), which a resume looks up again; absent in journals written before they were recorded */
      pid?: string;
      prow?: number;
      patt?: number;
      at: number;
    }
  /** a `skipped` row is pending again: a resume found that the earlier payment it was skipped for failed or was never sent (SPEC §5a); `why` says which */
  | { t: 'reopened'; row: number; att: number; why: string; at: number }
  /** `retry`: a new attempt for these rows */
  | { t: 'retry'; att: number; failed: number[]; unknown: number[]; at: number };

export type JournalRecordType = JournalRecord['t'];
export type { RowErrorCode };

/**
 * Where the journal's bytes go: the file (a FileHandle) in production; tests inject a fake to
 * see exactly which lines an fsync covered when a waiter was released.
 */
export interface JournalSink {
  /** appends `data` at the end (all of it, or rejects) */
  write(data: string): Promise<void>;
  /** makes everything written so far durable */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export class Journal {
  private fh: fsp.FileHandle | null;
  private readonly sink: JournalSink;
  readonly path: string;
  private queue: { line: string; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private writing = false;
  private failed: unknown = null;
  /** Number of fsyncs done; lets the benchmark show group commit at work. */
  syncs = 0;

  private constructor(target: DurableFile | JournalSink, path: string) {
    this.path = path;
    if ('fh' in target) {
      const { fh, syncsOnWrite } = target;
      this.fh = fh;
      // through `this.fh`, so a test can make the file's writes fail
      this.sink = {
        write: async (data) => {
          const buf = Buffer.from(data, 'utf8');
          for (let off = 0; off < buf.length;) off += (await this.fh!.write(buf, off)).bytesWritten;
        },
        // opened O_DSYNC: the write above returned only once its bytes were on disk
        sync: syncsOnWrite ? () => Promise.resolve() : () => fh.sync(),
        close: () => fh.close(),
      };
    } else {
      this.fh = null;
      this.sink = target;
    }
  }

  /**
   * Replays the journal at `path` (creating it if missing), calling `onRecord` for each whole
   * record in order, then opens it for appending.
   */
  static async open(path: string, onRecord: (rec: JournalRecord) => void): Promise<Journal> {
    const goodBytes = await replay(path, onRecord);
    const file = await openDurableAppend(path, 0o600);
    const { fh } = file;
    // a journal made by an older version may be world-readable
    await fh.chmod(0o600).catch(() => undefined);
    const { size } = await fh.stat();
    if (size > goodBytes) {
      await fh.truncate(goodBytes);
      await fh.sync();
    }
    return new Journal(file, path);
  }

  /** A journal writing to `sink` (no replay): for tests of the group commit. */
  static onSink(sink: JournalSink, path = '(journal)'): Journal {
    return new Journal(sink, path);
  }

  /** Resolves once the record is on disk (written and fsync'd). */
  append(rec: JournalRecord): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.queue.push({ line: JSON.stringify(masked(rec)) + '\n', resolve, reject });
      if (!this.writing) {
        this.writing = true;
        // the write starts on the next turn, so every append of this turn shares it
        setImmediate(() => void this.flush());
      }
    });
  }

  async close(): Promise<void> {
    while (this.writing || this.queue.length) await new Promise((r) => setImmediate(r));
    await this.sink.close();
  }

  private async flush(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue;
      this.queue = [];
      try {
        await this.sink.write(batch.map((b) => b.line).join(''));
        await this.sink.sync();
        this.syncs++;
        for (const b of batch) b.resolve();
      } catch (err) {
        // a journal that cannot be written must stop everything: nothing may be sent unrecorded
        const failure = localIoError(err, false, this.path) ?? err;
        this.failed = failure;
        for (const b of [...batch, ...this.queue]) b.reject(failure);
        this.queue = [];
      }
    }
    this.writing = false;
  }
}

/** The record with its free text (which may have come from the API) masked; ids untouched. */
export function masked(rec: JournalRecord): JournalRecord {
  if (rec.t === 'retry' || rec.t === 'intent') return rec;
  const out = { ...rec } as Record<string, unknown>;
  for (const k of ['msg', 'code', 'why', 'op']) if (typeof out[k] === 'string') out[k] = mask(out[k]);
  return out as JournalRecord;
}

/**
 * Streams the file line by line (read-only: a torn last record is skipped, not truncated);
 * returns the byte length of the whole records.
 */
export async function replay(path: string, onRecord: (rec: JournalRecord) => void): Promise<number> {
  let stream;
  try {
    await fsp.access(path);
    stream = createReadStream(path);
  } catch {
    return 0;
  }
  let good = 0;
  let lineNo = 0;
  let carry: Buffer = Buffer.alloc(0);
  let pendingBad: { line: number } | null = null;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
      lineNo++;
      const text = buf.toString('utf8', start, nl);
      if (pendingBad) throw corrupt(path, pendingBad.line);
      let rec: JournalRecord | undefined;
      try {
        rec = JSON.parse(text) as JournalRecord;
      } catch {
        rec = undefined;
      }
      if (!rec || typeof rec !== 'object' || typeof rec.t !== 'string') {
        // tolerated only if it is the very last line (torn write followed by nothing)
        pendingBad = { line: lineNo };
      } else {
        onRecord(rec);
        good += nl - start + 1;
      }
      start = nl + 1;
    }
    buf = buf.subarray(start);
    carry = Buffer.from(buf);
  }
  return good;
}

function corrupt(path: string, line: number): BatchError {
  return new BatchError(
    'JOB_CORRUPT',
    `journal ${path} is damaged at line ${line} (not a torn last record); refusing to guess the state of the job`,
    { path, line },
  );
}
