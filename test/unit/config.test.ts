/** Where jobs live by default (SPEC §2 `--state-dir`): never relative to the working folder. */
import { describe, expect, it } from 'vitest';
import { defaultStateDir, resolveOptions } from '../../src/config.js';

describe('state dir', () => {
  it('RECHARGE_BATCH_STATE_DIR, else $XDG_STATE_HOME/recharge-batch, else ~/.local/state/recharge-batch', () => {
    const env = { HOME: '/home/clerk', XDG_STATE_HOME: '/var/state' };
    expect(resolveOptions({}, { ...env, RECHARGE_BATCH_STATE_DIR: '/srv/rb' })['state-dir']).toBe('/srv/rb');
    expect(resolveOptions({}, env)['state-dir']).toBe('/var/state/recharge-batch');
    expect(resolveOptions({}, { HOME: '/home/clerk' })['state-dir']).toBe(
      '/home/clerk/.local/state/recharge-batch',
    );
    expect(resolveOptions({ 'state-dir': './mine' }, env)['state-dir']).toBe('./mine');
  });
  it('ignores a relative XDG_STATE_HOME, as the XDG spec says', () => {
    expect(defaultStateDir({ HOME: '/home/clerk', XDG_STATE_HOME: 'state' })).toBe(
      '/home/clerk/.local/state/recharge-batch',
    );
  });
  it('--repeat-window defaults to 7d and --allow-repeat to off', () => {
    const o = resolveOptions({}, { HOME: '/h' });
    expect(o['repeat-window']).toBe('7d');
    expect(o['allow-repeat']).toBe(false);
  });
});

describe('durations', () => {
  it('refuse a bare number: --repeat-window 7 read as 7 ms would turn the repeat check off', async () => {
    const { parseDuration } = await import('../../src/util/units.js');
    expect(() => parseDuration('7', '--repeat-window')).toThrow(
      expect.objectContaining({ code: 'USAGE', message: expect.stringContaining('7d') }),
    );
    expect(() => parseDuration('5', '--request-timeout')).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(parseDuration('0', '--repeat-window')).toBe(0);
    expect(parseDuration('7d')).toBe(7 * 86_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration(1500)).toBe(1500); // a number from a library caller is ms
  });
});
