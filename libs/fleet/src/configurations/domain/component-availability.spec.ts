import { parse } from 'yaml';
import { agentCatalogue, describeMissing, groupComponentFindings, missingComponents } from './component-availability';

const config = parse(`
receivers:
  otlp: {}
  zipkin/edge: {}
processors:
  batch: {}
exporters:
  kafka/eu: {}
  debug: {}
service:
  pipelines:
    traces: { receivers: [otlp, zipkin/edge], processors: [batch], exporters: [kafka/eu, debug] }
`);

/** What the protocol layer stores from AvailableComponents (names per kind, plus the tree). */
const reported = { hash: 'ab', components: ['exporters', 'processors', 'receivers'], subComponents: { receivers: ['otlp'], processors: ['batch'], exporters: ['debug', 'otlp'] } };

describe('available components (decision 0330)', () => {
  it('reads the reported catalogue first, the description only when no catalogue came', () => {
    const description = { 'otelcol.components.receivers': 'otlp, zipkin', 'otelcol.components.exporters': ['kafka'] };
    expect(agentCatalogue(reported, description)).toEqual({ receivers: ['otlp'], processors: ['batch'], exporters: ['debug', 'otlp'] });
    expect(agentCatalogue(null, description)).toEqual({ receivers: ['otlp', 'zipkin'], exporters: ['kafka'] });
    expect(agentCatalogue(undefined, { 'host.name': 'a' })).toBeUndefined();
    expect(agentCatalogue(null, null)).toBeUndefined();
  });

  it('names each component the configuration uses whose type the agent lacks, by id', () => {
    const missing = missingComponents(config, agentCatalogue(reported, null)!);
    expect(missing).toEqual([
      { section: 'receivers', id: 'zipkin/edge', type: 'zipkin' },
      { section: 'exporters', id: 'kafka/eu', type: 'kafka' },
    ]);
    expect(describeMissing(missing)).toBe('receiver zipkin (receivers.zipkin/edge), exporter kafka (exporters.kafka/eu)');
  });

  it('takes a deprecated alias for the type the catalogue reports, both ways (otlphttp is otlp_http at v0.158.0)', () => {
    const aliased = parse('exporters:\n  otlphttp/dead: {}\n  otlp_http: {}\n');
    expect(missingComponents(aliased, { exporters: ['otlp_http'] })).toEqual([]);
    expect(missingComponents(aliased, { exporters: ['otlphttp'] })).toEqual([]);
    expect(missingComponents(aliased, { exporters: ['otlp'] }).map((m) => m.id)).toEqual(['otlphttp/dead', 'otlp_http']);
  });

  it('does not judge a kind the agent did not report, nor an unreadable configuration', () => {
    expect(missingComponents(config, { processors: ['batch'] })).toEqual([]);
    expect(missingComponents('not a map', { receivers: [] })).toEqual([]);
    expect(missingComponents(config, { receivers: ['otlp', 'zipkin'], exporters: ['kafka', 'debug'] })).toEqual([]);
  });

  it('validates against a group: one Error per missing component with the agents lacking it; agents with no catalogue are counted apart', () => {
    const full = { receivers: ['otlp', 'zipkin'], processors: ['batch'], exporters: ['kafka', 'debug'] };
    const findings = groupComponentFindings(config, [
      { agentId: 'a1', catalogue: full },
      { agentId: 'a2', catalogue: agentCatalogue(reported, null) },
      { agentId: 'a3', catalogue: { ...full, exporters: ['debug'] } },
      { agentId: 'a4', catalogue: undefined },
    ]);
    expect(findings).toEqual([
      { severity: 'Error', code: 'COMPONENT_UNAVAILABLE', path: 'exporters.kafka/eu', message: expect.stringMatching(/^2 of 4 agent\(s\) of the group do not have exporter kafka \(a2, a3\)/) },
      { severity: 'Error', code: 'COMPONENT_UNAVAILABLE', path: 'receivers.zipkin/edge', message: expect.stringContaining('1 of 4 agent(s)') },
      { severity: 'Info', code: 'COMPONENTS_UNKNOWN', path: '', message: expect.stringContaining('1 agent(s)') },
    ]);
    expect(groupComponentFindings(config, [{ agentId: 'a1', catalogue: full }])).toEqual([]);
  });

  it('names at most five agents in one finding', () => {
    const many = Array.from({ length: 7 }, (_, i) => ({ agentId: `x${i}`, catalogue: { exporters: ['debug'] } }));
    const [finding] = groupComponentFindings(config, many);
    expect(finding!.message).toContain('7 of 7');
    expect(finding!.message).toContain('x4, …');
    expect(finding!.message).not.toContain('x5');
  });
});
