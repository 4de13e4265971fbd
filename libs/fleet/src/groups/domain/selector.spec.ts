import { Expression } from '@ampora/dsl';
import { chooseGroup, compileSelector, selectorContext } from './selector';

const group = (id: string, selector: string) => {
  const c = compileSelector(selector);
  if (!c.ok) throw new Error(c.error.message);
  return { id, expression: c.expression as Expression };
};

describe('choosing an agent\'s dynamic group', () => {
  // already in tie-break order: higher priority first, then the older group
  const ordered = [group('checkout', 'service.name = "checkout"'), group('eu', 'starts-with(region, "eu-")'), group('team', 'team = "payments"')];

  it('takes the first group in order whose selector matches', () => {
    expect(chooseGroup(ordered, { 'service.name': 'checkout', region: 'eu-west-1' })?.id).toBe('checkout');
    expect(chooseGroup(ordered, { 'service.name': 'cart', region: 'eu-west-1' })?.id).toBe('eu');
    expect(chooseGroup(ordered, { 'service.name': 'cart', region: 'us-east-1' })).toBeNull();
  });

  it('treats a selector that fails on an agent as no match, and reports why', () => {
    const seen: Array<[string, string | undefined]> = [];
    const chosen = chooseGroup(ordered, { team: 'payments' }, (g, _ms, failed) => seen.push([g.id, failed]));
    expect(chosen?.id).toBe('team');
    expect(seen).toEqual([
      ['checkout', 'missing'],
      ['eu', 'missing'],
      ['team', undefined],
    ]);
  });

  it('refuses selectors that do not parse, with a position', () => {
    const c = compileSelector('region in ("a", ');
    expect(c.ok).toBe(false);
    if (!c.ok) expect(c.error).toMatchObject({ kind: 'parse', position: 16 });
  });
});

describe('operator tags in selectors', () => {
  const matches = (source: string, labels: Record<string, unknown>, tags: Record<string, string>) => {
    const c = compileSelector(source);
    if (!c.ok) throw new Error(c.error.message);
    return c.expression.evaluate(selectorContext(labels, tags)).matched;
  };

  it('resolves tag.* to the operator tags, dotted keys included', () => {
    expect(matches('tag.team = "payments"', { 'service.name': 'x' }, { team: 'payments' })).toBe(true);
    expect(matches('tag.team = "payments"', {}, { team: 'search' })).toBe(false);
    expect(matches('tag["example.com/owner"] = "ops"', {}, { 'example.com/owner': 'ops' })).toBe(true);
    expect(matches('tag.cost.center = "42"', {}, { 'cost.center': '42' })).toBe(true);
  });

  it('fails closed on a missing tag, and exists() tells', () => {
    expect(matches('tag.team = "payments"', {}, {})).toBe(false);
    expect(matches('not exists(tag.team)', {}, {})).toBe(true);
  });

  it('keeps labels as they were, and reserves the tag namespace for operator tags', () => {
    expect(matches('region = "eu"', { region: 'eu' }, {})).toBe(true);
    // an attribute the agent reports as "tag.team" cannot pose as an operator tag
    expect(matches('tag.team = "payments"', { 'tag.team': 'payments', tag: { team: 'payments' } }, {})).toBe(false);
    expect(selectorContext({ 'tag.team': 'x', tag: 'y', a: 1 }, { team: 'z' })).toEqual({ a: 1, tag: { team: 'z' } });
  });
});
