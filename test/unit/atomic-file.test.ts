/**
 * The one atomic-write helper (util/fs.ts AtomicFile, issue 10 point 5): the job's plan and
 * meta and every CSV go through it. A reader sees the old file or the whole new one; a failed
 * or abandoned write leaves the old file and no temp file.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AtomicFile, writeFileAtomic } from '../../src/util/fs.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'atomic-file-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const temps = async (d: string) => (await readdir(d)).filter((f) => f.includes('.tmp-'));

describe('AtomicFile', () => {
  it('shows nothing at the path until committed, then the whole content, with no temp file left', async () => {
    const d = await mkdtemp(join(dir, 'commit-'));
    const path = join(d, 'plan.jsonl');
    await writeFile(path, 'old\n');
    const file = await AtomicFile.open(path, 0o600);
    await file.write('{"row":1}\n');
    await file.write(Buffer.from('{"row":2,"name":"রহিম"}\n'));
    expect(await readFile(path, 'utf8')).toBe('old\n'); // a reader still sees the old file
    await file.commit();
    expect(await readFile(path, 'utf8')).toBe('{"row":1}\n{"row":2,"name":"রহিম"}\n');
    expect(await temps(d)).toEqual([]);
  });

  it('abort leaves the old file as it was and removes the temp file, even after a commit attempt', async () => {
    const d = await mkdtemp(join(dir, 'abort-'));
    const path = join(d, 'results.csv');
    await writeFile(path, 'old\n');
    const file = await AtomicFile.open(path, 0o666);
    await file.write('half of a new file');
    await file.abort();
    await file.abort(); // twice is harmless
    expect(await readFile(path, 'utf8')).toBe('old\n');
    expect(await temps(d)).toEqual([]);
  });

  it('a commit that cannot rename (the target is a folder) throws, and leaves no temp file', async () => {
    const d = await mkdtemp(join(dir, 'rename-'));
    const path = join(d, 'taken');
    await mkdir(path);
    await writeFile(join(path, 'inside'), 'kept');
    const file = await AtomicFile.open(path, 0o600);
    await file.write('data');
    await expect(file.commit()).rejects.toMatchObject({
      code: expect.stringMatching(/EISDIR|ENOTEMPTY|EEXIST/),
    });
    expect(await temps(d)).toEqual([]);
    expect(await readFile(join(path, 'inside'), 'utf8')).toBe('kept');
  });

  it('two writers of one path in one process never share a temp file: the last commit wins whole', async () => {
    const d = await mkdtemp(join(dir, 'two-'));
    const path = join(d, 'meta.json');
    const a = await AtomicFile.open(path, 0o600);
    const b = await AtomicFile.open(path, 0o600);
    expect(a.tmp).not.toBe(b.tmp);
    await a.write('A'.repeat(1000));
    await b.write('B'.repeat(10));
    await a.commit();
    await b.commit();
    expect(await readFile(path, 'utf8')).toBe('B'.repeat(10));
    expect(await temps(d)).toEqual([]);
  });

  it('a file larger than its in-between flushes (every 8 MiB) is committed whole, or aborted whole', async () => {
    const d = await mkdtemp(join(dir, 'large-'));
    const path = join(d, 'report.csv');
    const chunk = Buffer.alloc(1 << 20, 'x');
    const file = await AtomicFile.open(path, 0o666);
    for (let i = 0; i < 20; i++) await file.write(chunk);
    await file.commit();
    expect((await stat(path)).size).toBe(20 << 20);
    const again = await AtomicFile.open(path, 0o666);
    for (let i = 0; i < 10; i++) await again.write('y'.repeat(1 << 20));
    await again.abort(); // while a flush may still be running
    expect((await stat(path)).size).toBe(20 << 20);
    expect(await temps(d)).toEqual([]);
  });

  it('fails at once when the folder is missing', async () => {
    await expect(AtomicFile.open(join(dir, 'no', 'such.csv'), 0o666)).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
});

describe('writeFileAtomic', () => {
  it('replaces the file whole, readable by the owner only (job state holds names and numbers)', async () => {
    const d = await mkdtemp(join(dir, 'state-'));
    const path = join(d, 'meta.json');
    await writeFileAtomic(path, '{"v":1}\n');
    await writeFileAtomic(path, '{"v":2}\n');
    expect(await readFile(path, 'utf8')).toBe('{"v":2}\n');
    if (process.platform !== 'win32') expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await temps(d)).toEqual([]);
  });

  it('leaves nothing behind when the folder is missing', async () => {
    await expect(writeFileAtomic(join(dir, 'gone', 'meta.json'), '{}')).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
});
