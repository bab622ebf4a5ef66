/**
 * The journal and the account registry write through `openDurableAppend` (util/fs.ts): on
 * Linux the file is opened O_DSYNC, so a write that returned is on disk and no separate fsync
 * follows it (issue #13). Dropping the flag without bringing back the fsync would make every
 * "durable" record a record in the page cache only: these tests read the open file's flags
 * from /proc, as the kernel sees them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { constants, mkdtempSync, readFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDurableAppend } from '../../src/util/fs.js';
import { Journal } from '../../src/job/journal.js';
import { FileRegistry } from '../../src/job/registry.js';

const ACCOUNT = 'abcdef0123456789';

/** The open file description's flags, as /proc/self/fdinfo shows them (octal). */
function flagsOf(fh: FileHandle): number {
  const info = readFileSync(`/proc/self/fdinfo/${fh.fd}`, 'utf8');
  return parseInt(/^flags:\s+([0-7]+)/m.exec(info)![1]!, 8);
}
const fhOf = (x: unknown) => (x as { fh: FileHandle }).fh;

let toClose: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(toClose.map((c) => c.close().catch(() => undefined)));
  toClose = [];
});

describe('durable appends', () => {
  it('opens the file O_DSYNC, append-only, readable, with the mode asked for', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'rb-dur-')), 'f.log');
    const { fh, syncsOnWrite } = await openDurableAppend(path, 0o600);
    toClose.push(fh);
    expect(syncsOnWrite).toBe(true);
    const flags = flagsOf(fh);
    expect(flags & constants.O_DSYNC).toBe(constants.O_DSYNC);
    expect(flags & constants.O_APPEND).toBe(constants.O_APPEND);
    expect(flags & 0o3).toBe(constants.O_RDWR); // the access mode (O_ACCMODE, which Node does not export)
    expect((await fh.stat()).mode & 0o777).toBe(0o600 & ~process.umask());
  });

  it("the journal's file and the registry's file are opened O_DSYNC", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-dur-'));
    const journal = await Journal.open(join(dir, 'journal.log'), () => undefined);
    toClose.push(journal);
    const registry = await FileRegistry.open(dir, ACCOUNT);
    toClose.push(registry);
    expect(flagsOf(fhOf(journal)) & constants.O_DSYNC).toBe(constants.O_DSYNC);
    expect(flagsOf(fhOf(registry)) & constants.O_DSYNC).toBe(constants.O_DSYNC);
  });
});
