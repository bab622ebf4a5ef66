/**
 * Which job wrote which results, failed and unknown CSV (SPEC §4, README "Results"): each job keeps
 * `<state-dir>/<job>/outputs.json`, the files it last wrote — path, kind, row count and the
 * file's identity (device, inode, size, mtime) right after its rename. The identity is what
 * tells a file the job wrote from one somebody saved over it: an atomic rename, Excel's save
 * and an editor's all give the path a new inode or a new mtime.
 *
 * Two rules rest on it:
 * - a job left with no failed (unknown) rows removes the failed (unknown) CSV it wrote earlier,
 *   so a clerk never opens or feeds back a stale one — but never a file it cannot prove is its
 *   own (a file with nothing but the header the job would write holds nothing, and goes too);
 * - a job about to replace a failed or unknown CSV that another job of the same state dir
 *   wrote, with rows in it, says so in one line naming that job and how to write its files
 *   again (`report <job> --out …`): an earlier job's unknown rows are a money question.
 */
import { promises as fsp } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { csvPreamble, type WriteCsvOptions } from '../csv/write.js';
import { writeFileAtomic } from '../util/fs.js';
import { count } from '../util/words.js';

export type OutputKind = 'results' | 'failed' | 'unknown';

interface Identity {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

interface Entry extends Identity {
  kind: OutputKind;
  rows: number;
}

interface OutputsRecord {
  version: 1;
  /** by absolute path */
  files: Record<string, Entry>;
}

const RECORD = 'outputs.json';

async function identity(path: string): Promise<Identity | null> {
  try {
    const st = await fsp.stat(path);
    return { dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
  } catch {
    return null; // gone (or unreadable: then nothing here touches it)
  }
}

function same(a: Identity, b: Identity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

async function readRecord(jobDir: string): Promise<OutputsRecord> {
  try {
    const r = JSON.parse(await fsp.readFile(join(jobDir, RECORD), 'utf8')) as OutputsRecord;
    if (r && r.version === 1 && typeof r.files === 'object' && r.files !== null) return r;
  } catch {
    // none yet (a job made before the record was kept), or unreadable: it proves nothing
  }
  return { version: 1, files: {} };
}

/**
 * True when the file at `path` holds nothing but `header` written in `format` (its delimiter and
 * `sep=` line), with or without a BOM.
 */
async function headerOnly(
  path: string,
  header: readonly string[],
  format: WriteCsvOptions,
): Promise<boolean> {
  const text = csvPreamble(header, { ...format, bom: false });
  const st = await fsp.stat(path).catch(() => null);
  if (!st || !st.isFile() || st.size > Buffer.byteLength(text) + 3) return false;
  const now = await fsp.readFile(path, 'utf8').catch(() => null);
  return now === text || now === `\ufeff${text}`;
}

/** One job's view of the failed and unknown CSVs around a write of its results. */
export class OwnedOutputs {
  readonly #jobDir: string | undefined;
  readonly #job: string | undefined;
  #record: OutputsRecord = { version: 1, files: {} };
  readonly warnings: string[] = [];

  /** `jobDir` absent (a library caller that names no job): only header-only files are its own */
  constructor(jobDir?: string) {
    this.#jobDir = jobDir;
    this.#job = jobDir === undefined ? undefined : basename(jobDir);
  }

  async load(): Promise<void> {
    if (this.#jobDir !== undefined) this.#record = await readRecord(this.#jobDir);
  }

  /** True when the file at `path` is the one this job last wrote there. */
  async #ours(path: string, now: Identity): Promise<boolean> {
    const e = this.#record.files[path];
    return e !== undefined && same(e, now);
  }

  /** The other job of the state dir whose record holds the file now at `path`, with rows in it. */
  async #otherOwner(path: string, now: Identity): Promise<{ job: string; entry: Entry } | null> {
    for (const [job, record] of await this.#otherRecords()) {
      const entry = record.files[path];
      if (entry && entry.rows > 0 && same(entry, now)) return { job, entry };
    }
    return null;
  }

  /** The records of the state dir's other jobs, read once per write of the results (up to four files ask). */
  #others: Promise<[string, OutputsRecord][]> | undefined;
  #otherRecords(): Promise<[string, OutputsRecord][]> {
    const jobDir = this.#jobDir;
    if (jobDir === undefined) return Promise.resolve([]);
    this.#others ??= (async () => {
      const stateDir = dirname(jobDir);
      const jobs = await fsp.readdir(stateDir).catch(() => [] as string[]);
      const records: [string, OutputsRecord][] = [];
      // one at a time: a state dir of years of nightly jobs must not open them all at once
      for (const job of jobs)
        if (job !== this.#job && !job.startsWith('.'))
          records.push([job, await readRecord(join(stateDir, job))]);
      return records;
    })();
    return this.#others;
  }

  /**
   * Before `path` is replaced: a line for `warnings` when another job wrote the file there now
   * and it holds that job's rows. A file this job wrote there that somebody saved over since (a
   * clerk's rows typed into the failed CSV) is copied into the job's directory first, and a line
   * says where: the write must not take the clerk's work with it.
   * @throws the fs error of that copy (then nothing is replaced)
   */
  async beforeReplace(path: string): Promise<void> {
    const now = await identity(path);
    if (!now || (await this.#ours(path, now))) return;
    if (this.#jobDir !== undefined && this.#record.files[path] !== undefined) {
      const copy = join(this.#jobDir, `edited-${Date.now()}-${basename(path)}`);
      await fsp.copyFile(path, copy);
      this.warnings.push(`${path} had been changed since this job wrote it: that copy is kept as ${copy}`);
      return;
    }
    const other = await this.#otherOwner(path, now);
    if (!other) return;
    const { job, entry } = other;
    const out = join(dirname(path), `${job}.results.csv`);
    this.warnings.push(
      `${path} held the ${count(entry.rows, `${entry.kind} row`)} of job ${job}, and now holds this job's: ` +
        `to get job ${job}'s files back, run \`recharge-batch report ${job} --out ${out}\``,
    );
  }

  /**
   * Before the results CSV at `path` is replaced: when another job of the state dir wrote the
   * file there now and its rows carry transaction ids, it is moved aside to `<job>.results.csv`
   * in the same folder (or left, if that name is taken, with a line saying so), and a line says
   * where. A new job over an edited or re-saved input writes the same results path, and the
   * earlier job's file is the clerk's record of what was paid: it must not vanish.
   * @throws the fs error of the move
   */
  async keepOthersResults(path: string): Promise<void> {
    const now = await identity(path);
    if (!now || (await this.#ours(path, now))) return;
    const other = await this.#otherOwner(path, now);
    if (!other) return;
    const aside = join(dirname(path), `${other.job}.results.csv`);
    if (await identity(aside)) {
      this.warnings.push(
        `${path} held the results of job ${other.job} (${count(other.entry.rows, 'transaction id')}), and now holds this job's: ${aside} exists, so it was not kept; run \`recharge-batch report ${other.job} --out <file>\` to write them again`,
      );
      return;
    }
    await fsp.rename(path, aside);
    this.warnings.push(
      `${path} held the results of job ${other.job} (${count(other.entry.rows, 'transaction id')}): moved to ${aside}`,
    );
  }

  /**
   * After a write that left no rows of `kind`: removes the stale file at `path` when this job
   * wrote it, or when it holds nothing but `header` as the job writes it (`format`: the failed
   * CSV's delimiter and `sep=` line); leaves any other file as it is, with a line for `warnings`.
   * @throws the fs error of the removal
   */
  async removeStale(
    path: string,
    kind: OutputKind,
    header: readonly string[],
    format: WriteCsvOptions = {},
  ): Promise<void> {
    const now = await identity(path);
    if (!now) return;
    if ((await this.#ours(path, now)) || (await headerOnly(path, header, format))) {
      await fsp.rm(path, { force: true });
      return;
    }
    const other = await this.#otherOwner(path, now);
    this.warnings.push(
      other
        ? `${path} holds the ${count(other.entry.rows, `${kind} row`)} of job ${other.job}, not of this job (which has none): left as it is`
        : `${path} was not written by this job (which has no ${kind} rows): left as it is — do not feed it back without checking it`,
    );
  }

  /** Records what this job has at `path` now (after its rename), or that it has nothing there. */
  async wrote(path: string, kind: OutputKind, rows: number | null): Promise<void> {
    const now = rows === null ? null : await identity(path);
    if (now && rows !== null) this.#record.files[path] = { ...now, kind, rows };
    else delete this.#record.files[path];
  }

  /** The file recorded at `from` was renamed to `to` (a rename keeps its identity): still this job's. */
  moved(from: string, to: string): void {
    const entry = this.#record.files[from];
    if (!entry) return;
    delete this.#record.files[from];
    this.#record.files[to] = entry;
  }

  /** @throws the fs error of writing the record */
  async save(): Promise<void> {
    if (this.#jobDir === undefined) return;
    await writeFileAtomic(join(this.#jobDir, RECORD), JSON.stringify(this.#record, null, 2) + '\n');
  }
}
