import { availableFromReport, Finding, hasErrors, parseCollectorConfig } from './collector-config';
import { semanticDiff } from './semantic-diff';

export const GOOD = `# edge collectors, production
receivers:
  otlp: &otlp_defaults
    protocols:
      grpc: {}
      http: {}
  otlp/legacy: *otlp_defaults
processors:
  memory_limiter:
    check_interval: 1s
    limit_percentage: 80
  batch:
    timeout: 5s
exporters:
  otlp:
    endpoint: collector.example:4317
  debug: {}
service:
  pipelines:
    traces:
      receivers: [otlp, otlp/legacy]
      processors: [memory_limiter, batch]
      exporters: [otlp]
    metrics:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [otlp, debug]
`;

const codes = (f: Finding[]) => f.map((x) => `${x.severity}:${x.code}`);

describe('collector configuration checks', () => {
  it('accepts a valid configuration with anchors and aliases, without findings', () => {
    const r = parseCollectorConfig(GOOD);
    expect(r.findings).toEqual([]);
    expect(r.model!.pipelines.traces).toEqual({ receivers: ['otlp', 'otlp/legacy'], processors: ['memory_limiter', 'batch'], exporters: ['otlp'] });
    expect(r.model!.components.receivers['otlp/legacy']).toEqual({ protocols: { grpc: {}, http: {} } });
  });

  it('reports YAML syntax errors with line and column', () => {
    const r = parseCollectorConfig('receivers:\n  otlp: {\nexporters: [a\n');
    expect(r.model).toBeUndefined();
    expect(r.findings[0]).toMatchObject({ severity: 'Error', code: 'YAML_SYNTAX', line: expect.any(Number), column: expect.any(Number) });
    expect(hasErrors(r.findings)).toBe(true);
  });

  it('reports a duplicate key as a syntax error at its line', () => {
    const r = parseCollectorConfig('exporters:\n  debug: {}\n  debug: {}\n');
    expect(r.findings).toEqual([expect.objectContaining({ severity: 'Error', code: 'YAML_SYNTAX', line: 3 })]);
  });

  it('finds an undefined exporter in a pipeline, with its path and position', () => {
    const r = parseCollectorConfig(GOOD.replace('exporters: [otlp, debug]', 'exporters: [otlp, otlp/2]'));
    const undefinedExporter = r.findings.find((f) => f.code === 'UNDEFINED_COMPONENT')!;
    expect(undefinedExporter).toEqual({
      severity: 'Error',
      code: 'UNDEFINED_COMPONENT',
      message: 'exporter otlp/2 is used in pipeline metrics but not defined under exporters or connectors',
      path: 'service.pipelines.metrics.exporters[1]',
      line: 27,
      column: 25,
    });
    // debug is now unused: a warning, which alone would not block publishing
    expect(r.findings).toContainEqual(expect.objectContaining({ severity: 'Warning', code: 'UNUSED_COMPONENT', path: 'exporters.debug', line: 17 }));
    expect(hasErrors(r.findings)).toBe(true);
  });

  it('warns about unused components without erroring', () => {
    const r = parseCollectorConfig(GOOD.replace('  debug: {}\n', '  debug: {}\n  logging: {}\n'));
    expect(codes(r.findings)).toEqual(['Warning:UNUSED_COMPONENT']);
    expect(hasErrors(r.findings)).toBe(false);
  });

  it.each([
    ['', ['Error:EMPTY_CONFIG']],
    ['- a\n- b\n', ['Error:NOT_A_MAP']],
    ['receivers: {otlp: {}}\nexporters: {debug: {}}\n', ['Error:MISSING_PIPELINES', 'Warning:UNUSED_COMPONENT', 'Warning:UNUSED_COMPONENT']],
    ['receivers: {otlp: {}}\nexporters: {debug: {}}\nservice: {pipelines: {traces: {receivers: [otlp]}}}\n', ['Error:EMPTY_PIPELINE', 'Warning:UNUSED_COMPONENT']],
    ['receivers: {otlp: {}}\nexporters: {debug: {}}\nservice: {pipelines: {spans: {receivers: [otlp], exporters: [debug]}}}\n', ['Error:INVALID_PIPELINE_ID']],
    ['receivers: {otlp: {}}\nexporters: {debug: {}}\nservice: {pipelines: {traces: {receivers: [otlp, otlp], exporters: [debug]}}}\n', ['Error:DUPLICATE_REFERENCE']],
    ['receivers: {otlp: {}}\nexporters: {debug: {}}\nservice: {pipelines: {traces: {receivers: [otlp], exporters: [debug], extra: 1}}}\n', ['Error:UNKNOWN_KEY']],
    ['receivers: {otlp: {}}\nexporters: {debug: {}}\nprocessor: {}\nservice: {pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}\n', ['Error:UNKNOWN_SECTION']],
    ['receivers: {"9bad": {}}\nexporters: {debug: {}}\nservice: {pipelines: {traces: {receivers: ["9bad"], exporters: [debug]}}}\n', ['Error:INVALID_COMPONENT_ID']],
    ['receivers: {otlp: {}}\nexporters: {debug: {}}\nextensions: {health_check: {}}\nservice: {extensions: [pprof], pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}\n', ['Error:UNDEFINED_COMPONENT', 'Warning:UNUSED_COMPONENT']],
    ['receivers: {otlp: {}}\nexporters: {debug: {}}\nconnectors: {count: {}}\nservice: {pipelines: {traces: {receivers: [otlp], exporters: [count]}, metrics: {receivers: [otlp], exporters: [debug]}}}\n', ['Error:DANGLING_CONNECTOR']],
    ['receivers: {otlp: {}}\nexporters: {debug: {}}\nconnectors: {count: {}}\nservice: {pipelines: {traces: {receivers: [otlp], exporters: [count]}, metrics: {receivers: [count], exporters: [debug]}}}\n', []],
    ['receivers: {otlp: {}}\nprocessors: {batch: {}}\nexporters: {debug: {}}\nservice: {pipelines: {traces: {receivers: [otlp], processors: [batch], exporters: [debug]}}}\n', ['Info:NO_MEMORY_LIMITER']],
    ['receivers: {otlp: {}}\nexporters: {debug: {}}\nservice: {pipelines: {traces: {receivers: [constructor], exporters: [debug]}}}\n', ['Error:UNDEFINED_COMPONENT', 'Warning:UNUSED_COMPONENT']],
  ])('checks %j', (yaml, expected) => {
    expect(codes(parseCollectorConfig(yaml).findings).sort()).toEqual([...expected].sort());
  });

  it('checks the components an agent reported it has', () => {
    const available = availableFromReport({ hash: 'ab', components: ['receivers', 'processors', 'exporters'], subComponents: { receivers: ['otlp'], processors: ['batch'], exporters: ['otlp', 'debug'] } });
    const r = parseCollectorConfig(GOOD, { available });
    expect(r.findings).toEqual([expect.objectContaining({ severity: 'Warning', code: 'COMPONENT_UNAVAILABLE', path: 'processors.memory_limiter', message: expect.stringContaining('processor memory_limiter'), line: 9 })]);
    expect(availableFromReport({ components: ['receivers'] })).toBeUndefined();
  });
});

describe('semantic diff', () => {
  const model = (yaml: string) => {
    const r = parseCollectorConfig(yaml);
    if (!r.model) throw new Error(JSON.stringify(r.findings));
    return r.model;
  };

  it('names added, removed and changed components per pipeline', () => {
    const next = GOOD.replace('    timeout: 5s\n', '    timeout: 10s\n    send_batch_size: 512\n')
      .replace('  debug: {}\n', '  otlp/2:\n    endpoint: backup.example:4317\n')
      .replace('exporters: [otlp, debug]', 'exporters: [otlp, otlp/2]')
      .replace('processors: [memory_limiter, batch]\n      exporters: [otlp]', 'processors: [batch, memory_limiter]\n      exporters: [otlp]');
    const summaries = semanticDiff(model(GOOD), model(next)).map((c) => c.summary);
    expect(summaries).toEqual([
      'processor batch: send_batch_size added, timeout changed',
      'exporter debug removed',
      'exporter otlp/2 added',
      'exporter otlp/2 added to the metrics pipeline',
      'exporter debug removed from the metrics pipeline',
      'processor order in the traces pipeline changed: batch → memory_limiter',
    ]);
  });

  it('reports pipelines added and removed, extensions and service settings, and nothing for equal configs', () => {
    const a = model(GOOD);
    expect(semanticDiff(a, a)).toEqual([]);
    const b = model(
      GOOD.replace('    metrics:\n      receivers: [otlp]\n      processors: [memory_limiter, batch]\n      exporters: [otlp, debug]\n', '    logs:\n      receivers: [otlp]\n      exporters: [debug]\n').replace(
        'service:\n',
        'extensions:\n  health_check: {}\nservice:\n  extensions: [health_check]\n  telemetry:\n    logs:\n      level: debug\n',
      ),
    );
    const changes = semanticDiff(a, b);
    expect(changes.map((c) => c.kind)).toEqual(['component_added', 'pipeline_added', 'pipeline_removed', 'extension_enabled', 'setting_changed']);
    expect(changes.find((c) => c.kind === 'pipeline_added')!.summary).toBe('pipeline logs added (otlp → - → debug)');
    expect(changes.find((c) => c.kind === 'setting_changed')!.keys).toEqual([{ key: 'service.telemetry', change: 'added' }]);
  });

  it('never includes setting values (they may be credentials)', () => {
    const a = model(GOOD);
    const b = model(GOOD.replace('endpoint: collector.example:4317', 'endpoint: collector.example:4317\n    headers:\n      api-key: s3cr3t-value'));
    const text = JSON.stringify(semanticDiff(a, b));
    expect(text).toContain('headers');
    expect(text).not.toContain('s3cr3t');
  });
});

describe('parseCollectorConfig: the parsed document, once (the lint rules read it)', () => {
  it('returns the whole document as plain data only when asked, aliases resolved', () => {
    const without = parseCollectorConfig(GOOD);
    expect(without.document).toBeUndefined();
    const parsed = parseCollectorConfig(GOOD, { document: true });
    expect(parsed.findings).toEqual(without.findings);
    const doc = parsed.document as { receivers: Record<string, unknown>; processors: Record<string, { limit_percentage?: number }> };
    expect(doc.processors.memory_limiter!.limit_percentage).toBe(80);
    expect(doc.receivers['otlp/legacy']).toEqual(doc.receivers.otlp);
  });

  it('has no document for a text that is not a configuration map', () => {
    expect(parseCollectorConfig('receivers: [unclosed', { document: true }).document).toBeUndefined();
    expect(parseCollectorConfig('- a\n- b\n', { document: true }).document).toBeUndefined();
  });
});
