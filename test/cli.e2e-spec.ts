import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '@ampora/testing';
import { act, createRollout, createStaticGroup, expectStatus, getRollout } from './support/rollout-kit';
import { rolloutsEndToEnd } from './support/rollouts-e2e';
import { amporaCli } from './support/ampora-cli';

/**
 * `ampora` as a CI job runs it (issue 22): a child process talking to the real server (PostgreSQL,
 * Redis, the worker's rollout ticks) with AMPORA_URL and AMPORA_TOKEN, against simulated agents.
 */
describe('the ampora command against a real server', () => {
  const e2e = rolloutsEndToEnd();
  let cli: ReturnType<typeof amporaCli>;
  let dir: string;
  beforeAll(() => {
    cli = amporaCli(e2e.server.url, e2e.server.adminToken);
    dir = mkdtempSync(join(tmpdir(), 'ampora-apply-'));
  });
  afterAll(() => {
    cli.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  const config = (name: string, exporter: string) =>
    `kind: Configuration\nname: ${name}\nyaml: |\n  receivers:\n    otlp: {}\n  exporters:\n${exporter
      .split('\n')
      .map((l) => `    ${l}`)
      .join('\n')}\n  service:\n    pipelines:\n      traces:\n        receivers: [otlp]\n        exporters: [${exporter.split(':')[0]}]\n`;
  const write = (sub: string, file: string, text: string) => {
    const d = join(dir, sub);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, file), text);
    return d;
  };

  it('applies a directory, then again (all unchanged); get -o json parses; diff after an edit shows the semantic change and writes nothing', async () => {
    const d = write('fleet', 'config.yaml', config('cli-edge', 'debug/a: {}'));
    write('fleet', 'rest.yaml', ['kind: Group', 'name: cli-static', 'description: edge collectors', '---', 'kind: Policy', 'name: cli-batched', 'expression: contains(config.exporterTypes, "debug")', '---', 'kind: LintRule', 'name: cli-no-logging', 'description: the logging exporter is gone', 'expression: not contains(config.exporterTypes, "logging")', 'severity: Warning', ''].join('\n'));

    const first = await cli.run(['apply', '-f', d, '--publish']);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout.trim().split('\n')).toEqual(['configuration/cli-edge created (version 1, publish)', 'policy/cli-batched created', 'lintrule/cli-no-logging created', 'group/cli-static created']);
    const second = await cli.run(['apply', '-f', d, '--publish']);
    expect(second.code).toBe(0);
    expect(second.stdout.trim().split('\n')).toEqual(['configuration/cli-edge unchanged', 'policy/cli-batched unchanged', 'lintrule/cli-no-logging unchanged', 'group/cli-static unchanged']);

    const listed = await cli.run(['get', 'configurations', '-o', 'json']);
    expect(listed.code).toBe(0);
    const parsed = JSON.parse(listed.stdout) as { items: Array<{ name: string; latestVersion: number; publishedVersion: number | null }> };
    expect(parsed.items.find((c) => c.name === 'cli-edge')).toMatchObject({ latestVersion: 1, publishedVersion: 1 });

    writeFileSync(join(d, 'config.yaml'), config('cli-edge', 'debug/b: {}'));
    const diff = await cli.run(['diff', '-f', d]);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain('~ configuration/cli-edge would change: version 2');
    expect(diff.stdout).toMatch(/\* .*debug\/b.*added/);
    expect(diff.stdout).toContain('    +      exporters: [debug/b]\n');
    expect(diff.stdout).toContain('= group/cli-static unchanged');
    expect(diff.stdout).toContain('= lintrule/cli-no-logging unchanged');
    const versions = await cli.run(['get', 'versions', 'cli-edge', '-o', 'json']);
    expect((JSON.parse(versions.stdout) as { items: unknown[] }).items).toHaveLength(1);
  }, 180_000);

  it('exits 3 when a policy denies the push of a group assignment, naming the agent and the policy', async () => {
    const d = write('denied', 'config.yaml', config('cli-denied', 'debug/ok: {}'));
    write('denied', 'group.yaml', 'kind: Group\nname: cli-denied\nassignment:\n  configuration: cli-denied\n  version: latest\n');
    expect((await cli.run(['apply', '-f', d, '--publish'])).code).toBe(0);
    const group = ((await expectStatus(e2e.api, 'GET', '/api/groups?limit=500', 200)).body.items as Array<{ id: string; name: string }>).find((g) => g.name === 'cli-denied')!;
    const [agent] = await e2e.agents(1, { groupId: group.id, hostPrefix: 'cli-denied' });

    // the new version exports over TLS without verification to a remote host: the built-in policy denies it
    writeFileSync(join(d, 'config.yaml'), config('cli-denied', 'otlp/remote:\n  endpoint: collector.example.com:4317\n  tls:\n    insecure: true'));
    const denied = await cli.run(['apply', '-f', d, '--publish']);
    expect(denied.code).toBe(3);
    expect(denied.stdout).toContain('configuration/cli-denied configured (version 2, publish)');
    expect(denied.stderr).toContain('group/cli-denied configured (assignment v2) — 1 agent(s) denied by policy, not pushed');
    expect(denied.stderr).toContain(`agent ${agent!.id} denied by`);

    const described = await cli.run(['describe', 'agent', agent!.id]);
    expect(described.code).toBe(0);
    expect(described.stdout).toContain(`ID:           ${agent!.id}`);
    expect(described.stdout).toMatch(/ {2}Denied: {5}by .+: .*(insecure|TLS)/i);
    expect(described.stdout).toMatch(/History:\n(.|\n)*APPLIED +v1/);
    const selected = await cli.run(['get', 'agents', '--field-selector', `id=${agent!.id},status=connected`, '-o', 'json']);
    expect((JSON.parse(selected.stdout) as { items: Array<{ id: string }> }).items.map((a) => a.id)).toEqual([agent!.id]);
  }, 180_000);

  it('--dry-run=server validates through the API and writes nothing (Error findings exit 3); login checks the token', async () => {
    const d = write('dry', 'config.yaml', config('cli-dry', 'debug/x: {}').replace('exporters: [debug/x]', 'exporters: [debug/missing]'));
    const dry = await cli.run(['apply', '-f', d, '--dry-run=server']);
    expect(dry.code).toBe(3);
    expect(dry.stderr).toContain('configuration/cli-dry created (version 1) (dry run: server) — 1 error finding(s)');
    expect(dry.stderr).toMatch(/Error [A-Z_]+ service\.pipelines\.traces\.exporters/);
    const names = ((await expectStatus(e2e.api, 'GET', '/api/configurations?limit=500', 200)).body.items as Array<{ name: string }>).map((c) => c.name);
    expect(names).not.toContain('cli-dry');

    const bad = await cli.run(['login', e2e.server.url, '--name', 'bad', '--token-env', 'NOPE']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('GET /api/agents: ');
    expect(bad.stderr).toContain('give a token');
    const ok = await cli.run(['login', e2e.server.url, '--name', 'ci', '--token-env', 'AMPORA_TOKEN']);
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    expect((await cli.run(['context', 'list'])).stdout).toContain(`* ci\t${e2e.server.url}\t\t$AMPORA_TOKEN`);
  }, 180_000);

  it('get agents --watch prints the listing, then each agent that changes (over /api/live)', async () => {
    const group = await createStaticGroup(e2e.api);
    const watch = cli.start(['get', 'agents', '--watch', '-o', 'json', '--field-selector', `groupId=${group.id}`]);
    try {
      await eventually(() => watch.stdout().includes('"items": []'), 60_000);
      const [agent] = await e2e.agents(1, { groupId: group.id, hostPrefix: 'cli-watch' });
      await eventually(() => watch.stdout().includes(`"id": "${agent!.id}"`), 30_000);
      expect(watch.stderr()).toBe('');
    } finally {
      watch.kill();
      await watch.exited;
    }
  }, 180_000);

  it('rollout status --watch follows a canary applied from a document to Completed and exits 0', async () => {
    const { v2, group } = await e2e.fleet(4, 'cli-canary');
    const d = write('canary', 'rollout.yaml', [
      'kind: Rollout',
      'name: cli-canary',
      `configuration: ${v2.configurationId}`,
      `version: ${v2.number}`,
      `group: ${group.name}`,
      'strategy: { type: Canary, steps: [{ percent: 50, dwellSeconds: 1 }, { percent: 100, dwellSeconds: 0 }] }',
      'start: true',
      '',
    ].join('\n'));
    const applied = await cli.run(['apply', '-f', d]);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/^rollout\/cli-canary created \(started\) id /);

    const watched = await cli.run(['rollout', 'status', 'cli-canary', '--watch', '--interval', '0.5', '--timeout', '60']);
    expect(watched.code).toBe(0);
    expect(watched.stdout).toMatch(/step {2}2 \[#{20}\] 2\/2 applied/);
    expect(watched.stdout.trim().split('\n').at(-1)).toBe('rollout/cli-canary Completed');
    expect((await cli.run(['apply', '-f', d])).stdout.trim()).toBe('rollout/cli-canary unchanged');
  }, 180_000);

  it('rollout status --watch exits 4 when a gate pauses the rollout, showing the gate value', async () => {
    const { v2, group, sims } = await e2e.fleet(5, 'cli-gate');
    for (const s of sims) s.decide = (hash) => (hash === v2.configHash ? 'fail' : 'apply');
    const created = await createRollout(e2e.api, {
      configurationId: v2.configurationId,
      version: v2.number,
      groupId: group.id,
      strategy: { type: 'Canary', steps: [{ percent: 100, dwellSeconds: 0 }] },
      gates: { applyFailedRatio: 0.2 },
    });
    const started = await cli.run(['rollout', 'start', created.id]);
    expect(started).toMatchObject({ code: 0 });
    expect(started.stdout).toContain(`rollout/${created.name} InProgress`);

    const watched = await cli.run(['rollout', 'status', created.name, '--watch', '--interval', '0.5', '--timeout', '60']);
    expect(watched.code).toBe(4);
    expect(watched.stdout).toMatch(/last gate breach: apply-failed-ratio \d\.\d\d \(\d\/\d\) > 0\.20 in step 1/);
    expect(watched.stdout.trim().split('\n').at(-1)).toBe(`rollout/${created.name} Paused by gate apply-failed-ratio`);
    expect((await getRollout(e2e.api, created.id)).state).toBe('Paused');
    await act(e2e.api, created.id, 'abort');
  }, 180_000);
});
