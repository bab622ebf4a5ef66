import { describe, expect, it } from 'vitest';
import { addSecret, mask } from '../../src/api/mask.js';

describe('mask', () => {
  it('masks a Bearer token and keeps the punctuation around it', () => {
    expect(mask('rejected (Authorization: Bearer abc.DEF-123_x~y+z/w==).')).toBe(
      'rejected (Authorization: Bearer ***).',
    );
    expect(mask('"Bearer tok123", [bearer tok456]')).toBe('"Bearer ***", [bearer ***]');
  });

  it('masks a registered key whole even when it has characters a Bearer token cannot have', () => {
    addSecret('k3y!with(parens)\n');
    expect(mask('echo: Bearer k3y!with(parens) end')).toBe('echo: Bearer *** end');
    expect(mask('key=k3y!with(parens)')).toBe('key=***');
  });
});
