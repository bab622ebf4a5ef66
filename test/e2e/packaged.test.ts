/**
 * Installed as a dependency (`npm install recharge-batch` in a service), npm hoists `bottleneck`
 * next to the package and runs none of its install scripts: the Redis >= 7 fix must still hold.
 * This packs the built package, installs the tarball into a throwaway project (from the local
 * npm cache: the registry is only asked for what the cache lacks), and runs the key-deletion
 * scenario against a real redis-server from there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { redisMissing, startRedis, type TestRedis } from '../support/redis.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
let redis: TestRedis;
let project: string;

beforeAll(async () => {
  if (redisMissing) return;
  redis = await startRedis();
  const packDir = mkdtempSync(join(tmpdir(), 'rb-pack-'));
  // dist/ is built by `npm test` before vitest runs; the tarball is what `npm publish` would send
  execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', packDir], {
    cwd: root,
    stdio: 'ignore',
  });
  const tarball = join(
    packDir,
    readdirSync(packDir).find((f) => f.endsWith('.tgz'))!,
  );
  project = mkdtempSync(join(tmpdir(), 'rb-service-'));
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'payroll-service', private: true, type: 'module' }),
  );
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], {
    cwd: project,
    stdio: 'ignore',
    timeout: 180_000,
  });
}, 240_000);

afterAll(async () => {
  await redis?.stop();
});

describe.skipIf(redisMissing)('installed from the packed tarball into another project', () => {
  it('uses the hoisted bottleneck and still recovers when Redis 7 loses the limiter settings', () => {
    // the situation that defeated an install-time patch: bottleneck beside, not inside, the package
    expect(existsSync(join(project, 'node_modules', 'bottleneck', 'package.json'))).toBe(true);
    expect(existsSync(join(project, 'node_modules', 'recharge-batch', 'node_modules', 'bottleneck'))).toBe(
      false,
    );
    const script = `
      import { RateLimiter } from 'recharge-batch';
      import { Redis } from 'ioredis';
      const admin = new Redis(process.argv[1]);
      const limiter = new RateLimiter({ rate: { limit: 50, windowMs: 1000 }, concurrency: 2, redis: { url: process.argv[1], apiKey: 'sk_packaged' } });
      await limiter.schedule('meta', async () => 1);
      const settings = (await admin.keys('*settings*'))[0];
      const lastSeen = (await admin.keys('*client_last_seen*'))[0];
      await admin.del(settings);
      const afterSettings = await limiter.schedule('meta', async () => 'after settings lost');
      await admin.del(lastSeen);
      const afterClient = await limiter.schedule('meta', async () => 'after client forgotten');
      console.log(JSON.stringify({ settings: Boolean(settings), lastSeen: Boolean(lastSeen), afterSettings, afterClient, restored: await admin.exists(settings) }));
      await limiter.stop(); admin.disconnect();
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, redis.url], {
      cwd: project,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stderr).not.toContain('SETTINGS_KEY_NOT_FOUND');
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(out).toEqual({
      settings: true,
      lastSeen: true,
      afterSettings: 'after settings lost',
      afterClient: 'after client forgotten',
      restored: 1,
    });
  });
});
