import { describe, expect, it } from 'vitest';
import { pipelinesOf } from './pipelines';

describe('pipelinesOf', () => {
  it('reads receivers, processors in order and exporters of each pipeline', () => {
    const yaml = 'service:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      processors: [memory_limiter, batch]\n      exporters: [debug, otlp/2]\n    metrics:\n      receivers: [prometheus]\n      exporters: [debug]\n';
    expect(pipelinesOf(yaml)).toEqual([
      { name: 'traces', receivers: ['otlp'], processors: ['memory_limiter', 'batch'], exporters: ['debug', 'otlp/2'] },
      { name: 'metrics', receivers: ['prometheus'], processors: [], exporters: ['debug'] },
    ]);
  });

  it('has no pipelines without service.pipelines, and throws on YAML that does not parse', () => {
    expect(pipelinesOf('receivers: {}\n')).toEqual([]);
    expect(() => pipelinesOf('a: [\n')).toThrow();
  });
});
