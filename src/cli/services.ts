/**
 * The per-process services a job command may run beside the engine (SPEC §10): the audit log
 * (`--log-file`) and the webhook receiver (`--webhook-listen`). Shared by run/resume/retry and
 * watch, so a watched folder has one receiver and one audit log for all its jobs.
 */
import { AuditLog, accountId } from '../report/audit.js';
import { apiKey, type Options } from './context.js';

/** The audit log of `--log-file`, or null. @throws BatchError USAGE when it cannot be opened */
export function auditFromOptions(options: Options): AuditLog | null {
  const file = options['log-file'];
  if (typeof file !== 'string' || file === '') return null;
  const key = apiKey(options);
  return new AuditLog({ file, account: accountId(String(options['base-url']), key), apiKey: key });
}
