/**
 * The per-process services a job command may run beside the engine (SPEC §10): the audit log
 * (`--log-file`) and the webhook receiver (`--webhook-listen`). Shared by run/resume/retry and
 * watch, so a watched folder has one receiver and one audit log for all its jobs.
 */
import { AuditLog } from '../report/audit.js';
import { WebhookReceiver, parseListen } from '../job/webhooks.js';
import type { ResolvedOptions } from '../config.js';
import { apiKey, type Io } from './context.js';

/** The audit log of `--log-file`, or null. @throws BatchError USAGE when it cannot be opened */
export function auditFromOptions(options: ResolvedOptions): AuditLog | null {
  const file = options.logFile;
  if (file === undefined || file === '') return null;
  const key = apiKey(options);
  return new AuditLog({ file, baseUrl: options.baseUrl, apiKey: key });
}

/**
 * The webhook receiver of `--webhook-listen`, listening, or null.
 * @throws BatchError USAGE for a bad or unusable address (before anything is sent)
 */
export async function webhooksFromOptions(options: ResolvedOptions, io: Io): Promise<WebhookReceiver | null> {
  const listen = options.webhookListen;
  if (listen === undefined || listen === '') return null;
  const { host, port } = parseListen(listen);
  const receiver = new WebhookReceiver({ path: options.webhookPath });
  const url = await receiver.listen(host, port);
  if (!options.quiet) io.err(`receiving webhook events at ${url}`);
  return receiver;
}
