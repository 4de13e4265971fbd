import { parse } from 'yaml';
import { endpointHost, exporterSwapDenial, insecureExporterDenial, isLocalHost } from './built-in-policies';
import { ActivePolicy, DEFAULT_POLICY_SETTINGS, evaluatePush, PolicyMode, TenantPolicySettings } from './policy-evaluation';
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
