import { parse } from 'yaml';
import { compileLintExpression, LintRuleDefinition, LintRuleSet } from './lint-rule';

const GOOD = parse(`
receivers:
  otlp: { protocols: { grpc: {} } }
processors:
  memory_limiter: { check_interval: 1s, limit_percentage: 80 }
  batch: {}
exporters:
  otlp/prod: { endpoint: collector.prod.example.com:4317 }
service:
  pipelines:
    traces: { receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlp/prod] }
`);
const NO_LIMITER = parse(`
receivers:
  otlp: { protocols: { grpc: {} } }
processors:
  batch: {}
exporters:
  debug: { verbosity: detailed }
service:
  pipelines:
    traces: { receivers: [otlp], processors: [batch], exporters: [debug] }
`);

const rule = (name: string, expression: string, severity: LintRuleDefinition['severity'], description = ''): LintRuleDefinition => ({ id: `id-${name}`, name, expression, severity, description });

describe('lint rules (decision 0300)', () => {
  it('accepts expressions over config.* and refuses any other path, or text that does not compile', () => {
    expect(compileLintExpression('contains(config.processorTypes, "memory_limiter")').ok).toBe(true);
    expect(compileLintExpression('exists(config.yaml.service.telemetry)').ok).toBe(true);
    const foreign = compileLintExpression('contains(config.processorTypes, "batch") and agent.group = "edge"');
    expect(foreign).toMatchObject({ ok: false, message: expect.stringContaining('"agent"') });
    expect(compileLintExpression('tenant = "acme"')).toMatchObject({ ok: false, message: expect.stringContaining('"tenant"') });
    expect(compileLintExpression('config.exporters =')).toMatchObject({ ok: false, message: expect.stringContaining('does not compile') });
  });

  it('reports each rule a real configuration does not satisfy, with its severity, description and name', () => {
    const rules = new LintRuleSet([
      rule('memory-limiter', 'contains(config.processorTypes, "memory_limiter")', 'Error', 'every collector limits its memory'),
      rule('no-debug', 'not contains(config.exporterTypes, "debug")', 'Warning', 'debug exporters are for test benches'),
      rule('traces-pipeline', 'exists(config.pipelines.traces)', 'Info'),
    ]);
    expect(rules.check(GOOD)).toEqual([]);
    expect(rules.check(NO_LIMITER)).toEqual([
      { severity: 'Error', code: 'LINT_RULE', message: 'lint rule memory-limiter: every collector limits its memory', path: '', rule: { id: 'id-memory-limiter', name: 'memory-limiter' } },
      { severity: 'Warning', code: 'LINT_RULE', message: 'lint rule no-debug: debug exporters are for test benches', path: '', rule: { id: 'id-no-debug', name: 'no-debug' } },
    ]);
  });

  it('fails closed: a missing path or a rule that no longer compiles reports its finding with the reason', () => {
    const rules = new LintRuleSet([rule('telemetry', 'config.yaml.service.telemetry.logs.level = "info"', 'Error'), rule('broken', 'config.x = ', 'Warning')]);
    const findings = rules.check(GOOD);
    expect(findings.map((f) => [f.rule.name, f.severity])).toEqual([
      ['telemetry', 'Error'],
      ['broken', 'Warning'],
    ]);
    expect(findings[0]!.message).toMatch(/failed closed: .*missing/);
    expect(findings[1]!.message).toMatch(/does not compile/);
  });
});
