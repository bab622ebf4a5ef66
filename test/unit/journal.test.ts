import { describe, expect, it } from 'vitest';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal, type JournalRecord } from '../../src/job/journal.js';

const dir = () => mkdtempSync(join(tmpdir(), 'rb-journal-'));
const intent = (row: number): JournalRecord => ({ t: 'intent', row, att: 1, ref: `r${row}`, at: 1000 + row });

async function replay(path: string): Promise<JournalRecord[]> {
  const seen: JournalRecord[] = [];
  const j = await Journal.open(path, (r) => seen.push(r));
  await j.close();
  return seen;
}

describe('Journal', () => {
  it('appends durable records and replays them in order', async () => {
    const path = join(dir(), 'journal.log');
    const j = await Journal.open(path, () => undefined);
    await j.append(intent(1));
    await j.append({ t: 'accepted', row: 1, att: 1, txn: 'TXN1', st: 'processing', at: 2000 });
    await j.close();
    expect(await replay(path)).toEqual([
      intent(1),
      { t: 'accepted', row: 1, att: 1, txn: 'TXN1', st: 'processing', at: 2000 },
    ]);
  });

  it('groups concurrent appends into fewer fsyncs, every one still durable', async () => {
    const path = join(dir(), 'journal.log');
    const j = await Journal.open(path, () => undefined);
    await Promise.all(Array.from({ length: 50 }, (_, i) => j.append(intent(i + 1))));
    expect(j.syncs).toBeLessThan(50);
    await j.close();
    expect((await replay(path)).map((r) => (r as { row: number }).row)).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
  });

  it('drops a torn last record (crash mid-write) and truncates it away before appending', async () => {
    const path = join(dir(), 'journal.log');
    writeFileSync(path, JSON.stringify(intent(1)) + '\n' + JSON.stringify(intent(2)).slice(0, 17));
    const seen: JournalRecord[] = [];
    const j = await Journal.open(path, (r) => seen.push(r));
    expect(seen).toEqual([intent(1)]);
    await j.append(intent(3));
    await j.close();
    expect(readFileSync(path, 'utf8')).toBe(
      JSON.stringify(intent(1)) + '\n' + JSON.stringify(intent(3)) + '\n',
    );
  });

  it('drops a complete but unparseable last line too', async () => {
    const path = join(dir(), 'journal.log');
    writeFileSync(path, JSON.stringify(intent(1)) + '\n{"t":"inte\n');
    expect(await replay(path)).toEqual([intent(1)]);
  });

  it('refuses a journal damaged in the middle instead of guessing', async () => {
    const path = join(dir(), 'journal.log');
    writeFileSync(path, JSON.stringify(intent(1)) + '\ngarbage\n' + JSON.stringify(intent(2)) + '\n');
    await expect(Journal.open(path, () => undefined)).rejects.toMatchObject({ code: 'JOB_CORRUPT' });
  });

  it('replays a large journal streamed across chunk boundaries', async () => {
    const path = join(dir(), 'journal.log');
    let text = '';
    for (let i = 1; i <= 5000; i++) text += JSON.stringify(intent(i)) + '\n';
    appendFileSync(path, text);
    const seen = await replay(path);
    expect(seen).toHaveLength(5000);
    expect(seen[4999]).toEqual(intent(5000));
  });
});
