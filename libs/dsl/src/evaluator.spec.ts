import { DslErrorKind, evaluate, Expression, MAX_DEPTH } from './index';

/** An agent's labels, the context of a dynamic group selector. */
const agent = {
  'service.name': 'checkout',
  'service.version': '2.4.1',
  'service.instance.id': 'checkout-7',
  'host.name': 'node-17',
  region: 'eu-central-1',
  environment: 'prod',
  tier: 'edge',
  replicas: 3,
  weight: 0.5,
  canary: false,
  owner: null,
  'app.kubernetes.io/name': 'checkout',
  capabilities: ['AcceptsRemoteConfig', 'ReportsHealth'],
  k8s: { namespace: { name: 'shop' }, pod: { labels: { team: 'payments' } } },
  'k8s.cluster.name': 'eu-1',
  nested: { 'a.b': { c: 1 } },
  empty: '',
  unicode: 'Zürich-🚀',
  constructorish: 'x',
};

type Expect = boolean | DslErrorKind;

/** [expression, expected: true/false, or the kind of error it fails closed with]. */
const TABLE: Array<[string, Expect]> = [
  // equality and the spec's selector examples
  ['service.name = "checkout"', true],
  ['service.name = "payments"', false],
  ['service.name != "payments"', true],
  ['region in ("eu-central-1", "eu-west-1")', true],
  ['region in ("us-east-1")', false],
  ['service.name matches "checkout-.*"', false],
  ['service.instance.id matches "checkout-.*"', true],
  ['service.name = "checkout" and environment = "prod"', true],
  ['service.name = "checkout" and environment = "dev"', false],
  ['service.name = "nope" or environment = "prod"', true],
  ['not (service.name matches "experimental-.*")', true],
  // precedence: not > and > or, parentheses override
  ['not service.name = "checkout"', false],
  ['tier = "edge" or tier = "core" and environment = "dev"', true],
  ['(tier = "edge" or tier = "core") and environment = "dev"', false],
  ['not not tier = "edge"', true],
  ['((((tier = "edge"))))', true],
  // numbers, booleans, null
  ['replicas = 3', true],
  ['replicas >= 3 and replicas < 4', true],
  ['replicas > 3', false],
  ['weight <= 0.5', true],
  ['replicas = -3', false],
  ['replicas > -1e3', true],
  ['canary = false', true],
  ['canary', false],
  ['not canary', true],
  ['owner = null', true],
  ['owner != null', false],
  ['region = null', false],
  ['region != null', true],
  // strings order by code point
  ['region > "eu"', true],
  ['"a" < "b"', true],
  ['empty = ""', true],
  // paths: dotted label keys, nested maps, brackets, the root
  ['k8s.namespace.name = "shop"', true],
  ['k8s.pod.labels.team = "payments"', true],
  ['k8s.cluster.name = "eu-1"', true],
  ['k8s["pod"]["labels"].team = "payments"', true],
  ['$["app.kubernetes.io/name"] = "checkout"', true],
  ['capabilities[1] = "ReportsHealth"', true],
  ['nested["a.b"].c = 1', true],
  ['nested.a.b.c = 1', true],
  // functions
  ['len(service.name) = 8', true],
  ['len(capabilities) = 2', true],
  ['len(k8s) = 2', true],
  ['len(unicode) = 8', true],
  ['lower("EU") = "eu"', true],
  ['upper(environment) = "PROD"', true],
  ['trim("  x ") = "x"', true],
  ['starts-with(region, "eu-")', true],
  ['ends-with(region, "-1")', true],
  ['contains(host.name, "de-1")', true],
  ['contains(capabilities, "ReportsHealth")', true],
  ['contains(capabilities, "AcceptsPackages")', false],
  ['regex(service.version, "[0-9]+\\\\.[0-9]+\\\\.[0-9]+")', true],
  ['regex(service.version, "2")', false],
  ['service.version matches regex("2\\\\..*")', true],
  ['exists(region)', true],
  ['exists(zone)', false],
  ['exists(owner)', true],
  ['exists(zone) and zone = "a"', false],
  ['default(zone, "a") = "a"', true],
  ['default(owner, "nobody") = "nobody"', true],
  ['default(region, "x") = "eu-central-1"', true],
  ['$ has-key region', true],
  ['$ has-key "app.kubernetes.io/name"', true],
  ['k8s has-key cluster', false],
  // regex semantics: whole-string match, classes, case-insensitive flag, alternation
  ['region matches "eu-.*"', true],
  ['region matches "eu"', false],
  ['region matches "(?i)EU-CENTRAL-\\\\d"', true],
  ['region matches "(eu|us)-(central|west)-[0-9]"', true],
  ['host.name matches "node-\\\\d{2}"', true],
  ['host.name matches "node-\\\\d{3,}"', false],
  ['unicode matches "Z.rich-."', true],
  ['region matches "^eu-central-1$"', true],
  ['region matches ".*\\\\bcentral\\\\b.*"', true],
  // failing closed: missing paths
  ['zone = "a"', 'missing'],
  ['zone != "a"', 'missing'],
  ['not (zone = "a")', 'missing'],
  ['len(zone) > 0', 'missing'],
  ['k8s.namespace.uid = "x"', 'missing'],
  ['capabilities[5] = "x"', 'missing'],
  ['region = "eu-central-1" or zone = "a"', true],
  ['region = "x" or zone = "a"', 'missing'],
  // failing closed: wrong types
  ['replicas = "3"', 'type'],
  ['region > 1', 'type'],
  ['owner < 1', 'type'],
  ['len(replicas) = 1', 'type'],
  ['lower(replicas) = "3"', 'type'],
  ['replicas matches "3"', 'type'],
  ['region has-key x', 'type'],
  ['region', 'type'],
  ['"yes"', 'type'],
  ['capabilities = "x"', 'type'],
  ['k8s = k8s', 'type'],
  ['region in ("eu-central-1", 5)', 'type'],
  ['starts-with(replicas, "3")', 'type'],
  ['regex(region, "(")', 'parse'],
  ['regex(region, lower("("))', 'type'],
  // failing closed: parse errors
  ['', 'parse'],
  ['service.name ==  "x"', 'parse'],
  ['service.name = ', 'parse'],
  ['service.name = "unterminated', 'parse'],
  ['(region = "x"', 'parse'],
  ['region = "x")', 'parse'],
  ['region = "x" and', 'parse'],
  ['frobnicate(region)', 'parse'],
  ['len(region, region) = 1', 'parse'],
  ['exists("region")', 'parse'],
  ['region matches region', 'parse'],
  ['region matches "(a"', 'parse'],
  ['region matches "a**"', 'parse'],
  ['region matches "(?=a)"', 'parse'],
  ['region matches "(a)\\\\1"', 'parse'],
  ['region matches "a{2000}"', 'parse'],
  ['region matches "((a{100}){100})"', 'parse'],
  ['in = 1', 'parse'],
  ['region = "\\q"', 'parse'],
  ['region ! "x"', 'parse'],
  // failing closed: limits
  [`${'not '.repeat(MAX_DEPTH + 1)}canary`, 'limit'],
  [`${'('.repeat(MAX_DEPTH + 1)}canary${')'.repeat(MAX_DEPTH + 1)}`, 'limit'],
  [`${'lower('.repeat(MAX_DEPTH + 1)}"x"${')'.repeat(MAX_DEPTH + 1)} = "x"`, 'limit'],
  [`region = "${'x'.repeat(5000)}"`, 'limit'],
  // the prototype chain is not part of the context
  ['constructor = "x"', 'missing'],
  ['$ has-key constructor', false],
  ['__proto__.x = 1', 'missing'],
];

describe('the Ampora language', () => {
  it('has a table of at least 60 expressions', () => {
    expect(TABLE.length).toBeGreaterThanOrEqual(60);
  });

  it.each(TABLE)('%s → %s', (source, expected) => {
    const result = evaluate(source, agent);
    if (typeof expected === 'boolean') {
      expect(result.error).toBeUndefined();
      expect(result.matched).toBe(expected);
    } else {
      expect(result.matched).toBe(false);
      expect(result.error?.kind).toBe(expected);
      expect(result.error?.message.length).toBeGreaterThan(5);
    }
  });

  it('reports where a parse error is', () => {
    const r = Expression.compile('region = "eu" and and');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ kind: 'parse', position: 18, message: expect.stringContaining('"and"') });
  });

  it('accepts expressions nested exactly to the cap', () => {
    expect(evaluate(`${'('.repeat(MAX_DEPTH)}tier = "edge"${')'.repeat(MAX_DEPTH)}`, agent).matched).toBe(true);
  });

  it('compiles once and evaluates against many contexts', () => {
    const compiled = Expression.compile('region in ("eu-1", "eu-2") and tier = "edge"');
    if (!compiled.ok) throw new Error(compiled.error.message);
    const results = [{ region: 'eu-1', tier: 'edge' }, { region: 'eu-3', tier: 'edge' }, { tier: 'edge' }].map((c) => compiled.expression.evaluate(c));
    expect(results.map((r) => [r.matched, r.error?.kind])).toEqual([
      [true, undefined],
      [false, undefined],
      [false, 'missing'],
    ]);
  });

  it('treats values that are not JSON as unsupported, never as data', () => {
    expect(evaluate('when = "x"', { when: new Date(0) }).error?.kind).toBe('type');
    expect(evaluate('n = 1', { n: Number.NaN }).error?.kind).toBe('type');
    expect(evaluate('f = 1', { f: () => 1 }).error?.kind).toBe('type');
    expect(evaluate('x = 1', null).error?.kind).toBe('missing');
    expect(evaluate('x = 1', 'not a map').error?.kind).toBe('missing');
  });

  it('names the first step of every path it reads, in calls, lists and negations too', () => {
    const compiled = Expression.compile('not (config.exporters = 1) and len(agent.labels) > 0 and tenant in (x.y, "a") and exists(tag["k8s.io/app"]) and default(z, 1) = 1');
    if (!compiled.ok) throw new Error(compiled.error.message);
    expect(compiled.expression.pathRoots()).toEqual(['config', 'agent', 'tenant', 'x', 'tag', 'z']);
  });

  it('names the leading names of every path up to its first index, and the whole context for $', () => {
    const compiled = Expression.compile('agent.labels["host.name"] = "a" and contains(agent.capabilities[0], "x") and default(agent.group, "") = "" and agent.group != null and $ has-key tenant');
    if (!compiled.ok) throw new Error(compiled.error.message);
    expect(compiled.expression.namePrefixes()).toEqual([['agent', 'labels', 'host.name'], ['agent', 'capabilities'], ['agent', 'group'], []]);
  });
});
