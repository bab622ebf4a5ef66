/**
 * Errors with a stable `code`. Library code throws these; only `cli.ts` turns a code into an
 * exit code and a line of text. Tests assert the code, never the message.
 */

/** Whole-run problems. Row-level problems are {@link RowErrorCode}s carried in results. */
export type ErrorCode =
  // usage and input (exit 2)
  | 'USAGE'
  | 'CONFIG_INVALID'
  | 'FILE_NOT_FOUND'
  | 'FILE_UNREADABLE'
  | 'FILE_IS_OUTPUT'
  | 'FILE_EMPTY'
  | 'FILE_NO_DATA'
  | 'FILE_BINARY'
  | 'FILE_ENCODING'
  | 'CSV_PARSE'
  | 'HEADER_MISSING_COLUMN'
  | 'HEADER_AMBIGUOUS'
  | 'HEADER_MAP_INVALID'
  | 'OPERATORS_FILE_INVALID'
  | 'MAX_TOTAL_EXCEEDED'
  | 'JOB_NOT_FOUND'
  | 'JOB_LOCKED'
  | 'JOB_FINISHED'
  | 'JOB_MISMATCH'
  | 'JOB_CORRUPT'
  // API access (exit 3)
  | 'API_UNAUTHORIZED'
  | 'API_UNREACHABLE'
  | 'API_TIMEOUT'
  | 'API_BAD_RESPONSE'
  | 'API_ERROR'
  // stopped early, resumable (exit 4)
  | 'INSUFFICIENT_BALANCE'
  | 'INTERRUPTED'
  | 'POLL_TIMEOUT'
  // a bug
  | 'INTERNAL';

/** Row-level codes of SPEC §3 (validation) plus the outcome codes the runner records. */
export type RowErrorCode =
  | 'MALFORMED_ROW'
  | 'INVALID_NUMBER'
  | 'INVALID_AMOUNT'
  | 'AMOUNT_OUT_OF_RANGE'
  | 'UNKNOWN_OPERATOR'
  | 'INVALID_REFERENCE'
  | 'DUPLICATE_REFERENCE'
  | 'DUPLICATE_ROW';

export class BatchError extends Error {
  readonly code: ErrorCode;
  readonly context: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BatchError';
    this.code = code;
    this.context = context;
  }
}

/**
 * An answer from the API that was not a success, or no usable answer at all.
 * `status` is the HTTP status (0 when no response arrived); `apiCode` is the API's own
 * `error.code` when the body carried one. `sent` tells whether the request may have reached
 * the server: false only when the connection was refused before anything was written, which
 * is the one network failure after which a POST is safe to resend (SPEC §5).
 */
export class ApiError extends BatchError {
  readonly status: number;
  readonly apiCode: string | undefined;
  readonly headers: Record<string, string>;
  readonly sent: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    init: { status?: number; apiCode?: string; headers?: Record<string, string>; sent?: boolean; cause?: unknown } = {},
  ) {
    super(code, message, { status: init.status ?? 0, apiCode: init.apiCode }, { cause: init.cause });
    this.name = 'ApiError';
    this.status = init.status ?? 0;
    this.apiCode = init.apiCode;
    this.headers = init.headers ?? {};
    this.sent = init.sent ?? true;
  }
}

export function isBatchError(err: unknown): err is BatchError {
  return err instanceof BatchError;
}
