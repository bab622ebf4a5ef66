/** The library reads the key and base URL from the environment when not given (SPEC §2, §8). */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MockAgent } from 'undici';
import { AlsamiflexiClient } from '../../src/api/client.js';
import { DEFAULT_BASE_URL } from '../../src/api/types.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('AlsamiflexiClient defaults', () => {
  it('takes ALSAMIFLEXI_API_KEY and ALSAMIFLEXI_BASE_URL from the environment, and sends the key as the Bearer token', async () => {
    vi.stubEnv('ALSAMIFLEXI_API_KEY', 'env-key-123');
    vi.stubEnv('ALSAMIFLEXI_BASE_URL', 'http://sandbox.test/api/v1');
    const agent = new MockAgent();
    agent.disableNetConnect();
    agent
      .get('http://sandbox.test')
      .intercept({ path: '/api/v1/balance', method: 'GET', headers: { authorization: 'Bearer env-key-123' } })
      .reply(200, { success: true, data: { balance: 500, currency: 'BDT' } });
    const client = new AlsamiflexiClient({ dispatcher: agent });
    expect(client.baseUrl).toBe('http://sandbox.test/api/v1');
    expect(await client.getBalance()).toEqual({ balance: 500, currency: 'BDT' });
  });

  it('given options win over the environment; an empty ALSAMIFLEXI_BASE_URL means production', () => {
    vi.stubEnv('ALSAMIFLEXI_API_KEY', 'env-key-123');
    vi.stubEnv('ALSAMIFLEXI_BASE_URL', 'http://sandbox.test/api/v1');
    expect(new AlsamiflexiClient({ apiKey: 'k', baseUrl: 'http://other.test/api/v1' }).baseUrl).toBe(
      'http://other.test/api/v1',
    );
    vi.stubEnv('ALSAMIFLEXI_BASE_URL', '');
    expect(new AlsamiflexiClient().baseUrl).toBe(DEFAULT_BASE_URL);
  });

  it('no key given nor in the environment: USAGE', () => {
    vi.stubEnv('ALSAMIFLEXI_API_KEY', '');
    expect(() => new AlsamiflexiClient({ baseUrl: 'http://sandbox.test/api/v1' })).toThrow(
      expect.objectContaining({ code: 'USAGE' }),
    );
  });

  it('a key holding a control character: USAGE naming its position, never the key (nothing can be sent)', () => {
    for (const [key, what] of [
      ['sk-live\n42secret', 'a line break at character 8 of 16'],
      ['sk-live\u000742secret', 'the character U+0007 at character 8 of 16'],
    ] as const) {
      let err: unknown;
      try {
        new AlsamiflexiClient({ apiKey: key, baseUrl: 'http://sandbox.test/api/v1' });
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'USAGE' });
      const message = (err as Error).message;
      expect(message).toContain(what);
      expect(message).not.toMatch(/sk-live|42secret/);
    }
    // a trailing newline (a key file read whole) is trimmed, not refused
    expect(
      () => new AlsamiflexiClient({ apiKey: 'sk-live42\n', baseUrl: 'http://sandbox.test/api/v1' }),
    ).not.toThrow();
  });
});
