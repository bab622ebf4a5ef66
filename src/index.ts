/**
 * recharge-batch as a library (SPEC §8): the engine the CLI is a thin layer over.
 *
 *   import { runJob, validateCsv, AlsamiflexiClient, startSandbox } from 'recharge-batch';
 */
export { AlsamiflexiClient, type SubmitOptions } from './api/client.js';
export type { ClientOptions } from './api/client-options.js';
export { retryAfterMs } from './api/headers.js';
export type { RequestKind, RequestScheduler } from './api/headers.js';
export { DEFAULT_BASE_URL } from './api/types.js';
export type { Balance, Operator, RechargeRequest, Transaction } from './api/types.js';

export { RateLimiter, PLANS } from './limit/limiter.js';
export type { LimiterOptions, Plan } from './limit/limiter.js';

export { runJob, resumeJob, retryJob } from './run.js';
export type { RunJobOptions, EngineOptions, JobResult } from './run.js';
export { JobEvents } from './job/events.js';
export { WebhookReceiver, DEFAULT_WEBHOOK_PATH } from './job/webhooks.js';
export type { WebhookReceiverOptions, WebhookJob, WebhookStats, HintAnswer } from './job/webhooks.js';
export type { JobEventMap } from './job/events.js';
export { snapshot as jobSnapshot, listJobs } from './job/job.js';
export type { JobMeta, JobSnapshot } from './job/job.js';
export { ROW_STATUSES } from './job/rows.js';
export type { RowStatus, RowState } from './job/rows.js';
export { writeResults } from './report/results.js';
export { defaultOutputs } from './job/outputs.js';
export type { Outputs, ResultsWriter, WrittenResults } from './job/outputs.js';
export { FileRegistry, registryPath } from './job/registry.js';
export type {
  Registry,
  Claim,
  ClaimOptions,
  ClaimResult,
  EarlierIntent,
  EntryState,
  RegistryOutcome,
} from './job/registry.js';
export { accountId, normalizeBaseUrl } from './api/account.js';
export { AuditLog } from './report/audit.js';
export type { AuditOptions } from './report/audit.js';

export { watchFolder, isCandidate as isWatchedCsv } from './watch.js';
export type { WatchOptions, WatchResult, FileOutcome } from './watch.js';

export {
  validateCsv,
  createValidator,
  loadOperatorsFile,
  normalizeNumber,
  normalizeAmount,
  parseMapOption,
} from './validate/index.js';
export type {
  ValidateOptions,
  ValidationSummary,
  RowVerdict,
  ValidRow,
  ColumnMap,
} from './validate/index.js';

export { startSandbox, DEFAULT_OPERATORS } from './sandbox/index.js';
export type { Sandbox, SandboxOptions, LedgerEntry } from './sandbox/index.js';

export { BatchError, ApiError } from './errors.js';
export type { ErrorCode, RowErrorCode } from './errors.js';
export { systemClock, FakeClock } from './clock.js';
export type { Clock } from './clock.js';
export { parseDuration, parseRate } from './util/units.js';
