import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCsvAtomic, writeCsvBatchesAtomic } from '../../src/csv/write.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'csv-write-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeCsvAtomic', () => {
  it('writes header and rows, quoting what needs it, and reads back the same', async () => {
    const path = join(dir, 'out.csv');
    const rows = [
      ['1', 'Rahman, Md.', 'line\nbreak', 'say "hi"'],
      ['2', 'রহিম', '', ' padded '],
    ];
    await writeCsvAtomic(path, ['row', 'name', 'note', 'quote'], rows, { bom: false });
    const text = await readFile(path, 'utf8');
    expect(text.startsWith('row,name,note,quote\n')).toBe(true);
    expect(parse(text)).toEqual([['row', 'name', 'note', 'quote'], ...rows]);
    expect(await readdir(dir)).toEqual(['out.csv']);
  });

  it('takes an async iterable and keeps repeated or empty header names', async () => {
    const path = join(dir, 'async.csv');
    async function* rows() {
      for (let i = 0; i < 1000; i++) yield [String(i), 'x', ''];
    }
    await writeCsvAtomic(path, ['a', 'a', ''], rows(), { bom: false });
    const back = parse(await readFile(path, 'utf8')) as string[][];
    expect(back[0]).toEqual(['a', 'a', '']);
    expect(back).toHaveLength(1001);
  });

  it('replaces an existing file, and leaves it untouched when the rows fail', async () => {
    const path = join(dir, 'keep.csv');
    await writeFile(path, 'old\n');
    async function* broken() {
      yield ['1'];
      throw new Error('boom');
    }
    await expect(writeCsvAtomic(path, ['h'], broken())).rejects.toThrow('boom');
    expect(await readFile(path, 'utf8')).toBe('old\n');
    expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
    await writeCsvAtomic(path, ['h'], [['new']], { bom: false });
    expect(await readFile(path, 'utf8')).toBe('h\nnew\n');
  });

  it('writes rows given in batches', async () => {
    const path = join(dir, 'batches.csv');
    async function* batches() {
      yield [['1', 'a']];
      yield [];
      yield [
        ['2', 'b,c'],
        ['3', ''],
      ];
    }
    await writeCsvBatchesAtomic(path, ['n', 'v'], batches(), { bom: false });
    expect(await readFile(path, 'utf8')).toBe('n,v\n1,a\n2,"b,c"\n3,\n');
  });

  it('starts with a UTF-8 BOM unless told not to (SPEC §4: Excel needs it for Bengali)', async () => {
    const path = join(dir, 'bom.csv');
    await writeCsvAtomic(path, ['নাম'], [['রহিম']]);
    expect((await readFile(path)).subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(await readFile(path, 'utf8')).toBe('\ufeffনাম\nরহিম\n');
    await writeCsvAtomic(path, ['নাম'], [['রহিম']], { bom: false });
    expect(await readFile(path, 'utf8')).toBe('নাম\nরহিম\n');
  });

  it('fails when the parent directory does not exist', async () => {
    await expect(writeCsvAtomic(join(dir, 'no', 'such.csv'), ['h'], [])).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
});
