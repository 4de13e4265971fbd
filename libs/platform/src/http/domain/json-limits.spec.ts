import { scanJsonLimits } from './json-limits';

const scan = (text: string, maxDepth = 4, maxKeys = 10) => scanJsonLimits(Buffer.from(text, 'utf8'), { maxDepth, maxKeys });

describe('scanJsonLimits', () => {
  it('lets ordinary bodies through', () => {
    expect(scan('{"yaml":"a: [1, 2]","n":{"x":[1,2,{"y":null}]}}')).toBeUndefined();
    expect(scan('[]')).toBeUndefined();
    expect(scan('')).toBeUndefined();
  });

  it('refuses nesting beyond the depth limit, however deep the rest goes', () => {
    expect(scan('[[[[1]]]]')).toBeUndefined();
    expect(scan('[[[[[1]]]]]')).toMatchObject({ limit: 'depth', max: 4 });
    expect(scan('{"a":{"b":{"c":{"d":{}}}}}')).toMatchObject({ limit: 'depth' });
    const huge = Buffer.alloc(1_000_000, '[');
    const t = Date.now();
    expect(scanJsonLimits(huge, { maxDepth: 64, maxKeys: 1000 })).toMatchObject({ limit: 'depth', max: 64 });
    expect(Date.now() - t).toBeLessThan(500);
  });

  it('ignores brackets, colons and commas inside strings, escaped quotes included', () => {
    expect(scan('{"yaml":"[[[[[[[[ {{{{{ :::::: ,,,,,,,,,,,,,,,, \\"[[[[[[ "}')).toBeUndefined();
    // an escaped backslash before a quote: the quote closes the string, what follows is structure
    expect(scan('{"a":"x\\\\","b":[[[[[1]]]]]}')).toMatchObject({ limit: 'depth' });
    expect(scan('{"a":"x\\\\\\"[[[[[[[["}')).toBeUndefined();
  });

  it('counts object members and array elements', () => {
    expect(scan(`[${Array(10).fill(1).join(',')}]`)).toBeUndefined();
    expect(scan(`[${Array(11).fill(1).join(',')}]`)).toMatchObject({ limit: 'keys', max: 10 });
    const members = Array.from({ length: 11 }, (_, i) => `"k${i}":1`).join(',');
    expect(scan(`{${members}}`)).toMatchObject({ limit: 'keys' });
    expect(scan('[[],[],[]]', 4, 3)).toBeUndefined();
    expect(scan('[[1],[2],[3]]', 4, 5)).toMatchObject({ limit: 'keys' });
  });

  it('runs in linear time on adversarial input', () => {
    const body = Buffer.from(`{"a":"${'\\\\'.repeat(500_000)}"}`);
    const t = Date.now();
    expect(scanJsonLimits(body, { maxDepth: 64, maxKeys: 10 })).toBeUndefined();
    expect(Date.now() - t).toBeLessThan(2000);
  });
});
