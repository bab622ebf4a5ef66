/** The API sandbox (SPEC §9). */
export { startSandbox, DEFAULT_OPERATORS } from './server.js';
export type {
  Sandbox,
  SandboxOptions,
  SandboxStats,
  LedgerEntry,
  RequestLogEntry,
  ConfigPatch,
  DedupMode,
} from './server.js';
export type { RateLimitWindow } from './ratelimit.js';
export { mulberry32 } from './random.js';
export type { Faults } from './faults.js';
