// `#{…}` interpolation: every name, the `##{` escape, literal text, and the
// property that text without `#{` is never changed.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  InterpolationError,
  type InterpolationScope,
  interpolate,
  parseTemplate,
  resolveName,
  templateRefs,
} from '../../src/plan/index.ts';

const scope: InterpolationScope = {
  project: 'storefront',
  environment: 'production',
  release: '2026.11.3',
  tenant: { name: 'globex', tags: { group: 'eu-1' } },
  target: { name: 'web-1', host: '10.0.0.5' },
  variables: { DB_NAME: 'globex_prod' },
};

describe('interpolate', () => {
  it('resolves every name', () => {
    expect(
      interpolate(
        '#{project} #{environment} #{release} #{tenant} #{tenant.tags.group} #{target} #{target.host} #{var.DB_NAME}',
        scope,
      ),
    ).toBe('storefront production 2026.11.3 globex eu-1 web-1 10.0.0.5 globex_prod');
  });

  it('trims spaces inside the braces', () => {
    expect(interpolate('#{ tenant }/#{project}', scope)).toBe('globex/storefront');
  });

  it('turns ##{ into a literal #{', () => {
    expect(interpolate('##{tenant} is #{tenant}', scope)).toBe('#{tenant} is globex');
    expect(templateRefs('##{tenant}')).toEqual([]);
  });

  it('leaves an unterminated #{ and shell $-braces alone', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax that interpolation must not touch
    expect(interpolate('echo "#{" ${HOME} #{tenant', scope)).toBe('echo "#{" ${HOME} #{tenant');
    expect(interpolate('a #{\n} b', scope)).toBe('a #{\n} b');
  });

  it('reports where each reference is', () => {
    expect(templateRefs('x #{tenant} #{var.A}')).toEqual([
      { name: 'tenant', offset: 2 },
      { name: 'var.A', offset: 12 },
    ]);
    expect(parseTemplate('a#{b}c')).toEqual(['a', { name: 'b', offset: 1 }, 'c']);
  });

  it('explains names that are missing in this scope', () => {
    const bare: InterpolationScope = { project: 'p', environment: 'e', release: 'r', variables: {} };
    expect(resolveName('tenant', bare)).toEqual({ error: 'no tenant here (the plan is untenanted)' });
    expect(resolveName('tenant.tags.group', bare)).toEqual({
      error: 'no tenant here (the plan is untenanted)',
    });
    expect(resolveName('target', bare)).toMatchObject({ error: expect.stringContaining('no target here') });
    expect(resolveName('target.host', bare)).toMatchObject({
      error: expect.stringContaining('no target here'),
    });
    expect(resolveName('var.X', bare)).toEqual({ error: 'variable X is not defined' });
    expect(resolveName('tenant.tags.region', scope)).toEqual({ error: 'tenant globex has no tag region' });
    expect(resolveName('foo', scope)).toMatchObject({ error: expect.stringContaining('unknown name') });
    expect(() => interpolate('#{foo}', scope)).toThrow(InterpolationError);
    expect(() => interpolate('#{var.NOPE}', scope)).toThrow('#{var.NOPE}: variable NOPE is not defined');
  });

  it('is the identity on text without #{ (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }).filter((s) => !s.includes('#{')),
        (text) => interpolate(text, scope) === text,
      ),
      { numRuns: 2000 },
    );
  });

  it('never substitutes inside an escaped ##{ (property)', () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => !/[#{}\n]/.test(s)),
        (name) => {
          expect(interpolate(`##{${name}}`, scope)).toBe(`#{${name}}`);
        },
      ),
    );
  });
});
