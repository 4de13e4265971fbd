import { parse } from 'yaml';
import { endpointHost, exporterSwapDenial, insecureExporterDenial, isLocalHost } from './built-in-policies';
import { ActivePolicy, DEFAULT_POLICY_SETTINGS, evaluatePush, PolicyMode, PushEvaluator, TenantPolicySettings } from './policy-evaluation';
import { configView, PushContext } from './push-context';

const TODAY = `
receivers:
  otlp:
    protocols: { grpc: { endpoint: 0.0.0.0:4317 } }
processors:
  batch: {}
exporters:
  otlp/prod:
    endpoint: collector.prod.example.com:4317
  debug: {}
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlp/prod, debug]
    metrics:
      receivers: [otlp]
      exporters: [otlp/prod]
`;

const view = (yaml: string) => configView(parse(yaml));
const context = (yaml: string): PushContext => ({
  agent: { id: 'a1', description: { 'service.name': 'checkout' }, capabilities: ['AcceptsRemoteConfig'], group: 'payments', labels: { 'service.name': 'checkout', region: 'eu-west-1' } },
  config: view(yaml),
  tenant: 'default',
});
const clock = () => performance.now();

describe('built-in: exporter swap', () => {
  const cases: Array<[string, string, boolean]> = [
    ['keeps one exporter of each pipeline', TODAY.replace('exporters: [otlp/prod, debug]', 'exporters: [otlp/prod]'), false],
    ['adds an exporter', TODAY.replace('exporters: [otlp/prod]\n', 'exporters: [otlp/prod, debug]\n'), false],
    ['replaces every exporter of metrics', TODAY.replace('      exporters: [otlp/prod]\n', '      exporters: [debug]\n'), true],
    ['replaces every exporter of traces by a new alias', TODAY.replace('exporters: [otlp/prod, debug]', 'exporters: [otlp/other]').replace('  debug: {}', '  otlp/other: { endpoint: other:4317 }'), true],
    ['drops a pipeline entirely', TODAY.replace(/    metrics:\n[\s\S]*$/, ''), false],
  ];
  it.each(cases)('%s', (_name, next, denied) => {
    expect(exporterSwapDenial(view(TODAY), view(next)) !== undefined).toBe(denied);
  });
  it('has nothing to swap without a current configuration', () => {
    expect(exporterSwapDenial(undefined, view(TODAY))).toBeUndefined();
  });
});

describe('built-in: TLS-insecure exporter to a non-local endpoint', () => {
  const withExporter = (body: string) => `exporters:\n  otlp/x:\n${body}\nservice:\n  pipelines:\n    traces: { receivers: [otlp], exporters: [otlp/x] }\n`;
  const cases: Array<[string, string, boolean]> = [
    ['secure remote', '    endpoint: collector.example.com:4317', false],
    ['insecure remote', '    endpoint: collector.example.com:4317\n    tls: { insecure: true }', true],
    ['skip-verify remote over https', '    endpoint: https://collector.example.com:4318\n    tls: { insecure_skip_verify: true }', true],
    ['insecure to localhost', '    endpoint: localhost:4317\n    tls: { insecure: true }', false],
    ['insecure to 127.1.2.3', '    endpoint: http://127.1.2.3:4318\n    tls: { insecure: true }', false],
    ['insecure to [::1]', '    endpoint: "[::1]:4317"\n    tls: { insecure: true }', false],
    ['insecure to 128.0.0.1', '    endpoint: 128.0.0.1:4317\n    tls: { insecure: true }', true],
    ['insecure to localhost.evil.com', '    endpoint: localhost.evil.com:4317\n    tls: { insecure: true }', true],
    ['insecure without an endpoint', '    tls: { insecure: true }', true],
    ['insecure to an env reference', '    endpoint: ${env:OTLP_ENDPOINT}\n    tls: { insecure: true }', true],
    ['insecure false', '    endpoint: collector.example.com:4317\n    tls: { insecure: false }', false],
  ];
  it.each(cases)('%s', (_name, body, denied) => {
    expect(insecureExporterDenial(view(withExporter(body))) !== undefined).toBe(denied);
  });
  it('reads hosts and locality', () => {
    expect(endpointHost('otel:4317')).toBe('otel');
    expect(endpointHost('[::1]:4317')).toBe('::1');
    expect(isLocalHost('127.255.255.255')).toBe(true);
    expect(isLocalHost('127.256.0.1')).toBe(false);
  });
});

describe('evaluatePush', () => {
  const requireBatch: ActivePolicy = { id: 'p1', name: 'traces-batched', expression: 'contains(config.processorTypes, "batch") and agent.group = "payments"' };
  const onlyEu: ActivePolicy = { id: 'p2', name: 'eu-only', expression: 'agent.labels.region matches "eu-.*" and tenant = "default"' };
  const broken: ActivePolicy = { id: 'p3', name: 'broken', expression: 'agent.labels.missing = "x"' };
  const unparsable: ActivePolicy = { id: 'p4', name: 'unparsable', expression: 'config.exporters ==' };
  const run = (policies: ActivePolicy[], settings: Partial<TenantPolicySettings> = {}, next = TODAY) =>
    evaluatePush({ context: context(next), current: view(TODAY), policies, settings: { ...DEFAULT_POLICY_SETTINGS, ...settings }, now: clock });

  it('allows when every policy matches, evaluating built-ins and customs', () => {
    const d = run([requireBatch, onlyEu]);
    expect(d.allowed).toBe(true);
    expect(d.evaluations.map((e) => [e.policyName, e.outcome])).toEqual([
      ['builtin:exporter-swap', 'allow'],
      ['builtin:insecure-tls-exporter', 'allow'],
      ['traces-batched', 'allow'],
      ['eu-only', 'allow'],
    ]);
  });

  it('denies when a custom policy does not match, with its reason', () => {
    const d = run([requireBatch], {}, TODAY.replace('      processors: [batch]\n', '').replace('  batch: {}', '  memory_limiter: {}'));
    expect(d).toMatchObject({ allowed: false, denial: { policyName: 'traces-batched', outcome: 'deny' } });
  });

  it('fails closed: an erroring or unparsable policy denies', () => {
    expect(run([broken]).denial).toMatchObject({ policyName: 'broken', failedClosed: true, reason: expect.stringMatching(/failed closed/) });
    expect(run([unparsable]).denial).toMatchObject({ policyName: 'unparsable', failedClosed: true });
  });

  it('fails closed on a budget overrun', () => {
    let t = 0;
    const slow = () => (t += 100);
    const d = evaluatePush({ context: context(TODAY), policies: [{ id: 'p5', name: 'slow', expression: 'len(config.exporters) > 0 and len(config.receivers) > 0 and ' + Array(300).fill('tenant = "default"').join(' and ') }], settings: DEFAULT_POLICY_SETTINGS, now: slow });
    expect(d.denial).toMatchObject({ policyName: 'slow', failedClosed: true });
  });

  it('shadow mode records the deny but does not block', () => {
    const d = run([broken], { mode: PolicyMode.Shadow });
    expect(d).toMatchObject({ allowed: true, mode: 'shadow', denial: { policyName: 'broken' } });
  });

  it('switches the built-ins per tenant', () => {
    const swap = TODAY.replace('      exporters: [otlp/prod]\n', '      exporters: [debug]\n');
    expect(run([], {}, swap).allowed).toBe(false);
    expect(run([], { exporterSwap: false }, swap)).toMatchObject({ allowed: true, evaluations: [{ policyName: 'builtin:insecure-tls-exporter' }] });
  });
});

describe('PushEvaluator: one push, many agents (decision 0304)', () => {
  it('evaluates what every agent shares once, what depends on the agent per agent, with the same outcomes as evaluatePush', () => {
    const policies: ActivePolicy[] = [
      { id: 'p-config', name: 'batched', expression: 'contains(config.processorTypes, "batch") and len(tenant) > 0' },
      { id: 'p-agent', name: 'eu only', expression: 'agent.labels.region matches "eu-.*"' },
    ];
    const base = context(TODAY);
    const evaluator = new PushEvaluator({ context: base, policies, settings: DEFAULT_POLICY_SETTINGS, now: clock });
    const today = view(TODAY);
    const agents = ['eu-west-1', 'us-east-1', 'eu-central-1'].map((region, i) => ({ ...base.agent, id: `a${i}`, labels: { region } }));
    const decisions = agents.map((a) => evaluator.decide(a, today));
    expect(decisions.map((d) => d.allowed)).toEqual([true, false, true]);
    expect(decisions[1]!.denial).toMatchObject({ policyId: 'p-agent', reason: 'policy eu only denies this push' });
    const ran = (id: string) => decisions.filter((d) => d.evaluations.some((e) => e.policyId === id && !e.cached)).length;
    // shared: the config-only policy, the TLS built-in, the swap against one current config (same object)
    expect([ran('p-config'), ran('builtin:insecure-tls-exporter'), ran('builtin:exporter-swap'), ran('p-agent')]).toEqual([1, 1, 1, 3]);
    for (const [i, a] of agents.entries()) {
      const alone = evaluatePush({ context: { ...base, agent: a }, current: today, policies, settings: DEFAULT_POLICY_SETTINGS, now: clock });
      expect(decisions[i]!.evaluations.map((e) => [e.policyId, e.outcome, e.reason])).toEqual(alone.evaluations.map((e) => [e.policyId, e.outcome, e.reason]));
    }
  });
});

describe('PushEvaluator: agents equal on what a policy reads share its outcome (decision 0367)', () => {
  const policies: ActivePolicy[] = [
    { id: 'p-group', name: 'not quarantined', expression: 'default(agent.group, "none") != "quarantine"' },
    { id: 'p-env', name: 'known env', expression: 'default(agent.labels.environment, "prod") in ("prod", "staging")' },
    { id: 'p-host', name: 'bench host', expression: 'agent.labels["host.name"] matches "bench-[0-9]+"' },
    { id: 'p-caps', name: 'caps', expression: 'not contains(agent.capabilities, "ReportsOwnLogs") or default(agent.group, "") != "frozen"' },
    { id: 'p-whole', name: 'whole', expression: 'agent has-key "group"' },
  ];
  const groups = ['edge', 'quarantine', 'frozen', null];
  const envs = [undefined, 'prod', 'dev', null];
  const agents = Array.from({ length: 400 }, (_x, i) => ({
    id: `a${i}`,
    description: {},
    capabilities: i % 3 === 0 ? ['ReportsOwnLogs'] : [],
    group: groups[i % groups.length]!,
    labels: { 'host.name': i % 7 === 0 ? `other-${i}` : `bench-${i}`, ...(envs[i % envs.length] === undefined ? {} : { environment: envs[i % envs.length] }) },
  }));

  it('answers every agent exactly as evaluating it alone, evaluating each distinct case once', () => {
    const base = context(TODAY);
    const settings = { ...DEFAULT_POLICY_SETTINGS, exporterSwap: false, insecureTlsExporter: false };
    const memo = new PushEvaluator({ context: base, policies, settings, now: clock });
    const plain = new PushEvaluator({ context: base, policies, settings, now: clock, memoizeAgents: false });
    const shape = (d: ReturnType<PushEvaluator['decide']>) => d.evaluations.map((e) => [e.policyId, e.outcome, e.reason]);
    const decisions = agents.map((a) => memo.decide(a));
    for (const [i, a] of agents.entries()) expect(shape(decisions[i]!)).toEqual(shape(plain.decide(a)));
    // a missing label and a null one are different cases (default() treats both alike, but the key must not)
    expect(decisions.filter((d) => d.allowed).length).toBeGreaterThan(0);
    expect(decisions.filter((d) => !d.allowed).length).toBeGreaterThan(0);
    const ran = (id: string) => decisions.filter((d) => d.evaluations.some((e) => e.policyId === id && !e.cached)).length;
    // group: 4 values; environment: missing, prod, dev, null; capabilities × group: 2 × 4 (i % 3, i % 4 both vary)
    expect([ran('p-group'), ran('p-env'), ran('p-caps')]).toEqual([4, 4, 8]);
    // a distinct value per agent (host names) stops being remembered after the probe; the whole agent is never remembered
    expect(ran('p-host')).toBeGreaterThan(256);
    expect(ran('p-whole')).toBe(400);
  });
});
