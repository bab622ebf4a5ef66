/**
 * `--redis URL` (SPEC §6): the limiter's state lives in Redis (Bottleneck clustering), under an
 * id derived from a hash of the API key, so every process using the key — on any host — shares
 * one pacing. Bottleneck's Redis error matching is fixed for Redis >= 7 at load time, on the
 * connection this module creates (see `recogniseRedis7Errors`), so the fix holds however the
 * package is installed (as a dependency, globally, through npx).
 */
import { createHash } from 'node:crypto';
import Bottleneck from 'bottleneck';
import { Redis } from 'ioredis';
import { BatchError } from '../errors.js';
import { addSecret, mask, safeUrl } from '../api/mask.js';

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** An error text with the Redis URL's password (and any other URL's) taken out. */
function redactUrls(text: string, url: string): string {
  let out = text.split(url).join(safeUrl(url));
  try {
    const pw = decodeURIComponent(new URL(url).password);
    if (pw) out = out.split(pw).join('***');
  } catch {
    // not a URL: nothing to take out
  }
  return mask(out.replace(/(\w+:\/\/[^:/@\s]*:)[^@\s]+@/g, '$1***@'));
}

export interface SharedBottleneck {
  /** resolves once Redis answered and the shared limiter is set up */
  ready: Promise<Bottleneck>;
  close(): Promise<void>;
}

/** The id every process using this API key agrees on; the key itself never reaches Redis. */
export function limiterId(apiKey: string): string {
  return `recharge-batch:${createHash('sha256').update(apiKey).digest('hex').slice(0, 16)}`;
}

export function redisBottleneck(
  url: string,
  apiKey: string,
  settings: { minTime: number },
): SharedBottleneck {
  let parsed: URL;
  try {
    parsed = new URL(url);
    if (!/^rediss?:$/.test(parsed.protocol)) throw new Error('not a redis:// URL');
  } catch {
    // never the URL itself: it may carry the Redis password (SPEC §5 additions)
    throw new BatchError('USAGE', `invalid --redis ${safeUrl(url)}: use redis://host:port`);
  }
  // the password is masked in any text shown from now on, wherever it comes from
  addSecret(safeDecode(parsed.password));
  const where = `${parsed.hostname}:${parsed.port || 6379}`;
  const client = new Redis(url, {
    // fail fast: an unreachable Redis must not leave the batch hanging
    maxRetriesPerRequest: 2,
    connectTimeout: 5_000,
    retryStrategy: (times) => (times > 3 ? null : 200 * times),
  });
  client.on('error', () => undefined); // reported through `ready`
  let connection: InstanceType<typeof Bottleneck.IORedisConnection> | null = null;
  let bottleneck: Bottleneck | null = null;
  // Bottleneck is only created once Redis answers, so nothing of it is left pending when not
  const ready = (async () => {
    try {
      await client.ping(); // queued until connected; rejected once the retries give up
    } catch (err) {
      client.disconnect();
      // no `cause`: ioredis' own message may hold the URL with its password (redacted here only)
      throw new BatchError(
        'USAGE',
        `cannot use Redis at ${where} for the shared rate limit: ${redactUrls((err as Error).message, url)}`,
      );
    }
    connection = new Bottleneck.IORedisConnection({ client });
    recogniseRedis7Errors(connection);
    connection.on('error', () => undefined);
    bottleneck = new Bottleneck({
      id: limiterId(apiKey),
      datastore: 'ioredis',
      connection,
      clearDatastore: false,
      // shared pacing; --concurrency stays per process (see RateLimiter)
      minTime: settings.minTime,
      maxConcurrent: null,
      // drop the shared keys after 10 idle minutes
      timeout: 10 * 60_000,
    });
    await bottleneck.ready();
    return bottleneck;
  })();
  ready.catch(() => undefined);
  return {
    ready,
    async close() {
      try {
        if (bottleneck) await bottleneck.disconnect(false); // stops its heartbeat; the connection is ours
        if (connection) await connection.disconnect(true);
        else client.disconnect();
      } catch {
        client.disconnect();
      }
    },
  };
}

/** The part of Bottleneck's IORedisConnection its RedisDatastore calls to run a Lua script. */
interface ScriptArgs {
  __scriptArgs__(
    name: string,
    id: string,
    args: unknown[],
    cb: (err: unknown, replies: unknown) => void,
  ): unknown[];
}

/**
 * Bottleneck 2.19.5 recovers from two of its own Lua errors — `SETTINGS_KEY_NOT_FOUND` (its
 * settings key expired or was deleted) and `UNKNOWN_CLIENT` (Redis forgot this client) — by
 * comparing the error message to those words exactly. Redis >= 7 prefixes `ERR ` to a Lua
 * error_reply that has no code of its own, so the comparison fails and every later request
 * rejects (SGNL/bottleneck#205, #212; the unmerged fix is PR #215). Stripping the prefix in the
 * callback through which this connection's scripts report their errors restores Bottleneck's
 * own recovery, on the instance this project loaded, wherever npm put it; a release of
 * Bottleneck that matches the prefix itself sees the same message either way.
 */
export function recogniseRedis7Errors(connection: object): void {
  const conn = connection as ScriptArgs;
  const scriptArgs = conn.__scriptArgs__.bind(connection);
  conn.__scriptArgs__ = (name, id, args, cb) =>
    scriptArgs(name, id, args, (err, replies) => {
      if (err instanceof Error && /^ERR (SETTINGS_KEY_NOT_FOUND|UNKNOWN_CLIENT)$/.test(err.message))
        err.message = err.message.slice(4);
      cb(err, replies);
    });
}
