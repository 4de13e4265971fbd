import type { AgentCredential, AttachedAgent, DesiredConfig } from '../ports';
import { AgentSession } from './agent-session';
import { RemoteConfigOffers } from './remote-config-offers';

const config = (hash: string): DesiredConfig => ({ hash, files: { 'collector.yaml': { contentType: 'text/yaml', body: Buffer.from(`# ${hash}`) } } });

function session(): AgentSession {
  const agent = { agentId: 'a1', tenantId: 't1', agentType: 'otelcol', instanceUid: Buffer.alloc(16, 1) } as unknown as AttachedAgent;
  return new AgentSession(agent, { kind: 'token' } as unknown as AgentCredential, 'ws', { id: 'c1', transport: 'ws', send: () => true });
}

describe('remote config offers: a pushed config', () => {
  // accept reads nothing of its collaborators
  const offers = new RemoteConfigOffers({} as never, {} as never);

  it('is not sent twice when a forced push follows an offer of the same hash made since its change began (decision 0364)', () => {
    const s = session();
    // the change began at 1000; the session's attach read it and offered it at 1005
    s.offeredHash = 'h2';
    s.offeredAt = 1005;
    expect(offers.accept(s, config('h2'), true, 1000)).toBe('unchanged');
    expect(s.desired?.hash).toBe('h2');
  });

  it('is sent again when forced and the offer of that hash came before the change began (an operator re-assigning it)', () => {
    const s = session();
    s.offeredHash = 'h2';
    s.offeredAt = 900;
    s.reportedConfigHash = 'h2';
    expect(offers.accept(s, config('h2'), true, 1000)).toBe('send');
    expect(s.askFullState).toBe(true);
  });

  it('is sent when forced without a start time, or when the session offered another hash', () => {
    const a = session();
    a.offeredHash = 'h2';
    a.offeredAt = 1005;
    expect(offers.accept(a, config('h2'), true)).toBe('send');
    const b = session();
    b.offeredHash = 'h1';
    b.offeredAt = 1005;
    expect(offers.accept(b, config('h2'), true, 1000)).toBe('send');
  });

  it('is not sent unforced when the session offered that hash already', () => {
    const s = session();
    s.offeredHash = 'h2';
    s.offeredAt = 10;
    expect(offers.accept(s, config('h2'), false)).toBe('unchanged');
  });
});
