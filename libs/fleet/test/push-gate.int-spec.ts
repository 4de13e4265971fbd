import { RolloutSupportService } from '@ampora/fleet';
import { FleetKit, MINIMAL_YAML, startFleetKit } from './fleet-test-kit';

/**
 * The push-time checks of a 10,000-agent rollout step (decision 0275): one screen — two statements
 * to read the agents and their current configs, one check call, one statement to store the denials —
 * with a policy that denies 1 agent in 100. The time is printed (a measurement, loosely bounded).
 */
describe("fleet's push gate at scale", () => {
  let kit: FleetKit;

  beforeAll(async () => {
    kit = await startFleetKit();
  });
  afterAll(() => kit.close());

  it('screens a 10,000-agent step in one pass and stores each denial on its agent', async () => {
    const count = 10_000;
    const agents = await kit.insertAgents(Array.from({ length: count }, (_, i) => ({ zone: i % 100 === 0 ? 'blocked' : 'ok' })));
    const v = await kit.publishedConfig();
    // every agent reports the same effective config today: read and parsed once, not 10,000 times
    const effective = { '': { contentType: 'text/yaml', body: Buffer.from(MINIMAL_YAML).toString('base64') } };
    await kit.ds.query(`UPDATE agents SET effective_config = $2, effective_config_hash = $3 WHERE id = ANY($1::uuid[])`, [agents, JSON.stringify(effective), 'e'.repeat(64)]);
    // an Active policy, inserted as its approval would leave it (the approval flow is governance's own test)
    const [policy] = await kit.ds.query(
      `INSERT INTO policies (tenant_id, name, expression, status, created_by, created_at, updated_at, activated_at) VALUES ($1, 'zone-ok', 'agent.labels.zone != "blocked"', 'Active', 'test', now(), now(), now()) RETURNING id`,
      [kit.tenantId],
    );
    const fleet = kit.app.get(RolloutSupportService);
    const started = performance.now();
    const denied = await fleet.screenStep(kit.tenantId, '00000000-0000-4000-8000-000000000001', v.versionId, agents);
    const ms = Math.round(performance.now() - started);
    // eslint-disable-next-line no-console
    console.log(`push gate: ${count} agents screened, ${denied.size} denied, in ${ms} ms`);
    expect(denied.size).toBe(count / 100);
    expect(denied.get(agents[0]!)).toMatchObject({ check: 'policies', policyId: policy.id, policyName: 'zone-ok' });
    expect(denied.has(agents[1]!)).toBe(false);
    const [{ n }] = await kit.ds.query(`SELECT count(*)::int AS n FROM agents WHERE tenant_id = $1 AND push_denial->>'policyId' = $2 AND push_denial->>'path' = 'rollout-step'`, [kit.tenantId, policy.id]);
    expect(n).toBe(count / 100);
    expect(ms).toBeLessThan(20_000);

    // a later allowed push clears the denial
    await kit.ds.query(`UPDATE policies SET status = 'Disabled' WHERE id = $1`, [policy.id]);
    expect((await fleet.screenStep(kit.tenantId, '00000000-0000-4000-8000-000000000001', v.versionId, agents.slice(0, 200))).size).toBe(0);
    const [{ left }] = await kit.ds.query(`SELECT count(*)::int AS left FROM agents WHERE id = ANY($1::uuid[]) AND push_denial IS NOT NULL`, [agents.slice(0, 200)]);
    expect(left).toBe(0);
  });
});
