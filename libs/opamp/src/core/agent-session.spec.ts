import type { AgentCredential } from '../ports';
import { AgentSession } from './agent-session';

const credential: AgentCredential = { kind: 'bootstrap', tenantId: 't', tokenId: 'b' } as AgentCredential;

describe('AgentSession keeps its uids in memory of their own', () => {
  // a uid decoded from a frame (or made by Buffer.from) is a view into a larger buffer: kept for the
  // life of the session, it would keep that buffer (a whole frame, an 8 KiB pool slab) alive with it
  const frame = Buffer.alloc(8192, 7);
  const uidInFrame = frame.subarray(100, 116);

  it('copies the uid it is created with', () => {
    const session = new AgentSession({ agentId: 'a', tenantId: 't', agentType: 'x', instanceUid: uidInFrame, uidChanged: false }, credential, 'ws', undefined);
    expect(session.instanceUid.equals(uidInFrame)).toBe(true);
    expect(session.instanceUid.buffer.byteLength).toBe(16);
    expect(session.instanceUid.buffer).not.toBe(frame.buffer);
    expect(session.uidText).toBe('07070707-0707-0707-0707-070707070707');
  });

  it('copies a uid set later, and the previous one', () => {
    const session = new AgentSession({ agentId: 'a', tenantId: 't', agentType: 'x', instanceUid: Buffer.alloc(16, 1), uidChanged: false }, credential, 'ws', undefined);
    const pooled = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    session.previousUid = uidInFrame;
    session.instanceUid = pooled;
    expect(session.instanceUid.equals(pooled)).toBe(true);
    expect(session.instanceUid.buffer.byteLength).toBe(16);
    expect(session.previousUid!.equals(uidInFrame)).toBe(true);
    expect(session.previousUid!.buffer.byteLength).toBe(16);
    session.previousUid = undefined;
    expect(session.previousUid).toBeUndefined();
  });
});
