import { completeWords, CommandNode } from './completion';
import { DocumentError, orderDocuments, parseDocuments } from './documents';
import { age, render, renderTable } from './output';
import { changedFields, planConfiguration, planFields, planLine, planRollout, sameData } from './plan';
import { progressBar, renderRollout, rolloutExitCode, RolloutView } from './rollout-view';
import { parseSelector, selectorFilter, SelectorError } from './selectors';

describe('selectors', () => {
  it('reads key=value, key!=value, key and !key, comma-separated', () => {
    expect(parseSelector('env=prod, tier != web,canary,!legacy,zone==eu')).toEqual([
      { key: 'env', op: '=', value: 'prod' },
      { key: 'tier', op: '!=', value: 'web' },
      { key: 'canary', op: 'exists' },
      { key: 'legacy', op: '!exists' },
      { key: 'zone', op: '=', value: 'eu' },
    ]);
    expect(parseSelector('')).toEqual([]);
    expect(() => parseSelector('a b=c')).toThrow(SelectorError);
    expect(() => parseSelector('env=prod,,x')).toThrow(SelectorError);
  });

  it('matches labels (and agent tags) and fields by dotted path', () => {
    const agent = { status: 'connected', labels: { env: 'prod', canary: true }, tags: { team: 'obs' }, assignment: { version: 3 } };
    expect(selectorFilter('env=prod,canary,!legacy')(agent)).toBe(true);
    expect(selectorFilter('team=obs')(agent)).toBe(true);
    expect(selectorFilter('env!=prod')(agent)).toBe(false);
    expect(selectorFilter('missing!=x')(agent)).toBe(true);
    expect(selectorFilter(undefined, 'status=connected,assignment.version=3')(agent)).toBe(true);
    expect(selectorFilter(undefined, 'assignment.version=4')(agent)).toBe(false);
    expect(selectorFilter(undefined, 'canary=true')(agent)).toBe(false);
  });
});

describe('output', () => {
  const cols = [
    { header: 'NAME', value: (i: { name: string }) => i.name },
    { header: 'ID', value: (i: { name: string; id: string }) => i.id, wide: true },
    { header: 'NOTE', value: () => 'multi\nline' },
  ];
  const items = [
    { name: 'a', id: '1' },
    { name: 'longer-name', id: '2' },
  ];
  it('pads columns, keeps wide-only columns for -o wide, flattens newlines', () => {
    expect(renderTable(items, cols, false, 0)).toBe('NAME          NOTE\na             multi line\nlonger-name   multi line\n');
    expect(renderTable(items, cols, true, 0).split('\n')[0]).toBe('NAME          ID   NOTE');
  });
  it('answers the API objects as { items } in JSON and YAML; an empty table says so', () => {
    expect(JSON.parse(render(items, cols, 'json', 0))).toEqual({ items });
    expect(render(items, cols, 'yaml', 0)).toBe('items:\n  - name: a\n    id: "1"\n  - name: longer-name\n    id: "2"\n');
    expect(render([], cols, 'table', 0)).toBe('No resources found.\n');
  });
  it('prints ages like kubectl', () => {
    const now = Date.parse('2026-01-10T00:00:00Z');
    expect(age('2026-01-09T23:59:30Z', now)).toBe('30s');
    expect(age('2026-01-09T23:00:00Z', now)).toBe('60m');
    expect(age('2026-01-09T00:00:00Z', now)).toBe('24h');
    expect(age('2026-01-01T00:00:00Z', now)).toBe('9d');
    expect(age(null, now)).toBe('');
  });
});

describe('documents', () => {
  it('reads a stream of documents, with the collector YAML as text or as a mapping', () => {
    const docs = parseDocuments('kind: Configuration\nname: edge\nyaml: |\n  receivers: {}\n---\n---\nkind: Configuration\nname: other\nyaml:\n  receivers: {}\n', 'f.yaml');
    expect(docs.map((d) => [d.kind, d.name, d.spec.yaml, d.source])).toEqual([
      ['Configuration', 'edge', 'receivers: {}\n', 'f.yaml#1'],
      ['Configuration', 'other', 'receivers: {}\n', 'f.yaml#3'],
    ]);
  });
  it.each([
    ['kind: Widget\nname: x', 'kind "Widget" is not one of'],
    ['kind: Policy\nexpression: "true"', 'Policy needs a name'],
    ['kind: Policy\nname: p\nexpresion: "true"', 'unknown field "expresion"'],
    ['kind: Policy\nname: p', 'Policy p needs expression'],
    ['kind: Rollout\nname: r\nconfiguration: c\ngroup: g\nversion: newest', 'version must be a version number or "latest"'],
    ['kind: LintRule\nname: l\nexpression: x\nseverity: Fatal', 'severity must be one of Error, Warning, Info'],
    ['kind: Group\nname: g\nassignment: { version: 2 }', 'assignment needs configuration'],
    ['apiVersion: v2\nkind: Group\nname: g', 'apiVersion "v2" is not ampora/v1'],
    ['kind: Group\nname: [', 'f.yaml#1:'],
  ])('refuses %j', (text, message) => {
    expect(() => parseDocuments(text, 'f.yaml')).toThrow(message);
  });
  it('orders what others refer to first and refuses the same name twice in a kind', () => {
    const docs = parseDocuments('kind: Rollout\nname: r\nconfiguration: c\nversion: 1\ngroup: g\n---\nkind: Group\nname: g\n---\nkind: Configuration\nname: c\nyaml: x', 'f');
    expect(orderDocuments(docs).map((d) => d.kind)).toEqual(['Configuration', 'Group', 'Rollout']);
    expect(() => orderDocuments([...docs, ...parseDocuments('kind: Group\nname: G', 'g')])).toThrow(new DocumentError('g#1: Group G is also defined in f#2'));
  });
});

describe('apply planning', () => {
  it('compares data, not formatting: key order and undefined do not matter', () => {
    expect(sameData({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1, d: undefined })).toBe(true);
    expect(sameData([1, 2], [2, 1])).toBe(false);
    expect(changedFields({ description: 'x', selector: undefined, priority: 2 }, { description: 'x', selector: 'a', priority: 1 })).toEqual(['priority']);
    expect(planFields({ expression: 'true' }, null)).toEqual({ action: 'create', changes: [] });
    expect(planFields({ expression: 'true' }, { expression: 'true', id: 'x' })).toEqual({ action: 'unchanged', changes: [] });
  });
  it('a configuration: same text unchanged, new text a new Draft version, --publish publishes it or a Draft latest', () => {
    const cur = { description: '', latestVersion: 2, latest: { yaml: 'a: 1\n', status: 'Published' } };
    expect(planConfiguration({ yaml: 'a: 1\n' }, cur, true)).toEqual({ action: 'unchanged', changes: [] });
    expect(planConfiguration({ yaml: 'a: 2\n' }, cur, false)).toEqual({ action: 'update', changes: ['version 3'] });
    expect(planConfiguration({ yaml: 'a: 2\n', description: 'd' }, cur, true)).toEqual({ action: 'update', changes: ['description', 'version 3', 'publish'] });
    expect(planConfiguration({ yaml: 'a: 1\n' }, { ...cur, latest: { yaml: 'a: 1\n', status: 'Draft' } }, true)).toEqual({ action: 'update', changes: ['publish version 2'] });
    expect(planConfiguration({ yaml: 'a: 1\n' }, { ...cur, latest: { yaml: 'a: 1\n', status: 'Draft' } }, false).action).toBe('unchanged');
    expect(planConfiguration({ yaml: 'a: 1\n' }, null, true)).toEqual({ action: 'create', changes: ['version 1', 'publish'] });
  });
  it('a rollout never changes: the same target is unchanged, another one a conflict', () => {
    const r = { configurationId: 'c', version: 2, groupId: 'g' };
    expect(planRollout(r, r)).toEqual({ action: 'unchanged', changes: [] });
    expect(planRollout({ ...r, version: 3 }, r).conflict).toContain('exists for another version');
  });
  it('prints kubectl-like lines', () => {
    expect(planLine('Configuration', 'edge', { action: 'update', changes: ['version 3', 'publish'] }, null)).toBe('configuration/edge configured (version 3, publish)');
    expect(planLine('Group', 'g', { action: 'create', changes: [] }, 'server')).toBe('group/g created (dry run: server)');
    expect(planLine('Group', 'g', { action: 'unchanged', changes: [] }, 'server')).toBe('group/g unchanged');
  });
});

describe('rollout status', () => {
  const counts = (applied: number, failed: number, total: number) => ({ pending: total - applied - failed, applying: 0, applied, failed, skipped: 0, disconnectedSincePush: 0, total });
  const view = (over: Partial<RolloutView>): RolloutView => ({
    id: 'r1',
    name: 'canary',
    state: 'InProgress',
    currentStep: 0,
    stepCount: 2,
    waitingFor: 'apply',
    dwellUntil: null,
    gates: { applyFailedRatio: 0.2, disconnectRatio: 0.2 },
    gate: null,
    counts: counts(1, 1, 10),
    steps: [{ index: 0, agents: 4, settledAt: null, counts: counts(1, 1, 4) }],
    ...over,
  });
  it('ends with the final state: Completed 0, gate pause 4, Failed 5, RolledBack 6; running and a manual pause go on', () => {
    const gate = { gate: 'apply-failed-ratio', observed: 0.5, threshold: 0.2, numerator: 2, denominator: 4, step: 0, at: '' };
    expect(rolloutExitCode(view({ state: 'Completed' }))).toBe(0);
    expect(rolloutExitCode(view({ state: 'Paused', gate }))).toBe(4);
    expect(rolloutExitCode(view({ state: 'Paused', gate, currentStep: 1 }))).toBeNull();
    expect(rolloutExitCode(view({ state: 'Paused' }))).toBeNull();
    expect(rolloutExitCode(view({ state: 'Failed' }))).toBe(5);
    expect(rolloutExitCode(view({ state: 'RolledBack' }))).toBe(6);
    expect(rolloutExitCode(view({}))).toBeNull();
  });
  it('draws a bar per step and the live gate values against their thresholds', () => {
    expect(progressBar(1, 4, 8)).toBe('[##------]');
    expect(progressBar(0, 0, 4)).toBe('[----]');
    expect(renderRollout(view({}), 0)).toBe(
      [
        'rollout canary (r1)  InProgress  step 1/2  waiting for apply',
        '  step  1 [##########----------] 1/4 applied, 1 failed, 0 skipped, 0 applying  running',
        '  step  2 [--------------------] not started',
        '  gate apply-failed 0.50 (1/2) trips above 0.20  BREACHED',
        '  gate disconnect   0.00 (0/2) trips above 0.20',
        '',
      ].join('\n'),
    );
  });
});

describe('completion', () => {
  const tree: CommandNode = {
    name: 'ampora',
    aliases: [],
    options: ['--context'],
    argumentValues: [],
    children: [
      { name: 'get', aliases: [], options: ['--output', '--watch'], argumentValues: ['agents', 'groups'], children: [] },
      { name: 'rollout', aliases: [], options: [], argumentValues: [], children: [{ name: 'status', aliases: [], options: ['--watch'], argumentValues: [], children: [] }] },
    ],
  };
  it('answers the subcommands, argument values and options where the words are', () => {
    expect(completeWords(tree, [])).toEqual(['get', 'rollout', '--context']);
    expect(completeWords(tree, ['get'])).toEqual(['agents', 'groups', '--output', '--watch']);
    expect(completeWords(tree, ['get', 'agents'])).toEqual(['--output', '--watch']);
    expect(completeWords(tree, ['--context', 'rollout'])).toEqual(['status']);
  });
});
