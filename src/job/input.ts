/**
 * What a job keeps of its input file (`job.json` `input`, SPEC §5): which file, which bytes, and
 * how it was read — the facts a later process (`report`, `resume`, `retry`) needs to write the
 * failed CSV as the input was written, whether or not the input is still there.
 */
import type { Delimiter } from '../csv/read.js';

/** `job.json` `input`: the input file's path, sha256 (hex) and size in bytes, and how it was read. */
export interface JobInput {
  path: string;
  hash: string;
  size: number;
  /**
   * the delimiter the input was read with (SPEC §3): the failed CSV is written with it, at every
   * stop and by a later `report`/`resume`/`retry` (README "Results"); absent in jobs made before
   * it was kept: `,`
   */
  delimiter?: Delimiter;
  /** true when an Excel `sep=X` first line set the delimiter (SPEC §3a); absent: there was none */
  sepLine?: boolean;
}
