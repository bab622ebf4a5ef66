/**
 * The journal and the account registry write through `openDurableAppend` (util/fs.ts): on
 * Linux the file is opened O_DSYNC, so a write that returned is on disk and no separate fsync
 * follows it (issue #13). Dropping the flag without bringing back the fsync would make every
 * "durable" record a record in the page cache only: these tests read the open file's flags
 * from /proc, as the kernel sees them. Also the registry's tail reads, which no longer stat
 * the file first: a history longer than one read, and one line longer than a read.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, constants, mkdtempSync, readFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDurableAppend } from '../../src/util/fs.js';
import { Journal } from '../../src/job/journal.js';
import { FileRegistry, registryPath, type Claim } from '../../src/job/registry.js';

const ACCOUNT = 'abcdef0123456789';
const WEEK = { windowMs: 7 * 86_400_000, allowRepeat: false };
const T0 = 1_800_000_000_000;

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

function claim(over: Partial<Claim> = {}): Claim {
  return {
    number: '01712345678',
    amount: 100,
    reference: 'ref-1',
    job: 'payroll-aaaa',
    jobId: 'job-a',
    row: 1,
    attempt: 1,
    at: T0,
    ...over,
  };
}

/** A registry intent line as another process writes it. */
function foreignIntent(i: number, job = 'payroll-other'): string {
  const number = `0171${String(1_000_000 + i).slice(-7)}`;
  return (
    JSON.stringify({
      t: 'i',
      c: `other.${i}`,
      n: number,
      a: 100,
      r: `o-${i}`,
      j: job,
      u: 'job-other',
      w: i,
      k: 1,
      at: T0,
    }) + '\n'
  );
}

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

describe("the registry's tail reads", () => {
  it('reads a history longer than one read whole, lines cut by a read boundary included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-dur-'));
    const reg = await FileRegistry.open(dir, ACCOUNT);
    toClose.push(reg);
    // ~1,000 lines of ~170 bytes: 170 KB, several 64 KiB reads, boundaries mid-line
    let text = '';
    for (let i = 0; i < 1000; i++) text += foreignIntent(i);
    appendFileSync(registryPath(dir, ACCOUNT), text);
    const numbers = [0, 385, 386, 999].map((i) => `0171${String(1_000_000 + i).slice(-7)}`);
    const found = await reg.peek(
      numbers.map((n) => claim({ number: n })),
      WEEK,
    );
    expect(found.map((f) => f?.row)).toEqual([0, 385, 386, 999]);
  });

  it('reads one line longer than a read (a very long job name) and the lines after it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-dur-'));
    const reg = await FileRegistry.open(dir, ACCOUNT);
    toClose.push(reg);
    appendFileSync(registryPath(dir, ACCOUNT), foreignIntent(1, 'x'.repeat(200_000)) + foreignIntent(2));
    const [long, after] = await reg.peek(
      [claim({ number: '01711000001' }), claim({ number: '01711000002' })],
      WEEK,
    );
    expect(long?.job).toBe('x'.repeat(200_000));
    expect(after?.row).toBe(2);
  });
});
