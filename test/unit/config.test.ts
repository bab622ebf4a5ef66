/** Where jobs live by default (SPEC §2 `--state-dir`): never relative to the working folder. */
import { describe, expect, it } from 'vitest';
import { defaultStateDir, resolveOptions } from '../../src/config.js';

describe('state dir', () => {
  it('RECHARGE_BATCH_STATE_DIR, else $XDG_STATE_HOME/recharge-batch, else ~/.local/state/recharge-batch', () => {
    const env = { HOME: '/home/clerk', XDG_STATE_HOME: '/var/state' };
    expect(resolveOptions({}, { ...env, RECHARGE_BATCH_STATE_DIR: '/srv/rb' })['state-dir']).toBe('/srv/rb');
    expect(resolveOptions({}, env)['state-dir']).toBe('/var/state/recharge-batch');
    expect(resolveOptions({}, { HOME: '/home/clerk' })['state-dir']).toBe('/home/clerk/.local/state/recharge-batch');
    expect(resolveOptions({ 'state-dir': './mine' }, env)['state-dir']).toBe('./mine');
  });
  it('ignores a relative XDG_STATE_HOME, as the XDG spec says', () => {
    expect(defaultStateDir({ HOME: '/home/clerk', XDG_STATE_HOME: 'state' })).toBe('/home/clerk/.local/state/recharge-batch');
  });
  it('--repeat-window defaults to 7d and --allow-repeat to off', () => {
    const o = resolveOptions({}, { HOME: '/h' });
    expect(o['repeat-window']).toBe('7d');
    expect(o['allow-repeat']).toBe(false);
  });
});
