import { availableComponentsView, moduleOf } from './available-components';

describe('available components view', () => {
  const stored = {
    hash: 'ab',
    components: ['exporters', 'receivers'],
    subComponents: { exporters: ['debug'], receivers: ['otlp'] },
    tree: {
      receivers: { metadata: {}, subComponents: { otlp: { metadata: { 'code.namespace': 'go.opentelemetry.io/collector/receiver/otlpreceiver v0.158.0' }, subComponents: {} } } },
      exporters: { metadata: {}, subComponents: { debug: { metadata: { 'code.namespace': 'go.opentelemetry.io/collector/exporter/debugexporter@v0.158.0' }, subComponents: {} } } },
    },
  };

  it('lists each kind\'s components with module and version', () => {
    const v = availableComponentsView(stored)!;
    expect(v.byKind.receivers).toEqual([{ name: 'otlp', module: 'go.opentelemetry.io/collector/receiver/otlpreceiver', version: 'v0.158.0', metadata: stored.tree.receivers.subComponents.otlp.metadata, subComponents: [] }]);
    expect(v.byKind.exporters![0]).toMatchObject({ name: 'debug', module: 'go.opentelemetry.io/collector/exporter/debugexporter', version: 'v0.158.0' });
    expect(v.subComponents).toEqual({ exporters: ['debug'], receivers: ['otlp'] });
  });

  it('shows reports stored before the tree was kept by name, and nothing for no report', () => {
    const v = availableComponentsView({ hash: 'cd', components: ['receivers'], subComponents: { receivers: ['otlp'] } })!;
    expect(v.byKind.receivers).toEqual([{ name: 'otlp', module: null, version: null, metadata: {}, subComponents: [] }]);
    expect(availableComponentsView(null)).toBeNull();
  });

  it('reads a module without a version', () => {
    expect(moduleOf({ 'code.namespace': 'example.com/mod' })).toEqual({ module: 'example.com/mod', version: null });
    expect(moduleOf({})).toEqual({ module: null, version: null });
  });
});
