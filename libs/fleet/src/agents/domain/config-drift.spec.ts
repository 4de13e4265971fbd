import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assessDrift, contains, DriftInput, matchesTemplate } from './config-drift';

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
    expect(d.differences.find((x) => x.kind === 'component_changed' && x.component === 'otlp')?.why).toBe('only keys the agent filled in with its defaults (or settings its report leaves out)');
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
    expect(contains({ a: { x: 'y' } }, { a: {} })).toEqual([]); // left out of the report: not counted (decision 0114)
    expect(contains({ a: { x: 'y' } }, { a: { x: 'z' } })).toEqual(['a.x']);
  });
});

describe('assigned values with ${...} placeholders', () => {
  it('agree with what the Collector resolved them to, literal parts in order', () => {
    expect(matchesTemplate('127.0.0.1:${env:OTLP_PORT}', '127.0.0.1:4318')).toBe(true);
    expect(matchesTemplate('${env:ENDPOINT}', 'https://example.test:443')).toBe(true);
    expect(matchesTemplate('${HOST}:${env:PORT:-4317}/v1', 'collector:4317/v1')).toBe(true);
    expect(matchesTemplate('127.0.0.1:${env:OTLP_PORT}', '0.0.0.0:4318')).toBe(false);
    expect(matchesTemplate('a${X}b${Y}c', 'abc')).toBe(true);
    expect(matchesTemplate('a${X}b${Y}c', 'acb')).toBe(false);
    expect(matchesTemplate('ab${X}ba', 'aba')).toBe(false);
    expect(matchesTemplate('no placeholders', 'no placeholders')).toBe(true);
  });

  it('are no drift in a component whose setting the Collector resolved', () => {
    expect(contains({ http: { endpoint: '127.0.0.1:${env:OTLP_PORT_B}' } }, { http: { endpoint: '127.0.0.1:38715', idle_timeout: '0s' } })).toEqual([]);
    expect(contains({ http: { endpoint: '127.0.0.1:${env:OTLP_PORT_B}' } }, { http: { endpoint: '10.0.0.1:38715' } })).toEqual(['http.endpoint']);
    expect(contains({ sampling: '${env:N}' }, { sampling: 2 })).toEqual([]);
  });
});

describe('settings a report leaves out', () => {
  it('do not count (the Collector never writes debug\'s verbosity into its effective config), other values still do', () => {
    expect(contains({ verbosity: 'basic', sampling_initial: 2 }, { sampling_initial: 2, use_internal_logger: true })).toEqual([]);
    expect(contains({ verbosity: 'basic', sampling_initial: 5 }, { sampling_initial: 2 })).toEqual(['sampling_initial']);
    // a whole section the assigned config states is still required
    expect(contains({ protocols: { grpc: { endpoint: ':4317' } } }, { protocols: { http: {} } })).toEqual(['protocols.grpc']);
  });
});
