import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assessDrift, contains, DriftInput } from './config-drift';

const fixture = (name: string) => readFileSync(join(__dirname, '__fixtures__', name), 'utf8');
const assigned = fixture('assigned.yaml');
const supervised = fixture('supervisor-effective.yaml');
const HASH = 'a'.repeat(64);

const input = (over: Partial<DriftInput> = {}): DriftInput => ({
  assignedHash: HASH,
  assignedContentHash: 'c'.repeat(64),
  assignedText: assigned,
  effectiveContentHash: 'e'.repeat(64),
  effectiveText: supervised,
  reportedHash: HASH,
  ...over,
});

describe('drift', () => {
  it('is false for a Supervisor\'s merged effective config: defaults written out, its opamp and health check extensions, service.telemetry', () => {
    const d = assessDrift(input());
    expect(d.drift).toBe(false);
    // the full diff is kept, every difference marked as not counting
    expect(d.differences.length).toBeGreaterThan(3);
    expect(d.differences.every((x) => !x.counts)).toBe(true);
    expect(d.differences.find((x) => x.kind === 'component_added' && x.component === 'opamp')?.why).toBe('added by the OpAMP Supervisor');
    expect(d.differences.find((x) => x.kind === 'extension_enabled' && x.component === 'health_check/supervisor')?.why).toBe('enabled by the OpAMP Supervisor');
    expect(d.differences.find((x) => x.kind === 'component_changed' && x.component === 'otlp')?.why).toBe('only keys the agent filled in with its defaults');
  });

  it('is true when a reported last_remote_config_hash is not the assigned hash, whatever the config says', () => {
    const d = assessDrift(input({ reportedHash: 'b'.repeat(64) }));
    expect(d.drift).toBe(true);
    expect(d.differences[0]).toMatchObject({ kind: 'remote_config_hash', counts: true });
    // the hash alone decides even before any effective config
    expect(assessDrift(input({ reportedHash: 'b'.repeat(64), effectiveText: null })).drift).toBe(true);
  });

  it('is unknown with no effective config, no assignment, or an effective config too large to analyse', () => {
    expect(assessDrift(input({ effectiveText: null, effectiveContentHash: null })).drift).toBe('unknown');
    expect(assessDrift(input({ assignedHash: null, assignedText: null })).drift).toBe('unknown');
    expect(assessDrift(input({ effectiveTooLarge: true })).drift).toBe('unknown');
    expect(assessDrift(input({ effectiveText: 'receivers: [' })).drift).toBe('unknown');
  });

  it('is false when the texts are the same, without parsing', () => {
    expect(assessDrift(input({ effectiveText: 'not: [yaml', effectiveContentHash: 'c'.repeat(64) })).drift).toBe(false);
  });

  it('counts a value the assigned config states that differs', () => {
    const d = assessDrift(input({ effectiveText: supervised.replace('send_batch_size: 8192', 'send_batch_size: 512') }));
    expect(d.drift).toBe(true);
    expect(d.differences.find((x) => x.counts)).toMatchObject({ kind: 'component_changed', component: 'batch' });
    expect(d.differences.find((x) => x.counts)!.why).toContain('send_batch_size');
  });

  it('counts a missing component and a different pipeline', () => {
    const noBatch = supervised.replace(/processors:\n {4}batch:\n(?: {8}.*\n)+/, '');
    expect(assessDrift(input({ effectiveText: noBatch })).differences.filter((x) => x.counts).map((x) => x.kind)).toContain('component_removed');
    const other = supervised.replace(/traces:\n {12}exporters:\n {16}- debug/, 'traces:\n            exporters:\n                - debug\n                - otlp');
    const d = assessDrift(input({ effectiveText: other }));
    expect(d.drift).toBe(true);
    expect(d.differences.filter((x) => x.counts).map((x) => x.kind)).toContain('pipeline_component_added');
  });

  it('counts a component neither the assignment states nor a Supervisor adds (a local edit)', () => {
    const d = assessDrift(input({ effectiveText: supervised.replace('exporters:\n    debug:', 'exporters:\n    otlp/local:\n        endpoint: x:4317\n    debug:') }));
    expect(d.drift).toBe(true);
    expect(d.differences.filter((x) => x.counts)).toEqual([expect.objectContaining({ kind: 'component_added', component: 'otlp/local' })]);
  });

  it('counts an extension the agent runs that neither the assignment nor a Supervisor enables', () => {
    const d = assessDrift(input({ effectiveText: supervised.replace('        - opamp\n', '        - opamp\n        - pprof\n').replace('extensions:\n    health_check', 'extensions:\n    pprof: {}\n    health_check') }));
    expect(d.drift).toBe(true);
    expect(d.differences.filter((x) => x.counts).map((x) => `${x.kind} ${x.component}`).sort()).toEqual(['component_added pprof', 'extension_enabled pprof']);
  });

  it('containment: empty settings are contained in anything; scalars compare by text', () => {
    expect(contains({ otlp: {} }, { otlp: { protocols: {} } })).toEqual([]);
    expect(contains({ a: { b: 8192 } }, { a: { b: '8192', c: 1 } })).toEqual([]);
    expect(contains({ a: { b: 1, d: [1, 2] } }, { a: { b: 2, d: [1, 2] } })).toEqual(['a.b']);
    expect(contains({ a: { d: [1, 2] } }, { a: { d: [2, 1] } })).toEqual(['a.d']);
    expect(contains({ a: { x: 'y' } }, { a: {} })).toEqual(['a.x']);
  });
});
