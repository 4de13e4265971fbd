import { randomUUID } from 'node:crypto';
import { AgentRepository } from '../src/agents/agent.repository';
import { FleetKit, startFleetKit } from './fleet-test-kit';

/**
 * Decision 0425: the assignment reads of many reconnecting sessions share one statement (counted by
 * test/enrolment-statements.e2e-spec.ts); each answer
 * is the one a read of its own would give (the hash always, the configuration only when the session
 * does not know it already, nothing for an agent that is not there or not in that tenant), in the
 * order asked.
 */
describe('assignment reads in one statement', () => {
  let kit: FleetKit;
  beforeAll(async () => {
    kit = await startFleetKit();
  });
  afterAll(() => kit.close());

  it('answers each request as its own read would, in order', async () => {
    const [assigned, bare] = await kit.insertAgents([{}, {}]);
    const hash = 'a'.repeat(64);
    const config = { 'collector.yaml': { body: 'receivers: {}\n', contentType: 'text/yaml' } };
    await kit.ds.query(`UPDATE agents SET assigned_config_hash = $2, assigned_config = $3 WHERE id = $1`, [assigned, hash, JSON.stringify(config)]);
    const agents = kit.app.get(AgentRepository);
    const requests = [
      { tenantId: kit.tenantId, id: assigned!, knownHash: undefined },
      { tenantId: kit.tenantId, id: randomUUID(), knownHash: undefined },
      { tenantId: kit.tenantId, id: assigned!, knownHash: hash },
      { tenantId: kit.tenantId, id: bare!, knownHash: undefined },
      { tenantId: randomUUID(), id: assigned!, knownHash: undefined },
      { tenantId: kit.tenantId, id: assigned!, knownHash: 'b'.repeat(64) },
    ];
    const batch = await agents.assignmentsUnless(requests);
    const alone = [];
    for (const r of requests) alone.push(await agents.assignmentUnless(r.tenantId, r.id, r.knownHash));
    expect(batch).toEqual(alone);
    expect(batch).toEqual([
      { hash, config },
      undefined,
      { hash, config: null },
      { hash: null, config: null },
      undefined,
      { hash, config },
    ]);
  });
});
