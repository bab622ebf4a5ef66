/**
 * What the engine asks of an account registry (SPEC §5a), and what it answers: the contract a
 * shared store (PostgreSQL, SPEC §11) would implement in place of the file registry
 * (registry.ts). How the answers are decided is in registry-index.ts.
 */

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
  /** its job instance (Claim.jobId) and attempt: with `row`, the intent's identity ({@link IntentRef}) */
  jobId: string;
  attempt: number;
  row: number;
  reference: string;
  transactionId?: string;
  amount: number;
  at: number;
  state: EntryState;
}

/** One intent named by its identity: a job instance's attempt at a row. */
export interface IntentRef {
  jobId: string;
  row: number;
  attempt: number;
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
  /**
   * Reads what other processes recorded since the last read, then what is known now of each
   * named intent, in order (undefined: not held — unknown to the registry, or older than what
   * it keeps). Read-only: a resumed job re-checks the rows it skipped for one (SPEC §5a).
   */
  lookup(refs: IntentRef[]): Promise<(EarlierIntent | undefined)[]>;
  /** What the registry holds for one intent as last read (undefined: no such intent). */
  recorded(jobId: string, row: number, attempt: number): EntryState | undefined;
  /** Records what became of an intent. Durable by `flush`/`close`; it guards no send. */
  outcome(jobId: string, row: number, attempt: number, state: RegistryOutcome, transactionId?: string): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** ALREADY_PAID: the earlier one has a transaction; MAYBE_PAID: its outcome is not known. */
export function repeatCode(state: EntryState): 'ALREADY_PAID' | 'MAYBE_PAID' {
  return state === 'completed' || state === 'processing' ? 'ALREADY_PAID' : 'MAYBE_PAID';
}
