import { RolloutSupportService } from '@ampora/fleet';
import { median } from '../../../bench/rollout/figures';
import { benchYaml, seedPolicies, switchPolicies } from '../../../bench/rollout/policies';
import { FleetKit, startFleetKit } from './fleet-test-kit';

/**
 * What 20 Active policies and the two built-ins add to the push-time screen of a 10,000-agent rollout
 * step (issue 17 item 1, BENCHMARKS.md "Policies at a rollout step"): the same screen with none and
 * with them, alternating in one process, every agent running the configuration it is offered (so the
 * exporter-swap built-in compares two real configs) and every policy allowing. Printed, and bounded.
 */
describe("fleet's push gate with 20 policies", () => {
  let kit: FleetKit;

  beforeAll(async () => {
    kit = await startFleetKit();
  });
  afterAll(() => kit.close());

  // AMPORA_BENCH_AGENTS runs it at a reduced size on a loaded machine (BENCHMARKS.md says which size a figure is of)
  const count = Number(process.env.AMPORA_BENCH_AGENTS ?? 10_000);
  it(`screens ${count} agents against 20 policies + 2 built-ins, allowing all, at a cost printed beside the same screen with none`, async () => {
    const agents = await kit.insertAgents(Array.from({ length: count }, (_, i) => ({ 'host.name': `bench-${String(i).padStart(5, '0')}` })));
    const v = await kit.publishedConfig(benchYaml(1));
    const effective = { '': { contentType: 'text/yaml', body: Buffer.from(benchYaml(0)).toString('base64') } };
    await kit.ds.query(`UPDATE agents SET effective_config = $2, effective_config_hash = $3 WHERE id = ANY($1::uuid[])`, [agents, JSON.stringify(effective), 'e'.repeat(64)]);
    const pg = { query: (text: string, values?: unknown[]) => kit.ds.query(text, values) } as never;
    await seedPolicies(pg, kit.tenantId, 20);
    const fleet = kit.app.get(RolloutSupportService);
    const times: Record<'none' | 'policies', number[]> = { none: [], policies: [] };
    for (const side of ['none', 'policies', 'none', 'policies', 'none', 'policies', 'none'] as const) {
      await switchPolicies(pg, kit.tenantId, side === 'policies');
      const started = performance.now();
      const denied = await fleet.screenStep(kit.tenantId, '00000000-0000-4000-8000-000000000001', v.versionId, agents);
      times[side].push(performance.now() - started);
      expect(denied.size).toBe(0);
    }
    const none = median(times.none);
    const withPolicies = median(times.policies);
    // eslint-disable-next-line no-console
    console.log(`push gate, ${count} agents: no policies ${Math.round(none)} ms (${times.none.map(Math.round).join(', ')}); 20 policies + 2 built-ins ${Math.round(withPolicies)} ms (${times.policies.map(Math.round).join(', ')}); added ${Math.round(withPolicies - none)} ms`);
    const [{ n }] = await kit.ds.query(`SELECT count(*)::int AS n FROM policies WHERE tenant_id = $1 AND created_by = 'bench'`, [kit.tenantId]);
    expect(n).toBe(20);
    expect(withPolicies).toBeLessThan(30_000);
  }, 600_000);
});
