import type { AgentCredential, AttachedAgent, DesiredConfig } from '../ports';
import { AgentCap } from '../protocol/capabilities';
import type { ServerToAgent } from '../generated/opamp_pb';
import { AgentSession } from './agent-session';
import { OpampCore } from './opamp-core.service';
import { RemoteConfigOffers } from './remote-config-offers';
import { sharedDesiredConfig } from './shared-desired-config';

const files = (text: string): DesiredConfig['files'] => ({ 'collector.yaml': { contentType: 'text/yaml', body: Buffer.from(text) } });

/** The core with what refreshAssignment uses: the authenticator's assignment read (held until released), the offers, the clock. */
function setUp() {
  let answer!: (d: DesiredConfig) => void;
  const authenticator = { assignmentSince: () => new Promise<DesiredConfig>((resolve) => (answer = resolve)) };
  const stateSink = { remoteConfigSent: () => undefined };
  const ports = { required: (name: string) => (name === 'authenticator' ? authenticator : stateSink), optional: () => undefined };
  const offers = new RemoteConfigOffers(ports as never, { opamp: { heartbeatIntervalSeconds: 30 } } as never);
  const core = new OpampCore({} as never, ports as never, { nowMs: () => 1_000 } as never, {} as never, {} as never, offers, {} as never, {} as never, {} as never, {} as never, {} as never, {} as never, {} as never, {} as never);
  const sent: ServerToAgent[] = [];
  const h1 = sharedDesiredConfig('a1a1', () => files('v1'));
  const agent = { agentId: 'a1', tenantId: 't1', agentType: 'otelcol', instanceUid: Buffer.alloc(16, 1), desired: h1 } as unknown as AttachedAgent;
  const session = new AgentSession(agent, { kind: 'token' } as unknown as AgentCredential, 'ws', { id: 'c1', transport: 'ws', send: (m: ServerToAgent) => (sent.push(m), true) });
  session.capabilities = AgentCap.AcceptsRemoteConfig;
  session.reportedConfigHash = 'a1a1';
  return { core, session, sent, h1, release: (d: DesiredConfig) => answer(d) };
}

describe('OpampCore.refreshAssignment (decision 0426) with desired configs shared per hash (decision 0427)', () => {
  it('sends what the read found when no push reached the session meanwhile', async () => {
    const { core, session, sent, release } = setUp();
    const refreshed = core.refreshAssignment(session);
    release(sharedDesiredConfig('b2b2', () => files('v2')));
    await expect(refreshed).resolves.toBe('pushed');
    expect(sent.map((m) => Buffer.from(m.remoteConfig!.configHash).toString('hex'))).toEqual(['b2b2']);
  });

  it('lets a push that reached the session meanwhile win, even a push of the config it already had (same object)', async () => {
    const { core, session, sent, h1, release } = setUp();
    const refreshed = core.refreshAssignment(session);
    // a forced push of the same config reaches the session while the read is in flight: the same shared object
    expect(core.pushRemoteConfig(session, sharedDesiredConfig('a1a1', () => files('v1')), true)).toBe('delivered');
    expect(session.desired).toBe(h1);
    release(sharedDesiredConfig('b2b2', () => files('v2')));
    await expect(refreshed).resolves.toBe('unchanged');
    expect(sent.map((m) => Buffer.from(m.remoteConfig!.configHash).toString('hex'))).toEqual(['a1a1']);
  });
});
