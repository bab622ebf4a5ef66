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
import { syncDir } from '../util/fs.js';

/** What is known of an intent: `sent` = no answer yet (or the answer was lost with a process). */
export type EntryState = 'sent' | 'processing' | 'completed' | 'failed' | 'unknown' | 'released';
/** Outcomes a job reports for its intents; `skipped` = a claim that lost, never sent. */
export type RegistryOutcome = Exclude<EntryState, 'sent'> | 'skipped';

export interface Claim {
  number: string;
  amount: number;
  reference: string;
  /** job name, for messages */
  job: string;
  /** unique id of the job instance: its own earlier intents never block it */
  jobId: string;
  row: number;
  attempt: number;
  /** epoch ms */
  at: number;
}

/** An earlier payment that blocks a claim. */
export interface EarlierIntent {
  job: string;
  row: number;
  reference: string;
  transactionId?: string;
  amount: number;
  at: number;
  state: EntryState;
}

export interface ClaimOptions {
  /** look back this far (ms); 0 = no check (SPEC §2 `--repeat-window 0`) */
  windowMs: number;
  /** pay even if an earlier payment matches (`--allow-repeat`): the intent is still recorded */
  allowRepeat: boolean;
}

export type ClaimResult =
  | {
      ok: true;
      /** same number, another amount, inside the window (a warning, SPEC §5a) */ otherAmount: EarlierIntent | null;
    }
  | { ok: false; code: 'ALREADY_PAID' | 'MAYBE_PAID'; earlier: EarlierIntent };

export interface Registry {
  /** Read-only look-up (balance pre-check): the earlier payment that would block each claim now. */
  peek(claims: Claim[], opts: ClaimOptions): Promise<(EarlierIntent | null)[]>;
  /** Records the intents durably and decides each atomically with it; results in order. */
  claim(claims: Claim[], opts: ClaimOptions): Promise<ClaimResult[]>;
  /** Records what became of an intent. Durable by `flush`/`close`; it guards no send. */
  outcome(jobId: string, row: number, attempt: number, state: RegistryOutcome, transactionId?: string): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** ALREADY_PAID: the earlier one has a transaction; MAYBE_PAID: its outcome is not known. */
export function repeatCode(state: EntryState): 'ALREADY_PAID' | 'MAYBE_PAID' {
  return state === 'completed' || state === 'processing' ? 'ALREADY_PAID' : 'MAYBE_PAID';
}

const BLOCKING: ReadonlySet<EntryState> = new Set(['sent', 'processing', 'completed', 'unknown']);
/** which earlier intent to name when several block: the most settled one */
const RANK: Record<EntryState, number> = {
  completed: 4,
  processing: 3,
  unknown: 2,
  sent: 1,
  failed: 0,
  released: 0,
};

interface Entry {
  id: string;
  pos: number;
  job: string;
  jobId: string;
  row: number;
  reference: string;
  amount: number;
  at: number;
  state: EntryState;
  txn?: string;
}

type Line =
  | {
      t: 'i';
      c: string;
      n: string;
      a: number;
      r: string;
      j: string;
      u: string;
      w: number;
      k: number;
      at: number;
    }
  | { t: 'o'; id: string; s: RegistryOutcome; x?: string };

const entryId = (jobId: string, row: number, att: number) => `${jobId}/${row}/${att}`;

export function registryPath(stateDir: string, account: string): string {
  return join(resolve(stateDir), 'registry', `${account}.jsonl`);
}

export class FileRegistry implements Registry {
  private readonly byNumber = new Map<string, Entry[]>();
  private readonly byId = new Map<string, Entry>();
  private readonly mine = new Map<string, number>();
  private readonly nonce = randomBytes(6).toString('hex');
  private seq = 0;
  private pos = 0;
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
  ) {}

  /** Opens (creating it, mode 0600) the registry of `account` in `stateDir`, and reads it. */
  static async open(stateDir: string, account: string): Promise<FileRegistry> {
    const path = registryPath(stateDir, account);
    await fsp.mkdir(join(resolve(stateDir), 'registry'), { recursive: true, mode: 0o700 });
    const fh = await fsp.open(path, 'a+', 0o600).catch((err: NodeJS.ErrnoException) => {
      throw new BatchError(
        'USAGE',
        `the account registry ${path} cannot be opened (${err.code ?? err.message}); nothing was sent`,
      );
    });
    const reg = new FileRegistry(path, fh);
    if ((await fh.stat()).size === 0) await syncDir(join(resolve(stateDir), 'registry'));
    await reg.refresh();
    return reg;
  }

  async peek(claims: Claim[], opts: ClaimOptions): Promise<(EarlierIntent | null)[]> {
    if (opts.allowRepeat || opts.windowMs <= 0) return claims.map(() => null);
    await this.refresh();
    return claims.map((c) => this.blocker(c, opts.windowMs, Infinity));
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
      const pos = this.mine.get(ids[i]!);
      this.mine.delete(ids[i]!);
      if (pos === undefined)
        throw new BatchError('INTERNAL', `the account registry ${this.path} lost an intent just written`);
      const check = !opts.allowRepeat && opts.windowMs > 0;
      const earlier = check ? this.blocker(c, opts.windowMs, pos) : null;
      if (earlier) {
        this.outcome(c.jobId, c.row, c.attempt, 'skipped');
        return { ok: false, code: repeatCode(earlier.state), earlier };
      }
      return { ok: true, otherAmount: check ? this.otherAmount(c, opts.windowMs) : null };
    });
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

  /** The most settled earlier blocking intent of another job (before file position `before`). */
  private blocker(c: Claim, windowMs: number, before: number): EarlierIntent | null {
    let best: Entry | null = null;
    for (const e of this.byNumber.get(c.number) ?? []) {
      if (
        e.pos >= before ||
        e.amount !== c.amount ||
        e.jobId === c.jobId ||
        e.at < c.at - windowMs ||
        !BLOCKING.has(e.state)
      )
        continue;
      if (!best || RANK[e.state] > RANK[best.state] || (RANK[e.state] === RANK[best.state] && e.at > best.at))
        best = e;
    }
    return best && earlierOf(best);
  }

  private otherAmount(c: Claim, windowMs: number): EarlierIntent | null {
    for (const e of this.byNumber.get(c.number) ?? []) {
      if (e.amount !== c.amount && e.jobId !== c.jobId && e.at >= c.at - windowMs && BLOCKING.has(e.state))
        return earlierOf(e);
    }
    return null;
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
        await this.fh.sync();
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

  /** A partial last line (a write in progress, or torn by a crash) is left for a later read. */
  private async readTail(): Promise<void> {
    for (;;) {
      const { size } = await this.fh.stat();
      if (size <= this.offset) return;
      const buf = Buffer.alloc(size - this.offset);
      const { bytesRead } = await this.fh.read(buf, 0, buf.length, this.offset);
      const end = buf.lastIndexOf(10, bytesRead - 1);
      if (end < 0) return;
      let start = 0;
      for (let nl = buf.indexOf(10); nl !== -1 && nl <= end; nl = buf.indexOf(10, start)) {
        this.apply(buf.toString('utf8', start, nl));
        start = nl + 1;
      }
      this.offset += end + 1;
    }
  }

  private apply(text: string): void {
    if (!text) return;
    const line = parseLine(text);
    if (!line) {
      throw new BatchError(
        'JOB_CORRUPT',
        `the account registry ${this.path} is damaged near byte ${this.offset}; refusing to guess what was paid`,
      );
    }
    if (line.t === 'o') {
      const e = this.byId.get(line.id);
      if (!e) return;
      e.state = line.s === 'skipped' ? 'released' : line.s;
      if (line.x) e.txn = line.x;
      return;
    }
    const pos = this.pos++;
    if (line.c.startsWith(this.nonce)) this.mine.set(line.c, pos);
    const id = entryId(line.u, line.w, line.k);
    const again = this.byId.get(id);
    if (again) {
      // the same attempt claimed again (a resume after a crash): one payment at most
      again.state = 'sent';
      again.at = line.at;
      return;
    }
    const e: Entry = {
      id,
      pos,
      job: line.j,
      jobId: line.u,
      row: line.w,
      reference: line.r,
      amount: line.a,
      at: line.at,
      state: 'sent',
    };
    this.byId.set(id, e);
    const list = this.byNumber.get(line.n);
    if (list) list.push(e);
    else this.byNumber.set(line.n, [e]);
  }
}

function earlierOf(e: Entry): EarlierIntent {
  return {
    job: e.job,
    row: e.row,
    reference: e.reference,
    amount: e.amount,
    at: e.at,
    state: e.state,
    ...(e.txn ? { transactionId: e.txn } : {}),
  };
}

/**
 * A line, or null. A record torn by a crash mid-write and then followed by another process's
 * append shares a line with that whole record: the last `{"t":` in the line is tried too.
 */
function parseLine(text: string): Line | null {
  for (const from of [0, text.lastIndexOf('{"t":')]) {
    if (from < 0 || (from === 0 && text[0] !== '{')) continue;
    try {
      const v = JSON.parse(text.slice(from)) as Line;
      if (v && (v.t === 'i' || v.t === 'o')) return v;
    } catch {
      // try the next candidate
    }
  }
  return null;
}
