import { randomUUID } from 'node:crypto';
import { AGENT_AUTHENTICATOR, AgentAuthenticator } from '@ampora/opamp';
import { AgentForgetService, BootstrapTokenService } from '@ampora/fleet';
import { TestClock } from '@ampora/testing';
import { FleetKit, startFleetKit } from './fleet-test-kit';

/** The fleet's deadlines follow the injected Clock: a test moves time instead of waiting for it. */
describe('fleet deadlines on the Clock', () => {
  const clock = new TestClock(Date.parse('2026-03-01T00:00:00Z'));
  let kit: FleetKit;

  beforeAll(async () => {
    kit = await startFleetKit({ AMPORA_AGENT_RETENTION_DAYS: '1' }, { clock });
  });
  afterAll(async () => {
    await kit?.close();
  });

  it('a bootstrap token is refused once its time to live has passed on the clock, not before', async () => {
    const { token, plaintext } = await kit.as(() => kit.app.get(BootstrapTokenService).issue(kit.operator, { label: `ttl-${randomUUID().slice(0, 8)}`, ttlMinutes: 10 }));
    expect(token.expiresAt.toISOString()).toBe('2026-03-01T00:10:00.000Z');
    const authenticator = kit.app.get<AgentAuthenticator>(AGENT_AUTHENTICATOR);
    const connect = () => authenticator.authenticate({ transport: 'ws', headers: { authorization: `Bearer ${plaintext}` } });
    await clock.advance(10 * 60_000 - 1);
    expect(await connect()).toMatchObject({ ok: true });
    await clock.advance(1);
    expect(await connect()).toMatchObject({ ok: false, reason: 'the bootstrap token expired' });
  });

  it('the retention sweep forgets an agent once it has been disconnected longer than the retention on the clock', async () => {
    const [id] = await kit.insertAgents([{ env: 'retention' }]);
    await kit.ds.query(`UPDATE agents SET connected = false, disconnected_at = $2 WHERE id = $1`, [id, clock.now()]);
    const forget = kit.app.get(AgentForgetService);
    const present = async () => ((await kit.ds.query(`SELECT count(*)::int AS n FROM agents WHERE id = $1`, [id])) as Array<{ n: number }>)[0]!.n === 1;

    await clock.advance(24 * 3600_000);
    expect((await forget.forgetDeparted()).forgotten[kit.tenantId] ?? 0).toBe(0);
    expect(await present()).toBe(true);

    await clock.advance(1);
    expect((await forget.forgetDeparted()).forgotten[kit.tenantId]).toBe(1);
    expect(await present()).toBe(false);
  });
});
