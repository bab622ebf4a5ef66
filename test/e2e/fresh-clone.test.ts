/**
 * The README's set-up on a machine with nothing but Node: a fresh clone, `npm ci` (which
 * builds dist/ through the prepare script), then the tests that need Redis, run with a PATH
 * that holds no redis-server and without CI set. They must skip with one visible line and the
 * run must pass — not fail, as it did before (issue: the first hour).
 */
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const hasGit = spawnSync('git', ['--version']).error === undefined && existsSync(join(root, '.git'));

describe.runIf(hasGit)('a fresh clone on a machine without redis-server', () => {
  it('installs, builds and passes the Redis suites by skipping them visibly', () => {
    const dir = tempDir('rb-clone-');
    const clone = join(dir, 'recharge-batch');
    execFileSync('git', ['clone', '--quiet', '--depth', '1', `file://${root}`, clone], { stdio: 'ignore' });
    // from the npm cache the project's own install filled; the registry only for what it lacks
    execFileSync('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: clone,
      stdio: 'ignore',
      timeout: 240_000,
    });
    expect(existsSync(join(clone, 'dist', 'cli.js'))).toBe(true);
    // a PATH with node and a shell, and no redis-server
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    symlinkSync('/bin/sh', join(bin, 'sh'));
    const env: NodeJS.ProcessEnv = { HOME: dir, PATH: bin };
    const r = spawnSync(
      process.execPath,
      [
        join(clone, 'node_modules', 'vitest', 'vitest.mjs'),
        'run',
        'test/unit/limiter-redis.test.ts',
        'test/e2e/redis.test.ts',
        'test/e2e/packaged.test.ts',
      ],
      { cwd: clone, env, encoding: 'utf8', timeout: 240_000 },
    );
    const out = r.stdout + r.stderr;
    expect(r.status, out).toBe(0);
    expect(out).toContain('skipping the --redis tests: redis-server is not installed');
    expect(out).not.toMatch(/\bfailed\b/i);
  }, 600_000);
});
