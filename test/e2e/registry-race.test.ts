/**
 * SPEC §5a: "two processes of the same state dir can never both pass the check for the same
 * number and amount". Several processes, each with its own registry on one state dir, wait for
 * a shared instant (busy-waiting, so they really start together), then all claim the same
 * numbers; exactly one claim per number may pass, round after round.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers.js';

const DIST = new URL('../../dist/job/registry.js', import.meta.url).href;

const CHILD = `
const { FileRegistry } = await import(process.env.REGISTRY_URL);
const [stateDir, me, at, count] = process.argv.slice(2);
const reg = await FileRegistry.open(stateDir, 'feedfacecafebeef');
while (Date.now() < Number(at)); // the shared instant
const claims = Array.from({ length: Number(count) }, (_, i) => ({
  number: '0171' + String(1000000 + i).slice(-7), amount: 100, reference: me + '-' + i,
  job: 'job-' + me, jobId: 'job-' + me, row: i + 1, attempt: 1, at: Date.now(),
}));
// half in one batch, half one by one: both paths of the group commit
const half = Math.floor(claims.length / 2);
const results = [
  ...(await reg.claim(claims.slice(0, half), { windowMs: 86400000, allowRepeat: false })),
  ...(await Promise.all(claims.slice(half).map((c) => reg.claim([c], { windowMs: 86400000, allowRepeat: false }).then((r) => r[0])))),
];
await reg.close();
console.log(JSON.stringify(results.map((r) => r.ok)));
`;

function run(script: string, args: string[]): Promise<boolean[]> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [script, ...args], {
      env: { PATH: process.env.PATH ?? '', REGISTRY_URL: DIST },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(out) as boolean[]) : reject(new Error(`child exited ${code}: ${err}`)),
    );
  });
}

describe('registry across processes', () => {
  it('4 processes claiming the same 30 numbers at one instant, 8 rounds: exactly one claim of each number passes', async () => {
    const dir = tempDir('rb-race-');
    const script = join(dir, 'claim.mjs');
    writeFileSync(script, CHILD);
    for (let round = 0; round < 8; round++) {
      const stateDir = join(dir, `state-${round}`);
      // far enough ahead for every process to have started and opened its registry
      const at = Date.now() + 1500;
      const all = await Promise.all(
        [0, 1, 2, 3].map((k) => run(script, [stateDir, String(k), String(at), '30'])),
      );
      for (let i = 0; i < 30; i++)
        expect(all.filter((ok) => ok[i]).length, `round ${round}, number ${i}`).toBe(1);
    }
  });
});
