/** A throwaway redis-server on a free loopback port, for the tests of the shared limiter. */
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

/**
 * The Redis tests need a real `redis-server`. On a developer's machine without one they are
 * skipped with one visible line, so `npm install && npm test` passes with nothing but Node; in
 * CI (`CI` set, where .ci/run installs it) a missing server is a failure, never a silent skip.
 */
export const redisMissing = !process.env.CI && spawnSync('redis-server', ['--version']).error !== undefined;
if (redisMissing) {
  console.warn(
    'skipping the --redis tests: redis-server is not installed (apt-get install redis-server to run them; CI does)',
  );
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface TestRedis {
  url: string;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  const proc = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
    proc.once('error', (err) => {
      clearTimeout(timer);
      reject(
        new Error(`redis-server is needed by these tests (apt-get install redis-server): ${err.message}`),
      );
    });
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGKILL');
      }),
  };
}
