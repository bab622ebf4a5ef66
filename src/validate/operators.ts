/** `--operators file.json`: the operator list for offline validation (SPEC §2). */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { operatorSchema, type Operator } from '../api/types.js';
import { BatchError } from '../errors.js';

const operatorList = z.array(operatorSchema).min(1);
/** The API's `GET /operators` answer; the file may also hold the bare array. */
const apiAnswer = z.object({ success: z.literal(true), data: operatorList });

export async function loadOperatorsFile(path: string): Promise<Operator[]> {
  const fail = (why: string, cause?: unknown) =>
    new BatchError('OPERATORS_FILE_INVALID', `operators file ${path} ${why}`, { path }, { cause });
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw fail(code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(err)})`, err);
  }
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw fail(`is not valid JSON (${(err as Error).message})`, err);
  }
  const parsed = Array.isArray(json) ? operatorList.safeParse(json) : apiAnswer.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue
      ? ` (${issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''}${issue.message})`
      : '';
    throw fail(
      `is not an operator list${where}: expected an array of {id, name, code, min_amount, max_amount} or the API's {"success": true, "data": [...]}`,
    );
  }
  return Array.isArray(parsed.data) ? parsed.data : (parsed.data as z.infer<typeof apiAnswer>).data;
}
