import { eventually } from '@ampora/testing';
import { act, allTargets, Api, createRollout, createStaticGroup, expectStatus, publishVersions, sleep, SimAgent, waitState } from './support/rollout-kit';
import { rolloutsEndToEnd } from './support/rollouts-e2e';

/**
 * Available components (issue 20 item 3, decision 0330), end to end on real PostgreSQL and Redis with
 * simulated WebSocket agents: the catalogue an agent reports (or the component lists of its
 * description) is stored; validating a version against a group names the component an agent lacks
 * before any push; a rollout step skips that agent with the reason and applies the others; a
 * one-agent assignment is refused with PUSH_COMPONENT_UNAVAILABLE.
 */
describe('available components', () => {
  const e2e = rolloutsEndToEnd();
  let api: Api;
  beforeAll(() => {
    api = e2e.api;
  });

  /** The agent reports a catalogue of these exporter types (receivers: otlp), hash first as opamp-go does. */
  async function reportExporters(sim: SimAgent, exporters: string[]): Promise<void> {
    const hash = Buffer.from(`cat-${exporters.join(',')}`);
    sim.agent.send({ available_components: { hash } });
    sim.agent.send({
      available_components: {
        hash,
        components: {
          receivers: { sub_component_map: { otlp: {} } },
          exporters: { sub_component_map: Object.fromEntries(exporters.map((e) => [e, { metadata: [{ key: 'code.namespace', value: { string_value: `example.com/${e}exporter v1.0.0` } }] }])) },
        },
      },
    });
    await eventually(async () => {
      const body = (await expectStatus(api, 'GET', `/api/agents/${sim.id}`, 200)).body;
      return body.availableComponents?.subComponents?.exporters?.length === exporters.length ? body : undefined;
    }, 10000);
  }

  it('the server asks for the catalogue when only its hash came', async () => {
    const [sim] = await e2e.agents(1, { groupId: (await createStaticGroup(api)).id, hostPrefix: 'ask' });
    sim!.agent.send({ available_components: { hash: Buffer.from('only-hash') } });
    const reply = await sim!.agent.next(5000);
    expect(Number(reply.flags ?? 0) & 2).toBe(2);
  });

  it('a missing component is a finding against the group before the push, and a skip with the reason at the push', async () => {
    const { v1, group, sims } = await e2e.fleet(3, 'ac');
    const [lacking, full, described] = sims as [SimAgent, SimAgent, SimAgent];
    await reportExporters(lacking, ['otlp']);
    await reportExporters(full, ['debug', 'otlp', 'kafka']);
    const [v2] = await publishVersions(api, [`receivers:\n  otlp: {}\nexporters:\n  kafka/eu: {}\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [kafka/eu]\n`]);

    // the stored catalogue, with the module the metadata names
    const shown = (await expectStatus(api, 'GET', `/api/agents/${full.id}`, 200)).body.availableComponents;
    expect(shown.byKind.exporters.find((c: { name: string }) => c.name === 'kafka')).toMatchObject({ module: 'example.com/kafkaexporter', version: 'v1.0.0' });

    // before the push: validation against the group names the agent lacking kafka (the third reported nothing)
    const validated = (await expectStatus(api, 'GET', `/api/configurations/${v2!.configurationId}/versions/${v2!.number}/findings?groupId=${group.id}`, 200)).body;
    expect(validated.groupId).toBe(group.id);
    expect(validated.findings).toEqual(expect.arrayContaining([
      expect.objectContaining({ severity: 'Error', code: 'COMPONENT_UNAVAILABLE', path: 'exporters.kafka/eu', message: expect.stringContaining(lacking.id) }),
      expect.objectContaining({ severity: 'Info', code: 'COMPONENTS_UNKNOWN' }),
    ]));
    expect(JSON.stringify(validated.findings)).not.toContain(full.id);
    const againstOne = (await expectStatus(api, 'GET', `/api/configurations/${v2!.configurationId}/versions/${v2!.number}/findings?agentId=${lacking.id}`, 200)).body.findings;
    expect(againstOne).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'COMPONENT_UNAVAILABLE', path: 'exporters.kafka/eu' })]));
    await expectStatus(api, 'GET', `/api/configurations/${v2!.configurationId}/versions/${v2!.number}/findings?groupId=00000000-0000-4000-8000-000000000000`, 404);

    // at the push: the lacking agent is Skipped with the reason; the others apply
    const mark = Date.now();
    const rollout = await createRollout(api, { configurationId: v2!.configurationId, version: v2!.number, groupId: group.id, strategy: { type: 'Canary', steps: [{ percent: 100, dwellSeconds: 0 }] } });
    await act(api, rollout.id, 'start');
    const done = await waitState(api, rollout.id, 'Completed', 30000);
    expect(done.counts).toMatchObject({ total: 3, applied: 2, skipped: 1, failed: 0 });
    const skipped = (await allTargets(api, rollout.id)).find((t) => t.agentId === lacking.id)!;
    expect(skipped).toMatchObject({ state: 'Skipped', reason: 'available-components: missing components: exporter kafka (exporters.kafka/eu)', deniedByPolicy: null });
    await sleep(300);
    expect(lacking.pushesSince(mark, v2!.configHash)).toEqual([]);
    expect(full.pushesSince(mark, v2!.configHash)).toHaveLength(1);
    expect(described.pushesSince(mark, v2!.configHash)).toHaveLength(1);
    expect(lacking.agent.appliedHash?.toString('hex')).toBe(v1.configHash);
    expect((await expectStatus(api, 'GET', `/api/agents/${lacking.id}`, 200)).body.pushDenial).toMatchObject({ check: 'available-components', reason: expect.stringContaining('exporter kafka'), path: expect.stringMatching(/^(rollout-step|group-assignment)$/) });

    // a one-agent assignment of it is refused and changes nothing
    const refused = (await expectStatus(api, 'POST', `/api/agents/${lacking.id}/assign`, 422, { configurationId: v2!.configurationId, version: v2!.number })).body;
    expect(refused).toMatchObject({ code: 'PUSH_COMPONENT_UNAVAILABLE', agentId: lacking.id, check: 'available-components', reason: expect.stringContaining('kafka') });
  });

  it('where the description is all an agent sends, its component lists are the catalogue', async () => {
    const { group, sims } = await e2e.fleet(1, 'acd');
    const [sim] = sims as [SimAgent];
    sim.agent.hello({ agent_description: { identifying_attributes: [], non_identifying_attributes: [{ key: 'otelcol.components.exporters', value: { string_value: 'debug,otlp' } }, { key: 'host.name', value: { string_value: 'acd-000' } }] } });
    const [v] = await publishVersions(api, [`receivers:\n  otlp: {}\nexporters:\n  kafka: {}\nservice:\n  pipelines:\n    logs:\n      receivers: [otlp]\n      exporters: [kafka]\n`]);
    const findings = await eventually(async () => {
      const f = (await expectStatus(api, 'GET', `/api/configurations/${v!.configurationId}/versions/${v!.number}/findings?groupId=${group.id}`, 200)).body.findings as Array<{ code: string }>;
      return f.some((x) => x.code === 'COMPONENT_UNAVAILABLE') ? f : undefined;
    }, 10000);
    expect(findings).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'COMPONENT_UNAVAILABLE', path: 'exporters.kafka' })]));
  });
});
