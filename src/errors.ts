/**
 * Errors with a stable `code`. Library code throws these; only `cli.ts` turns a code into an
 * exit code and a line of text. Tests assert the code, never the message.
 */

/**
 * Whole-run problems, each with one exit code (src/exit.ts, a `Record` over this list, so a
 * new code cannot be left without one). Row-level problems are {@link RowErrorCode}s carried in
 * results.
 */
export const ERROR_CODES = [
  // usage and input (exit 2)
  'USAGE',
  'CONFIG_INVALID',
  'FILE_NOT_FOUND',
  'FILE_UNREADABLE',
  'FILE_IS_OUTPUT',
  'FILE_EMPTY',
  'FILE_NO_DATA',
  'FILE_BINARY',
  'FILE_ENCODING',
  'CSV_PARSE',
  'HEADER_MISSING_COLUMN',
  'HEADER_AMBIGUOUS',
  'HEADER_MAP_INVALID',
  'OPERATORS_FILE_INVALID',
  'MAX_TOTAL_EXCEEDED',
  'JOB_NOT_FOUND',
  'JOB_LOCKED',
  'JOB_FINISHED',
  'JOB_MISMATCH',
  'JOB_CORRUPT',
  // API access (exit 3)
  'API_UNAUTHORIZED',
  'API_UNREACHABLE',
  'API_TIMEOUT',
  'API_BAD_RESPONSE',
  'API_ERROR',
  /** 429 after 429 for longer than --max-wait before anything was sent (SPEC §5 additions) */
  'API_RATE_LIMITED',
  /** the circuit breaker: several POSTs in a row got no readable answer (SPEC §5 additions) */
  'API_UNREADABLE',
  // local files (exit 2 before anything was sent, else 4; SPEC §5 additions)
  'LOCAL_IO',
  'LOCAL_IO_STOPPED',
  // stopped early, resumable (exit 4)
  'INSUFFICIENT_BALANCE',
  'INTERRUPTED',
  'POLL_TIMEOUT',
  /** the API asked for a wait longer than --max-wait, or kept answering 429 mid-run */
  'RATE_LIMITED',
  'INPUT_CHANGED',
  // a bug
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

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

  constructor(
    code: ErrorCode,
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
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
  /** for RATE_LIMITED: when the API said to come back (epoch ms) */
  readonly retryAt: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    init: {
      status?: number;
      apiCode?: string;
      headers?: Record<string, string>;
      sent?: boolean;
      cause?: unknown;
      retryAt?: number;
    } = {},
  ) {
    super(code, message, { status: init.status ?? 0, apiCode: init.apiCode }, { cause: init.cause });
    this.name = 'ApiError';
    this.status = init.status ?? 0;
    this.apiCode = init.apiCode;
    this.headers = init.headers ?? {};
    this.sent = init.sent ?? true;
    this.retryAt = init.retryAt;
  }
}

const IO_PROBLEMS: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exhausted',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'an input/output error of the disk',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files',
};

/**
 * A local file-system failure (disk full, read-only, permission) as one line naming the path
 * and the problem (SPEC §5 additions, "Local I/O failures"); undefined for any other error.
 * `sent`: whether anything may have been submitted already (exit 4 then, else exit 2).
 */
export function localIoError(err: unknown, sent: boolean, path?: string): BatchError | undefined {
  if (err instanceof BatchError && (err.code === 'LOCAL_IO' || err.code === 'LOCAL_IO_STOPPED')) {
    return sent && err.code === 'LOCAL_IO'
      ? new BatchError('LOCAL_IO_STOPPED', stoppedText(err.message), err.context, { cause: err })
      : err;
  }
  const e = err as NodeJS.ErrnoException | undefined;
  const problem = e && typeof e === 'object' && typeof e.code === 'string' ? IO_PROBLEMS[e.code] : undefined;
  if (!problem) return undefined;
  const where = e!.path ?? path ?? 'a local file';
  const base = `cannot write ${where}: ${problem} (${e!.code})`;
  return sent
    ? new BatchError('LOCAL_IO_STOPPED', stoppedText(base), { path: where }, { cause: err })
    : new BatchError('LOCAL_IO', `${base}; nothing was sent`, { path: where }, { cause: err });
}

function stoppedText(base: string): string {
  return `${base.replace(/; nothing was sent$/, '')}; stopped — free the space or fix the permission, then run the same command again to resume`;
}

export function isBatchError(err: unknown): err is BatchError {
  return err instanceof BatchError;
}

/**
 * The report file of `validate --out` (or any output named by the user) that cannot be
 * created, as one LOCAL_IO line naming the file the user gave (exit 2), not the temp file
 * beside it; undefined for errors that are not about the file system.
 */
export function outputFileError(err: unknown, path: string): BatchError | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const why =
    code === 'ENOENT' || code === 'ENOTDIR'
      ? 'no file can be created there (is the folder missing?)'
      : code === 'EISDIR'
        ? 'it is a folder'
        : code && IO_PROBLEMS[code];
  if (!why) return undefined;
  return new BatchError(
    'LOCAL_IO',
    `cannot write ${path}: ${why} (${code}); choose another --out`,
    { path },
    {
      cause: err,
    },
  );
}
