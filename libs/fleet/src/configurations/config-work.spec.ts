import { ConfigWork, ConfigWorkAborted } from './config-work';

describe('ConfigWork (the parsing worker thread)', () => {
  let work: ConfigWork | undefined;
  afterEach(() => work?.close());

  it('parses in a worker thread and returns the findings and model', async () => {
    work = new ConfigWork({ timeoutMs: 20_000, maxHeapMb: 128 });
    const r = await work.run({ op: 'parse', text: 'receivers:\n  otlp: {}\nexporters:\n  debug: {}\nservice:\n  pipelines:\n    traces: {receivers: [otlp], exporters: [debug]}\n', options: {} });
    expect(r.findings).toEqual([]);
    expect(r.model?.pipelines.traces).toEqual({ receivers: ['otlp'], processors: [], exporters: ['debug'] });
    expect(r.document).toBeUndefined();
    // asked for, the parsed document comes back from the thread too (validation parses once)
    const withDoc = await work.run({ op: 'parse', text: 'receivers:\n  otlp: {}\nexporters:\n  debug: {}\nservice:\n  pipelines:\n    traces: {receivers: [otlp], exporters: [debug]}\n', options: { document: true } });
    expect(withDoc.document).toEqual({ receivers: { otlp: {} }, exporters: { debug: {} }, service: { pipelines: { traces: { receivers: ['otlp'], exporters: ['debug'] } } } });
    const d = await work.run({ op: 'diff', from: 'a: 1\n', to: 'a: 2\n', labels: { from: 'x', to: 'y' } });
    expect(d.unified).toContain('+a: 2');
  });

  it('refuses a job that runs past its time, replaces the worker, and runs the jobs queued behind it', async () => {
    work = new ConfigWork({ timeoutMs: 300, maxHeapMb: 256 });
    // unbounded (no limits given): a parse of this size takes far longer than 300 ms
    const slow = work.run({ op: 'parse', text: 'k: [a, b, c]\n'.repeat(400_000), options: {} });
    const queued = work.run({ op: 'parse', text: 'a: 1\n', options: {} });
    const started = Date.now();
    await expect(slow).rejects.toMatchObject({ reason: 'timeout' });
    expect(Date.now() - started).toBeLessThan(5000);
    await expect(queued).resolves.toMatchObject({ model: expect.objectContaining({ other: { a: 1 } }) });
  });

  it('refuses a job that runs out of the worker heap, and keeps working', async () => {
    work = new ConfigWork({ timeoutMs: 60_000, maxHeapMb: 32 });
    const error = await work.run({ op: 'parse', text: 'k: [a, b, c, d, e, f, g, h]\n'.repeat(300_000), options: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigWorkAborted);
    expect(['memory', 'crash']).toContain((error as ConfigWorkAborted).reason);
    await expect(work.run({ op: 'parse', text: 'a: 1\n', options: {} })).resolves.toMatchObject({ model: expect.any(Object) });
  });
});
