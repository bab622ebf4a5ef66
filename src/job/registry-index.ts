/**
 * What the account registry file says (SPEC §5a), held in memory: its line format, one entry
 * per intent with the latest known state, and the rules that decide whether an earlier intent
 * blocks a claim. registry.ts reads the file into it and appends to the file; nothing here
 * touches the disk. The format is described in docs/design.md, "On disk".
 */
import type { Claim, EarlierIntent, EntryState, RegistryOutcome } from './registry-contract.js';

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
  att: number;
  reference: string;
  amount: number;
  at: number;
  state: EntryState;
  txn?: string;
}

/**
 * One line of the file, JSON. An intent (`t: 'i'`): claim id `c` (this process's nonce and a
 * sequence number), number `n`, amount `a` (BDT), reference `r`, job name `j`, job instance id
 * `u`, row `w`, attempt `k`, time `at` (epoch ms). An outcome (`t: 'o'`): the intent `id`
 * (`<job id>/<row>/<attempt>`), its state `s`, its transaction id `x` once known.
 */
export type Line =
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

/** The id an outcome line names its intent by. */
export const entryId = (jobId: string, row: number, att: number) => `${jobId}/${row}/${att}`;

const OUTCOME_START = '{"t":"o","id":"';
const INTENT_START = '{"t":"i","c":"';

/**
 * Which intents an index holds beyond what a claim needs. The file only grows: without these a
 * nightly run of 10,000 rows would hold a year of intents, millions of them, on every run, and
 * a run of a million rows an entry for each of its own claims (about 300 bytes each).
 */
export interface IndexScope {
  /**
   * epoch ms: other processes' intents made before it are not kept. They can block no claim of
   * this process: a claim looks back `windowMs` from its own time, which is later. Default: all.
   */
  horizon?: number;
  /**
   * false: this process's own claims are not kept once their position is taken — for an index
   * serving one job, whose own intents never block its claims (`blocker` and `otherAmount` pass
   * over the claim's own job) and which reads its recorded states before it claims. Default true.
   */
  keepOwnClaims?: boolean;
}

/** The intents read so far, by number and by id, in file order. */
export class RegistryIndex {
  private readonly byNumber = new Map<string, Entry[]>();
  private readonly byId = new Map<string, Entry>();
  /** file positions of this process's own claims (ids starting with `nonce`), until taken */
  private readonly mine = new Map<string, number>();
  private pos = 0;

  private readonly horizon: number;
  private readonly keepOwnClaims: boolean;

  /** @param nonce prefixes the claim ids this process writes */
  constructor(
    private readonly nonce: string,
    scope: IndexScope = {},
  ) {
    this.horizon = scope.horizon ?? -Infinity;
    this.keepOwnClaims = scope.keepOwnClaims ?? true;
  }

  /** The state of the intent `id` (entryId) as read so far. */
  state(id: string): EntryState | undefined {
    return this.byId.get(id)?.state;
  }

  /** What is known of the intent `id` (entryId) as read so far, or undefined if it is not held. */
  intent(id: string): EarlierIntent | undefined {
    const e = this.byId.get(id);
    return e && earlierOf(e);
  }

  /** The file position (in intent lines) of one of our claims, once read back; forgets it. */
  takeMine(claimId: string): number | undefined {
    const pos = this.mine.get(claimId);
    this.mine.delete(claimId);
    return pos;
  }

  /** Applies one line of the file (without its newline); false when it cannot be read. */
  apply(text: string): boolean {
    if (!text) return true;
    const skip = this.skippable(text);
    if (skip === 'o') return true;
    if (skip === 'i') {
      this.pos++;
      return true;
    }
    const line = parseLine(text);
    if (!line) return false;
    if (line.t === 'o') {
      const e = this.byId.get(line.id);
      if (!e) return true;
      e.state = line.s === 'skipped' ? 'released' : line.s;
      if (line.x) e.txn = line.x;
      return true;
    }
    const pos = this.pos++;
    if (line.c.startsWith(this.nonce)) {
      this.mine.set(line.c, pos);
      if (!this.keepOwnClaims) return true;
    } else if (line.at < this.horizon) return true;
    const id = entryId(line.u, line.w, line.k);
    const again = this.byId.get(id);
    if (again) {
      // the same attempt claimed again (a resume after a crash): one payment at most
      again.state = 'sent';
      again.at = line.at;
      return true;
    }
    const e: Entry = {
      id,
      pos,
      job: line.j,
      jobId: line.u,
      row: line.w,
      att: line.k,
      reference: line.r,
      amount: line.a,
      at: line.at,
      state: 'sent',
    };
    this.byId.set(id, e);
    const list = this.byNumber.get(line.n);
    if (list) list.push(e);
    else this.byNumber.set(line.n, [e]);
    return true;
  }

  /**
   * A line `apply` would not keep, told without JSON.parse (three quarters of the time of
   * opening a long history): 'i' for another process's intent older than the horizon, 'o' for
   * an outcome of an intent not held. Only lines in the exact shape JSON.stringify gives a
   * `Line` qualify; anything else is parsed (and refused if damaged). Skipping an outcome can
   * only leave a held intent blocking (the safe side), and held intents' outcomes are parsed.
   */
  private skippable(text: string): 'i' | 'o' | null {
    if (!text.endsWith('}')) return null;
    if (text.startsWith(OUTCOME_START)) {
      const end = text.indexOf('"', OUTCOME_START.length);
      return end > OUTCOME_START.length && !this.byId.has(text.slice(OUTCOME_START.length, end)) ? 'o' : null;
    }
    if (this.horizon === -Infinity || !text.startsWith(INTENT_START)) return null;
    const k = text.lastIndexOf(',"at":');
    const at = k < 0 ? NaN : Number(text.slice(k + 6, -1));
    if (!(at < this.horizon)) return null; // NaN too: parse it
    return text.startsWith(this.nonce, INTENT_START.length) ? null : 'i';
  }

  /**
   * The most settled earlier blocking intent of another job (before file position `before`):
   * same number and amount, inside `windowMs` of the claim, not failed or released (SPEC §5a).
   */
  blocker(c: Claim, windowMs: number, before: number): EarlierIntent | null {
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

  /** An intent of another job for the same number with another amount, inside the window (a warning). */
  otherAmount(c: Claim, windowMs: number): EarlierIntent | null {
    for (const e of this.byNumber.get(c.number) ?? []) {
      if (e.amount !== c.amount && e.jobId !== c.jobId && e.at >= c.at - windowMs && BLOCKING.has(e.state))
        return earlierOf(e);
    }
    return null;
  }
}

function earlierOf(e: Entry): EarlierIntent {
  return {
    job: e.job,
    jobId: e.jobId,
    attempt: e.att,
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
