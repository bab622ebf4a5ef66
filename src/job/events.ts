/** Typed events of a running job; the progress display, log lines and JSON summary listen. */
import { EventEmitter } from 'node:events';
import type { RowState, RowStatus } from './rows.js';
import type { ErrorCode } from '../errors.js';
import type { SameNumberRow } from '../validate/same-number.js';

export interface JobEventMap {
  /**
   * A file became a new job (`run`): every row validated and planned, nothing sent yet.
   * `sameNumber`: the valid rows whose number an earlier row has with another amount (SPEC §3,
   * §5a), counted, the first few given — for the end summary.
   */
  'job:planned': [
    { job: string; rows: number; sameNumber: { rows: number; first: readonly SameNumberRow[] } },
  ];
  'job:started': [{ job: string; rows: RowState[]; resumed: boolean; pending: number; processing: number }];
  'row:submitted': [{ row: RowState }];
  'row:accepted': [{ row: RowState }];
  'row:final': [{ row: RowState }];
  'row:unknown': [{ row: RowState }];
  /** an intent whose request certainly did nothing (402, a stop before sending): pending again */
  'row:released': [{ row: RowState; why: string }];
  'job:stopping': [{ code: ErrorCode; message: string }];
  /**
   * The job's run ended: every row final (`stopped` null) or stopped early with its reason.
   * Also emitted, with stopped.code INTERNAL or the error's code, when the run ends with an error.
   */
  'job:finished': [
    {
      job: string;
      counts: Record<RowStatus, number>;
      amounts: Record<RowStatus, number>;
      stopped: { code: ErrorCode; message: string } | null;
    },
  ];
  warning: [{ message: string }];
}

export class JobEvents extends EventEmitter<JobEventMap> {}
