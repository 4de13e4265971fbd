import { parseDocument } from 'yaml';
import { duplicateKeys, MAX_FINDINGS, parseCollectorConfig } from './collector-config';
import { aliasExpansionViolation, scanYamlLimits, scanYamlLimitsAsync, YamlLimits } from './yaml-limits';

const LIMITS: YamlLimits = { maxBytes: 64 * 1024, maxDepth: 8, maxNodes: 500, maxAliases: 10, maxAliasExpansion: 1000, maxTokens: 5000 };
const scan = (text: string, limits: Partial<YamlLimits> = {}) => scanYamlLimits(text, { ...LIMITS, ...limits });

const ORDINARY = `# collector
receivers:
  otlp: &otlp
    protocols:
      grpc: { endpoint: "0.0.0.0:4317" }
      http:
        endpoint: 0.0.0.0:4318
  otlp/2: *otlp
processors:
  filter:
    logs:
      log_record:
        - 'IsMatch(body, "[[[[[[[[[[[[[[[")'
        - "{{{{{{{{{{{{{{{{{{{{{{{{{{{{{"
  transform:
    statements: |
      set(attributes["a"], "[[[[[[[[[[[[[[[[[[[[[[[[[[[")
      - - - - - - - - - - - - - - - - - - -
exporters:
  debug: {}
service:
  pipelines:
    traces:
      receivers: [otlp, otlp/2]
      processors: [filter, transform]
      exporters: [debug]
`;

describe('scanYamlLimits', () => {
  it('lets an ordinary configuration through (brackets in quoted and block scalars are not nesting)', () => {
    expect(scan(ORDINARY)).toBeUndefined();
  });

  it('refuses a text over the size limit before scanning it', () => {
    expect(scan('a: ' + 'x'.repeat(100))).toBeUndefined();
    expect(scan('a: ' + 'x'.repeat(100), { maxBytes: 50 })).toMatchObject({ limit: 'size', max: 50 });
    // bytes, not characters
    expect(scan('a: ' + 'é'.repeat(30), { maxBytes: 50 })).toMatchObject({ limit: 'size' });
  });

  it('refuses flow nesting beyond the depth limit, and stops scanning there', () => {
    expect(scan('a: [[[[[[1]]]]]]')).toBeUndefined();
    expect(scan('a: [[[[[[[[1]]]]]]]]')).toMatchObject({ limit: 'depth', max: 8 });
    expect(scan('a: {b: {c: {d: {e: {f: {g: {h: {i: 1}}}}}}}}')).toMatchObject({ limit: 'depth' });
    const n = 100_000;
    const huge = '['.repeat(n) + ']'.repeat(n);
    const t = Date.now();
    expect(scan(huge, { maxBytes: 1_000_000 })).toMatchObject({ limit: 'depth' });
    expect(Date.now() - t).toBeLessThan(500);
  });

  it('refuses block nesting beyond the depth limit: indented maps and compact sequences', () => {
    const indented = (d: number) => Array.from({ length: d }, (_, i) => `${'  '.repeat(i)}k${i}:`).join('\n') + ' 1\n';
    expect(scan(indented(8))).toBeUndefined();
    expect(scan(indented(10))).toMatchObject({ limit: 'depth' });
    expect(scan('- '.repeat(6) + 'x')).toBeUndefined();
    expect(scan('- '.repeat(20) + 'x')).toMatchObject({ limit: 'depth' });
    expect(scan('? '.repeat(20) + 'x')).toMatchObject({ limit: 'depth' });
    // siblings and dedents do not add up
    expect(scan(Array.from({ length: 100 }, (_, i) => `k${i}:\n  a:\n    b: [1, {c: d}]\n`).join(""), { maxNodes: 5000 })).toBeUndefined();
  });

  it('counts flow and block nesting together', () => {
    expect(scan('a:\n  b:\n    c:\n      d: [[[[1]]]]\n')).toBeUndefined();
    expect(scan('a:\n  b:\n    c:\n      d: [[[[[[1]]]]]]\n')).toMatchObject({ limit: 'depth' });
  });

  it('refuses too many nodes, aliases and tokens', () => {
    expect(scan(`a: [${Array(400).fill('x').join(',')}]`)).toBeUndefined();
    expect(scan(`a: [${Array(600).fill('x').join(',')}]`)).toMatchObject({ limit: 'nodes', max: 500 });
    expect(scan(Array.from({ length: 300 }, (_, i) => `k${i}: v`).join('\n'))).toMatchObject({ limit: 'nodes' });
    expect(scan(`a: &a x\nb: [${Array(10).fill('*a').join(',')}]`)).toBeUndefined();
    expect(scan(`a: &a x\nb: [${Array(11).fill('*a').join(',')}]`)).toMatchObject({ limit: 'aliases', max: 10 });
    expect(scan('#\n'.repeat(6000))).toMatchObject({ limit: 'tokens', max: 5000 });
  });

  it('gives the same answer asynchronously, yielding between slices', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const text = Array.from({ length: 2000 }, (_, i) => `k${i}: v`).join('\n');
    await expect(scanYamlLimitsAsync(text, { ...LIMITS, maxNodes: 100_000, maxTokens: 100_000 }, 100)).resolves.toBeUndefined();
    await expect(scanYamlLimitsAsync('a: [[[[[[[[[[1]]]]]]]]]]', LIMITS)).resolves.toMatchObject({ limit: 'depth' });
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
  });
});

describe('aliasExpansionViolation', () => {
  const check = (text: string, max = 1000) => aliasExpansionViolation(parseDocument(text), { maxAliasExpansion: max, maxDepth: 64 });

  it('allows ordinary anchors', () => {
    expect(check(ORDINARY)).toBeUndefined();
  });

  it('refuses a billion laughs in linear time', () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 10; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
    const t = Date.now();
    expect(check(lines.join('\n'))).toMatchObject({ limit: 'alias_expansion', max: 1000 });
    expect(Date.now() - t).toBeLessThan(1000);
    expect(check(lines.slice(0, 2).join('\n'))).toBeUndefined();
  });

  it('refuses an alias to a node that contains it', () => {
    expect(check('a: &a [x, *a]')).toMatchObject({ limit: 'alias_expansion' });
  });
});

describe('work stays linear inside the limits', () => {
  it('finds duplicate keys with a set: 80,000 repeated keys in well under the time the pairwise check takes', () => {
    const doc = parseDocument('k: v\n'.repeat(80_000), { uniqueKeys: false });
    const t = Date.now();
    expect(duplicateKeys(doc)).toHaveLength(79_999);
    // the library's pairwise check (3.2 billion comparisons here) takes many seconds
    expect(Date.now() - t).toBeLessThan(3000);
    expect(duplicateKeys(parseDocument('a: 1\nb: {a: 1, "1": 2, 1: 3}\nc: [{x: 1}, {x: 2}]\n<<: {}\n', { uniqueKeys: false }))).toEqual([]);
    expect(duplicateKeys(parseDocument('a: 1\nb:\n  x: 1\n  x: 2\n', { uniqueKeys: false }))).toEqual([{ message: 'Map keys must be unique', offset: 17 }]);
  });

  it('reports the unused components of a large configuration, keeping a bounded number of findings', () => {
    const components = Array.from({ length: 5000 }, (_, i) => `  debug/${i}: {}`).join('\n');
    const limits = { ...LIMITS, maxBytes: 1 << 20, maxNodes: 100_000, maxTokens: 500_000 };
    const unused = parseCollectorConfig(`exporters:\n${components}\nreceivers:\n  otlp: {}\nservice:\n  pipelines:\n    traces: {receivers: [otlp], exporters: [debug/0]}\n`, { limits });
    // the first MAX_FINDINGS are kept, the rest counted
    expect(unused.findings).toHaveLength(MAX_FINDINGS + 1);
    expect(unused.findings.find((f) => f.path === 'exporters.debug/150')).toMatchObject({ code: 'UNUSED_COMPONENT', line: 152, column: 3 });
    expect(unused.findings[MAX_FINDINGS]).toMatchObject({ severity: 'Info', code: 'MORE_FINDINGS', message: `${4999 - MAX_FINDINGS} more findings are not listed` });
  });
});
