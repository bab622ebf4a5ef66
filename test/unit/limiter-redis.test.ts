/**
 * The limiter shared through Redis (SPEC §6, --redis) against a real redis-server (Redis >= 7,
 * where Bottleneck 2.19.5 needs the fix in src/limit/redis.ts to recover its own Lua errors).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { RateLimiter } from '../../src/limit/limiter.js';
import { limiterId } from '../../src/limit/redis.js';
import { redisMissing, startRedis, type TestRedis } from '../support/redis.js';

let redis: TestRedis;
let admin: Redis;
beforeAll(async () => {
  if (redisMissing) return;
  redis = await startRedis();
  admin = new Redis(redis.url);
});
afterAll(async () => {
  admin?.disconnect();
  await redis?.stop();
});

const rate = { limit: 50, windowMs: 1000 }; // one request every 21 ms
let keyNo = 0;
const freshKey = () => `sk_test_shared_${process.pid}_${++keyNo}`;

describe.skipIf(redisMissing)('RateLimiter with --redis', () => {
  it('two limiters (two processes) on one API key share one pacing', async () => {
    const key = freshKey();
    const a = new RateLimiter({ rate, concurrency: 4, redis: { url: redis.url, apiKey: key } });
    const b = new RateLimiter({ rate, concurrency: 4, redis: { url: redis.url, apiKey: key } });
    await Promise.all([a.ready(), b.ready()]);
    const starts: number[] = [];
    const job = async () => void starts.push(Date.now());
    await Promise.all([
      ...Array.from({ length: 10 }, () => a.schedule('submit', job)),
      ...Array.from({ length: 10 }, () => b.schedule('submit', job)),
    ]);
    starts.sort((x, y) => x - y);
    // Shared, 20 starts take 19 intervals (~400 ms); each limiter alone would pace its own 10 in
    // 9 (~190 ms). Where the pacing is kept (Redis's clock) and where a start is seen (after a
    // Redis round trip) differ by a few ms per start, more on a busy machine, so the bound sits
    // between the two cases with room for that, not at 19 intervals: a late timer only widens
    // the span, and only an unshared pacing can bring it near 190 ms.
    expect(starts.at(-1)! - starts[0]!).toBeGreaterThanOrEqual(14 * 21);
    await a.stop();
    await b.stop();
  });

  it('keys the shared state by a hash of the API key, which never reaches Redis', async () => {
    const key = freshKey();
    const l = new RateLimiter({ rate, concurrency: 2, redis: { url: redis.url, apiKey: key } });
    await l.schedule('meta', async () => undefined);
    const keys = await admin.keys('*');
    expect(keys.some((k) => k.includes(limiterId(key)))).toBe(true);
    for (const k of keys) {
      expect(k).not.toContain(key);
      const type = await admin.type(k);
      const dump =
        type === 'string'
          ? await admin.get(k)
          : type === 'hash'
            ? JSON.stringify(await admin.hgetall(k))
            : '';
      expect(dump ?? '').not.toContain(key);
    }
    expect(limiterId(key)).not.toBe(limiterId(freshKey()));
    await l.stop();
  });

  it('recovers when its settings key vanishes from Redis (ERR SETTINGS_KEY_NOT_FOUND on Redis 7, fixed at load time)', async () => {
    const key = freshKey();
    const l = new RateLimiter({ rate, concurrency: 2, redis: { url: redis.url, apiKey: key } });
    await l.schedule('meta', async () => 1);
    const settings = (await admin.keys(`*${limiterId(key)}*settings*`))[0];
    expect(settings).toBeDefined();
    await admin.del(settings!);
    await expect(l.schedule('meta', async () => 'after')).resolves.toBe('after');
    expect(await admin.exists(settings!)).toBe(1);
    await l.stop();
  });

  it('re-registers when Redis forgot this client (ERR UNKNOWN_CLIENT on Redis 7, fixed at load time)', async () => {
    const key = freshKey();
    const l = new RateLimiter({ rate, concurrency: 2, redis: { url: redis.url, apiKey: key } });
    await l.schedule('meta', async () => 1);
    const lastSeen = (await admin.keys(`*${limiterId(key)}*client_last_seen*`))[0];
    expect(lastSeen).toBeDefined();
    await admin.del(lastSeen!);
    await expect(l.schedule('meta', async () => 'again')).resolves.toBe('again');
    await l.stop();
  });

  it('an unreachable Redis fails fast with one clear error, nothing scheduled', async () => {
    const l = new RateLimiter({
      rate,
      concurrency: 2,
      redis: { url: 'redis://127.0.0.1:9', apiKey: freshKey() },
    });
    let ran = false;
    const err = await l.schedule('meta', async () => void (ran = true)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'USAGE' });
    expect(String((err as Error).message)).toContain('127.0.0.1:9');
    expect(ran).toBe(false);
    await l.stop();
  });

  it('keeps --concurrency per process (the Bottleneck limit would be cluster-wide)', async () => {
    const l = new RateLimiter({
      rate: { limit: 1000, windowMs: 1000 },
      concurrency: 2,
      redis: { url: redis.url, apiKey: freshKey() },
    });
    let running = 0;
    let most = 0;
    const slow = async () => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 60));
      running--;
    };
    await Promise.all(Array.from({ length: 6 }, () => l.schedule('submit', slow)));
    expect(most).toBe(2);
    await l.stop();
  });

  it('refuses a URL that is not redis://', () => {
    expect(() => new RateLimiter({ rate, concurrency: 1, redis: { url: 'http://x', apiKey: 'k' } })).toThrow(
      expect.objectContaining({ code: 'USAGE' }),
    );
  });
});
