/** Options resolved once (SPEC §2): flag > env > config file > default, typed, units required. */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPTIONS, defaultStateDir, planRate, resolveOptions } from '../../src/config.js';
import { DEFAULTS } from '../../src/defaults.js';
import { formatDuration, parseDuration } from '../../src/util/units.js';
import { checkNumber, ownDuration } from '../../src/cli/own-options.js';

const HOME = { HOME: '/home/clerk' };
const dir = mkdtempSync(join(tmpdir(), 'rb-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function configFile(content: unknown): string {
  const path = join(dir, `c${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify(content));
  return path;
}
const refused = (code: string, text: string) =>
  expect.objectContaining({ code, message: expect.stringContaining(text) });

describe('an option typed twice', () => {
  it('two values are refused in one line; the same value twice is that value; --map adds up', () => {
    expect(() => resolveOptions({ concurrency: [2, 3] }, {})).toThrow(
      '--concurrency is given 2 times ("2", "3"): give it once',
    );
    expect(() => resolveOptions({ 'request-timeout': ['3s', '10m'] }, {})).toThrow(
      '--request-timeout is given 2 times ("3s", "10m"): give it once',
    );
    expect(resolveOptions({ concurrency: [6, 6], json: [true, true] }, {})).toMatchObject({
      concurrency: 6,
      json: true,
    });
    // a command's own options (watch --settle, sandbox --fail-rate) follow the same rule
    expect(() => ownDuration('settle', ['1s', '2s'] as unknown as string)).toThrow(
      '--settle is given 2 times ("1s", "2s"): give it once',
    );
    expect(ownDuration('settle', ['1s', '1s'] as unknown as string)).toBe(1000);
    expect(() => checkNumber('fail-rate', ['0.1', '0.2'], { min: 0, max: 1, example: 0.1 })).toThrow(
      'given 2 times',
    );
    expect(resolveOptions({ map: ['number=Mobile', 'amount=Tk'] }, {}).map).toEqual({
      number: 'Mobile',
      amount: 'Tk',
    });
  });
});

describe('state dir', () => {
  it('RECHARGE_BATCH_STATE_DIR, else $XDG_STATE_HOME/recharge-batch, else ~/.local/state/recharge-batch', () => {
    const env = { HOME: '/home/clerk', XDG_STATE_HOME: '/var/state' };
    expect(resolveOptions({}, { ...env, RECHARGE_BATCH_STATE_DIR: '/srv/rb' }).stateDir).toBe('/srv/rb');
    expect(resolveOptions({}, env).stateDir).toBe('/var/state/recharge-batch');
    expect(resolveOptions({}, HOME).stateDir).toBe('/home/clerk/.local/state/recharge-batch');
    expect(resolveOptions({ 'state-dir': './mine' }, env).stateDir).toBe('./mine');
  });
  it('ignores a relative XDG_STATE_HOME, as the XDG spec says', () => {
    expect(defaultStateDir({ HOME: '/home/clerk', XDG_STATE_HOME: 'state' })).toBe(
      '/home/clerk/.local/state/recharge-batch',
    );
  });
});

describe('defaults', () => {
  it('come from DEFAULTS, typed: durations in ms, the plan, booleans', () => {
    const o = resolveOptions({}, HOME);
    expect(o).toMatchObject({
      plan: 'starter',
      concurrency: DEFAULTS.concurrency,
      pollAfterMs: DEFAULTS.pollAfterMs,
      pollEveryMs: DEFAULTS.pollEveryMs,
      pollTimeoutMs: DEFAULTS.pollTimeoutMs,
      requestTimeoutMs: DEFAULTS.requestTimeoutMs,
      maxWaitMs: DEFAULTS.maxWaitMs,
      repeatWindowMs: DEFAULTS.repeatWindowMs,
      webhookPath: DEFAULTS.webhookPath,
      allowRepeat: false,
      bom: true,
      json: false,
    });
    expect(o.apiKey).toBeUndefined();
    expect(planRate(o)).toEqual({ limit: 60, windowMs: 60_000 });
  });
  it('are shown in --help and the README as written, and read back to the same ms', () => {
    expect(OPTIONS['poll-after'].default).toBe('15s');
    expect(OPTIONS['poll-timeout'].default).toBe('30m');
    expect(OPTIONS['repeat-window'].default).toBe('7d');
    expect(OPTIONS.concurrency.default).toBe(4);
    for (const ms of [0, 250, 1500, 15_000, 90_000, 30 * 60_000, 7 * 86_400_000])
      expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});

describe('precedence: flag > environment > config file > default', () => {
  it('for a duration, a number, a boolean and a rate', () => {
    const cfg = configFile({
      'poll-every': '3m',
      concurrency: 3,
      'allow-partial': true,
      'rate-limit': '30/min',
    });
    const env = {
      ...HOME,
      RECHARGE_BATCH_CONFIG: cfg,
      RECHARGE_BATCH_POLL_EVERY: '2m',
      RECHARGE_BATCH_CONCURRENCY: '2',
    };
    expect(resolveOptions({}, { ...HOME, RECHARGE_BATCH_CONFIG: cfg })).toMatchObject({
      pollEveryMs: 180_000,
      concurrency: 3,
      allowPartial: true,
      rateLimit: { limit: 30, windowMs: 60_000 },
    });
    expect(resolveOptions({}, env)).toMatchObject({
      pollEveryMs: 120_000,
      concurrency: 2,
      allowPartial: true,
    });
    const flags = { 'poll-every': '1m', concurrency: 1, 'allow-partial': false, 'rate-limit': '20/s' };
    expect(resolveOptions(flags, env)).toMatchObject({
      pollEveryMs: 60_000,
      concurrency: 1,
      allowPartial: false,
      rateLimit: { limit: 20, windowMs: 1000 },
    });
  });
  it('ALSAMIFLEXI_API_KEY and ALSAMIFLEXI_BASE_URL count as the environment; the key is trimmed', () => {
    const o = resolveOptions(
      {},
      { ...HOME, ALSAMIFLEXI_API_KEY: ' k-1 \n', ALSAMIFLEXI_BASE_URL: 'http://x/api/v1' },
    );
    expect(o.apiKey).toBe('k-1');
    expect(o.baseUrl).toBe('http://x/api/v1');
  });
});

describe('a duration must name its unit', () => {
  it.each([
    [
      'a flag',
      { 'request-timeout': '5' },
      {},
      '--request-timeout "5" has no unit (ms, s, m, h or d): write it like --request-timeout 5s',
    ],
    [
      'the environment',
      {},
      { RECHARGE_BATCH_POLL_AFTER: '15' },
      'RECHARGE_BATCH_POLL_AFTER="15" has no unit (ms, s, m, h or d): write it like RECHARGE_BATCH_POLL_AFTER=15s',
    ],
    [
      'a config file (text)',
      {},
      { cfg: { 'max-wait': '300' } },
      '(from RECHARGE_BATCH_CONFIG): "max-wait" has no unit (ms, s, m, h or d): write it like "max-wait": "5m"',
    ],
    [
      'a config file (a JSON number)',
      {},
      { cfg: { 'repeat-window': 7 } },
      '"repeat-window" has no unit (ms, s, m, h or d): write it like "repeat-window": "7d"',
    ],
  ])('from %s', (_what, flags, envIn, text) => {
    const { cfg, ...rest } = envIn as { cfg?: unknown } & Record<string, string>;
    const env = { ...HOME, ...rest, ...(cfg ? { RECHARGE_BATCH_CONFIG: configFile(cfg) } : {}) };
    expect(() => resolveOptions(flags, env)).toThrow(
      expect.objectContaining({ message: expect.stringContaining(text) }),
    );
  });
  it('0 needs no unit; a bare number from a library caller is ms', () => {
    expect(resolveOptions({ 'repeat-window': '0' }, HOME).repeatWindowMs).toBe(0);
    expect(
      resolveOptions({}, { ...HOME, RECHARGE_BATCH_CONFIG: configFile({ 'repeat-window': 0 }) })
        .repeatWindowMs,
    ).toBe(0);
    expect(parseDuration(1500)).toBe(1500);
    expect(() => parseDuration('7', '--repeat-window')).toThrow(refused('USAGE', 'write it like 7s'));
  });
});

describe('integers and words are checked where they are read', () => {
  it.each([
    [{ concurrency: 0 }, 'USAGE', '--concurrency "0" is not a whole number of requests at once, at least 1'],
    [{ concurrency: 2.5 }, 'USAGE', '--concurrency "2.5" is not a whole number'],
    [{ concurrency: 'abc' }, 'USAGE', '--concurrency "abc" is not a number: write it like --concurrency 4'],
    [{ 'max-total': '-5' }, 'USAGE', '--max-total "-5" is not a number'],
    [{ plan: 'platinum' }, 'USAGE', '--plan "platinum" is not a plan (starter, business or enterprise)'],
    [
      { 'rate-limit': 'fast' },
      'USAGE',
      '--rate-limit "fast" is not a rate (N/s, N/min or N/h): write it like --rate-limit 60/min',
    ],
    [{ map: ['phone'] }, 'HEADER_MAP_INVALID', '--map "phone" is not understood (ROLE=Column'],
    // polls back to back would take the rate meant for sending; a 0 timeout fails every request
    [
      { 'poll-every': '0' },
      'USAGE',
      '--poll-every "0" is not a time above zero: write it like --poll-every 30s',
    ],
    [{ 'request-timeout': '0s' }, 'USAGE', '--request-timeout "0s" is not a time above zero'],
  ])('%j', (flags, code, text) => {
    expect(() => resolveOptions(flags, HOME)).toThrow(refused(code, text));
  });
  it('names the variable when the environment gave it', () => {
    expect(() => resolveOptions({}, { ...HOME, RECHARGE_BATCH_CONCURRENCY: '0' })).toThrow(
      refused('USAGE', 'RECHARGE_BATCH_CONCURRENCY="0" is not a whole number'),
    );
  });
  it('--plan enterprise needs --rate-limit, when the rate is needed', () => {
    const o = resolveOptions({ plan: 'Enterprise' }, HOME);
    expect(o.plan).toBe('enterprise');
    expect(() => planRate(o)).toThrow(refused('USAGE', 'give --rate-limit'));
    expect(planRate(resolveOptions({ plan: 'enterprise', 'rate-limit': '600/min' }, HOME))).toEqual({
      limit: 600,
      windowMs: 60_000,
    });
  });
  it('--map reads a list or a config object into the column map', () => {
    expect(resolveOptions({ map: ['number=Cell', 'amount=Taka'] }, HOME).map).toEqual({
      number: 'Cell',
      amount: 'Taka',
    });
    const cfg = configFile({ map: { number: 'Cell' } });
    expect(resolveOptions({}, { ...HOME, RECHARGE_BATCH_CONFIG: cfg }).map).toEqual({ number: 'Cell' });
  });
});

describe('a bad value is one line of one shape, wherever it came from', () => {
  // each check's own problem and advice, named as the place it came from writes it
  it.each([
    [
      'concurrency',
      'abc',
      'is not a number',
      ['--concurrency 4', 'RECHARGE_BATCH_CONCURRENCY=4', '"concurrency": 4'],
    ],
    [
      'allow-partial',
      'maybe',
      'is not true or false',
      ['', 'RECHARGE_BATCH_ALLOW_PARTIAL=true', '"allow-partial": true'],
    ],
    [
      'poll-after',
      'soon',
      'is not a duration (a number with ms, s, m, h or d)',
      ['--poll-after 15s', 'RECHARGE_BATCH_POLL_AFTER=15s', '"poll-after": "15s"'],
    ],
    [
      'plan',
      'gold',
      'is not a plan (starter, business or enterprise)',
      ['--plan business', 'RECHARGE_BATCH_PLAN=business', '"plan": "business"'],
    ],
    [
      'rate-limit',
      'fast',
      'is not a rate (N/s, N/min or N/h)',
      ['--rate-limit 60/min', 'RECHARGE_BATCH_RATE_LIMIT=60/min', '"rate-limit": "60/min"'],
    ],
    [
      'webhook-listen',
      'nope',
      'is not HOST:PORT',
      [
        '--webhook-listen 0.0.0.0:8081',
        'RECHARGE_BATCH_WEBHOOK_LISTEN=0.0.0.0:8081',
        '"webhook-listen": "0.0.0.0:8081"',
      ],
    ],
    [
      'webhook-path',
      'hooks',
      'does not start with "/"',
      [
        '--webhook-path /webhooks/alsamiflexi',
        'RECHARGE_BATCH_WEBHOOK_PATH=/webhooks/alsamiflexi',
        '"webhook-path": "/webhooks/alsamiflexi"',
      ],
    ],
  ])('%s = %j', (name, value, problem, [flag, env, file]) => {
    const cfg = configFile({ [name]: value });
    const variable = `RECHARGE_BATCH_${name.toUpperCase().replace(/-/g, '_')}`;
    if (flag)
      expect(() => resolveOptions({ [name]: value }, HOME)).toThrow(
        refused('USAGE', `--${name} "${value}" ${problem}: write it like ${flag}`),
      );
    expect(() => resolveOptions({}, { ...HOME, [variable]: value })).toThrow(
      refused('USAGE', `${variable}="${value}" ${problem}: write it like ${env}`),
    );
    // the file's value is never quoted back (SPEC §5 additions)
    const fromFlag = (() => {
      try {
        resolveOptions({ config: cfg }, HOME);
      } catch (err) {
        return (err as Error).message;
      }
    })();
    expect(fromFlag).toBe(`--config ${cfg}: "${name}" ${problem}: write it like ${file}`);
    expect(() => resolveOptions({}, { ...HOME, RECHARGE_BATCH_CONFIG: cfg })).toThrow(
      refused('CONFIG_INVALID', `the config file ${cfg} (from RECHARGE_BATCH_CONFIG): "${name}" ${problem}`),
    );
  });

  it('a config file takes numbers and yes/no as JSON gives them or as text, like the environment', () => {
    const cfg = configFile({ concurrency: '3', 'allow-partial': 'true', quiet: 'no', 'max-total': 5000 });
    expect(resolveOptions({}, { ...HOME, RECHARGE_BATCH_CONFIG: cfg })).toMatchObject({
      concurrency: 3,
      allowPartial: true,
      quiet: false,
      maxTotal: 5000,
    });
  });

  it('a config file cannot name another one: its "config" key is refused, naming the file', () => {
    const cfg = configFile({ config: 'other.json', plan: 'business' });
    expect(() => resolveOptions({ config: cfg }, HOME, ['plan'])).toThrow(
      refused('CONFIG_INVALID', `--config ${cfg}: "config" cannot name another config file`),
    );
  });
});

describe('options a command does not use', () => {
  it('take their default whatever the environment or the config file says, so they cannot break it', () => {
    const cfg = configFile({ plan: 'platinum', 'poll-every': 'soon', concurrency: 0 });
    const env = { ...HOME, RECHARGE_BATCH_CONFIG: cfg, RECHARGE_BATCH_POLL_AFTER: '5' };
    const o = resolveOptions({}, env, ['state-dir', 'json']);
    expect(o).toMatchObject({
      plan: 'starter',
      pollEveryMs: DEFAULTS.pollEveryMs,
      pollAfterMs: DEFAULTS.pollAfterMs,
    });
    // a flag of an unused option is ignored too (the command line accepts it: scripts keep working)
    expect(resolveOptions({ 'poll-every': 'soon' }, HOME, ['json']).pollEveryMs).toBe(DEFAULTS.pollEveryMs);
    // the same values are refused by a command that uses them
    expect(() => resolveOptions({}, env, ['plan'])).toThrow(
      refused('CONFIG_INVALID', `the config file ${cfg} (from RECHARGE_BATCH_CONFIG): "plan" is not a plan`),
    );
  });
  it('a config file is still read whole: an unknown key or the API key in it is refused', () => {
    const env = { ...HOME, RECHARGE_BATCH_CONFIG: configFile({ 'poll-evry': '1m' }) };
    expect(() => resolveOptions({}, env, ['json'])).toThrow(
      refused('CONFIG_INVALID', '"poll-evry" is not an option'),
    );
    const key = { ...HOME, RECHARGE_BATCH_CONFIG: configFile({ 'api-key': 'x' }) };
    expect(() => resolveOptions({}, key, ['json'])).toThrow(
      refused('CONFIG_INVALID', 'do not store the API key'),
    );
  });
});
