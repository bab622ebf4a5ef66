/**
 * The account registry (SPEC §5a): every recharge intent of an account, from every job, with
 * its transaction id and outcome as they become known — so a number and amount already paid
 * by another job (a re-run, a re-saved file, a fed-back failed CSV) is not paid again.
 *
 * Behind the small {@link Registry} interface so a shared store (PostgreSQL, SPEC §11) can take
 * the place of {@link FileRegistry}, which keeps one append-only JSON-lines file per account:
 * `<state-dir>/registry/<account>.jsonl`, each batch of records written with one `write` on an
 * O_APPEND descriptor and fsync'd, like the job journal.
 *
 * Why two processes can never both pass the check, without a lock file: a claim is first
 * appended (its intent, durable), then decided by the file's own order. After its fsync the
 * claimant reads the file up to its end; its claim is blocked by any earlier matching intent
 * that is not failed or released. Of two conflicting claims, the later one in the file always
 * sees the earlier one, so at most one passes. A loser records `skipped` (not a payment). There
 * is no lock to go stale, so kill -9 at any instant cannot open a window or block the others.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import { BatchError } from '../errors.js';
import { openDurableAppend, syncDir } from '../util/fs.js';
import { entryId, RegistryIndex, type IndexScope, type Line } from './registry-index.js';
import {
  repeatCode,
  type Claim,
  type ClaimOptions,
  type ClaimResult,
  type EarlierIntent,
  type EntryState,
  type IntentRef,
  type Registry,
  type RegistryOutcome,
} from './registry-contract.js';

export { repeatCode } from './registry-contract.js';
export type {
  Claim,
  ClaimOptions,
  ClaimResult,
  EarlierIntent,
  EntryState,
  IntentRef,
  Registry,
  RegistryOutcome,
} from './registry-contract.js';

/** `<state-dir>/registry/<account>.jsonl`, absolute. */
/** Bytes read at a time from the registry's tail (a claim's new lines are a few hundred). */
const READ_CHUNK = 64 << 10;
const MAX_READ_CHUNK = 8 << 20;

export function registryPath(stateDir: string, account: string): string {
  return join(resolve(stateDir), 'registry', `${account}.jsonl`);
}

export class FileRegistry implements Registry {
  private readonly nonce = randomBytes(6).toString('hex');
  private readonly index: RegistryIndex;
  private seq = 0;
  private offset = 0;
  private queue: { line: string; done: () => void; fail: (e: unknown) => void }[] = [];
  private writing: Promise<void> | null = null;
  private failed: unknown = null;
  private reading: Promise<void> = Promise.resolve();
  private outcomes: string[] = [];
  private outcomeTimer: NodeJS.Timeout | undefined;
  /** fsyncs done (the benchmark reads it) */
  syncs = 0;

  private constructor(
    private readonly path: string,
    private readonly fh: fsp.FileHandle,
    /** opened O_DSYNC: a write that returned is on disk, no fsync of its own */
    private readonly syncsOnWrite: boolean,
    scope: IndexScope,
  ) {
    this.index = new RegistryIndex(this.nonce, scope);
  }

  /**
   * Opens (creating it, mode 0600) the registry of `account` in `stateDir`, and reads it.
   * @param scope which intents are not kept in memory (registry-index.ts `IndexScope`): those
   *   of other processes older than `horizon` (the caller's now minus the longest repeat window
   *   its claims look back, and some slack); its own claims when it serves one job. Default:
   *   keep everything.
   * @throws BatchError USAGE when the file cannot be opened; JOB_CORRUPT when it is damaged
   */
  static async open(stateDir: string, account: string, scope: IndexScope = {}): Promise<FileRegistry> {
    const path = registryPath(stateDir, account);
    await fsp.mkdir(join(resolve(stateDir), 'registry'), { recursive: true, mode: 0o700 });
    const { fh, syncsOnWrite } = await openDurableAppend(path, 0o600).catch((err: NodeJS.ErrnoException) => {
      throw new BatchError(
        'USAGE',
        `the account registry ${path} cannot be opened (${err.code ?? err.message}); nothing was sent`,
      );
    });
    const reg = new FileRegistry(path, fh, syncsOnWrite, scope);
    try {
      if ((await fh.stat()).size === 0) await syncDir(join(resolve(stateDir), 'registry'));
      await reg.refresh();
    } catch (err) {
      await fh.close().catch(() => undefined); // a damaged registry: no descriptor left open
      throw err;
    }
    return reg;
  }

  async peek(claims: Claim[], opts: ClaimOptions): Promise<(EarlierIntent | null)[]> {
    if (opts.allowRepeat || opts.windowMs <= 0) return claims.map(() => null);
    await this.refresh();
    return claims.map((c) => this.index.blocker(c, opts.windowMs, Infinity));
  }

  async claim(claims: Claim[], opts: ClaimOptions): Promise<ClaimResult[]> {
    const ids = claims.map(() => `${this.nonce}.${this.seq++}`);
    const lines = claims.map((c, i) => {
      const line: Line = {
        t: 'i',
        c: ids[i]!,
        n: c.number,
        a: c.amount,
        r: c.reference,
        j: c.job,
        u: c.jobId,
        w: c.row,
        k: c.attempt,
        at: c.at,
      };
      return JSON.stringify(line) + '\n';
    });
    // one write and one fsync for the whole batch
    await this.write(lines.join(''));
    // the file's order decides: read everything written before (and after) our intents
    await this.refresh();
    return claims.map((c, i) => {
      const pos = this.index.takeMine(ids[i]!);
      if (pos === undefined)
        throw new BatchError('INTERNAL', `the account registry ${this.path} lost an intent just written`);
      const check = !opts.allowRepeat && opts.windowMs > 0;
      const earlier = check ? this.index.blocker(c, opts.windowMs, pos) : null;
      if (earlier) {
        this.outcome(c.jobId, c.row, c.attempt, 'skipped');
        return { ok: false, code: repeatCode(earlier.state), earlier };
      }
      return { ok: true, otherAmount: check ? this.index.otherAmount(c, opts.windowMs) : null };
    });
  }

  async lookup(refs: IntentRef[]): Promise<(EarlierIntent | undefined)[]> {
    await this.refresh();
    return refs.map((r) => this.index.intent(entryId(r.jobId, r.row, r.attempt)));
  }

  recorded(jobId: string, row: number, attempt: number): EntryState | undefined {
    return this.index.state(entryId(jobId, row, attempt));
  }

  outcome(jobId: string, row: number, attempt: number, state: RegistryOutcome, transactionId?: string): void {
    const line: Line = {
      t: 'o',
      id: entryId(jobId, row, attempt),
      s: state,
      ...(transactionId ? { x: transactionId } : {}),
    };
    // Nothing waits on an outcome (lost in a crash, the intent reads as MAYBE_PAID: the safe
    // side), so it rides along with the next claim's write instead of costing an fsync of its own.
    this.outcomes.push(JSON.stringify(line) + '\n');
    if (this.outcomes.length >= 512) this.write('').catch(() => undefined);
    else this.outcomeTimer ??= setTimeout(() => this.write('').catch(() => undefined), 200).unref();
  }

  async flush(): Promise<void> {
    if (this.outcomes.length) this.write('').catch(() => undefined);
    while (this.writing) await this.writing;
    if (this.failed) throw this.failed;
  }

  async close(): Promise<void> {
    clearTimeout(this.outcomeTimer);
    try {
      await this.flush();
    } finally {
      await this.fh.close();
    }
  }

  /** Group commit: lines queued while a write is in progress share the next write and fsync. */
  private write(line: string): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.outcomes.length) {
      clearTimeout(this.outcomeTimer);
      this.outcomeTimer = undefined;
      const lines = this.outcomes.join('');
      this.outcomes = [];
      this.queue.push({ line: lines, done: () => undefined, fail: () => undefined });
    }
    const p = new Promise<void>((done, fail) => {
      if (line) this.queue.push({ line, done, fail });
      else done();
    });
    if (!this.writing && this.queue.length) this.writing = this.drain();
    return p;
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue;
      this.queue = [];
      try {
        // one write(2) on an O_APPEND descriptor: the batch lands whole, after every earlier one
        const buf = Buffer.from(batch.map((b) => b.line).join(''));
        const { bytesWritten } = await this.fh.write(buf, 0, buf.length);
        if (bytesWritten !== buf.length)
          throw new Error(`short write (${bytesWritten} of ${buf.length} bytes)`);
        if (!this.syncsOnWrite) await this.fh.sync();
        this.syncs++;
        for (const b of batch) b.done();
      } catch (err) {
        // nothing may be sent unrecorded: every later claim fails too
        this.failed = new BatchError(
          'INTERNAL',
          `the account registry ${this.path} cannot be written: ${(err as Error).message}`,
          {},
          { cause: err },
        );
        for (const b of [...batch, ...this.queue]) b.fail(this.failed);
        this.queue = [];
      }
    }
    this.writing = null;
  }

  /** Reads what was appended since the last read (by any process), one read at a time. */
  private refresh(): Promise<void> {
    const next = this.reading.then(() => this.readTail());
    this.reading = next.catch(() => undefined);
    return next;
  }

  /**
   * A partial last line (a write in progress, or torn by a crash) is left for a later read.
   * Reads until a read comes back short, with no `stat` before it: each file-system call is a
   * trip through the thread pool, and a claim's read is on the way to every row's POST.
   */
  private async readTail(): Promise<void> {
    let size = READ_CHUNK;
    for (;;) {
      const buf = Buffer.allocUnsafe(size);
      const { bytesRead } = await this.fh.read(buf, 0, size, this.offset);
      const end = bytesRead > 0 ? buf.lastIndexOf(10, bytesRead - 1) : -1;
      if (end < 0) {
        if (bytesRead < size) return;
        size *= 2; // one line longer than the buffer: read it whole
        continue;
      }
      let start = 0;
      for (let nl = buf.indexOf(10); nl !== -1 && nl <= end; nl = buf.indexOf(10, start)) {
        if (!this.index.apply(buf.toString('utf8', start, nl))) {
          throw new BatchError(
            'JOB_CORRUPT',
            `the account registry ${this.path} is damaged near byte ${this.offset}; refusing to guess what was paid`,
          );
        }
        start = nl + 1;
      }
      this.offset += end + 1;
      if (bytesRead < size) return;
      // a long history (the first read of a big registry): larger reads, fewer calls
      size = Math.min(size * 2, MAX_READ_CHUNK);
    }
  }
}
