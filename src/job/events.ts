/** Typed events of a running job; the progress display, log lines and JSON summary listen. */
import { EventEmitter } from 'node:events';
import type { RowState } from './rows.js';
import type { ErrorCode } from '../errors.js';

export interface JobEventMap {
  'job:started': [{ job: string; rows: RowState[]; resumed: boolean; pending: number; processing: number }];
  'row:submitted': [{ row: RowState }];
  'row:accepted': [{ row: RowState }];
  'row:final': [{ row: RowState }];
  'row:unknown': [{ row: RowState }];
  'job:stopping': [{ code: ErrorCode; message: string }];
  warning: [{ message: string }];
}

export class JobEvents extends EventEmitter<JobEventMap> {}
