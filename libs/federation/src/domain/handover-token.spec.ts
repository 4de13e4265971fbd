import { createPrivateKey, sign, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTestPki, TestPki } from '@ampora/testing';
import { encodeToken, HandoverPayload, signedPart, verifyToken } from './handover-token';

describe('handover tokens', () => {
  let source: TestPki;
  let other: TestPki;
  let caKey: ReturnType<typeof createPrivateKey>;
  const now = Date.now();
  let payload: HandoverPayload;
  let callerDer: Buffer;

  beforeAll(() => {
    source = makeTestPki('Source CA');
    other = makeTestPki('Other CA');
    caKey = createPrivateKey(readFileSync(join(source.dir, 'ca.key')));
    const leaf = source.issue('agent-1');
    callerDer = new X509Certificate(source.issue('ampora-a').cert).raw;
    payload = {
      v: 1,
      jti: 'b5a0c9a2-1c1e-4a4f-9d0f-0d5d3a1f2e11',
      iat: now,
      exp: now + 3600_000,
      aud: 'ab'.repeat(32),
      sourceCaPem: source.caCert.toString(),
      agent: { id: 'a1', instanceUid: 'u1', displayName: 'agent-1', capabilities: '0', fingerprint: leaf.fingerprint, certificatePem: leaf.cert.toString(), issuerCaPem: source.caCert.toString(), groupName: 'edge', assignment: null },
      target: { peer: 'b', endpoint: 'wss://b:4321/v1/opamp', trustBundlePem: other.caCert.toString() },
    };
  });

  const signed = (p: HandoverPayload, key = caKey) => encodeToken(p, sign('sha256', signedPart(p), { key, dsaEncoding: 'ieee-p1363' }));
  const check = (token: string, over: Partial<{ now: number; callerCertificateDer: Buffer; ownThumbprint: string }> = {}) => verifyToken(token, { now, callerCertificateDer: callerDer, ownThumbprint: 'ab'.repeat(32), ...over });

  it('accepts a token signed by the CA that issued the caller\'s certificate, for this deployment, in date', () => {
    expect(check(signed(payload))).toEqual({ payload });
  });

  it('refuses a changed payload, another CA\'s signature, and a caller the CA did not certify', () => {
    const token = signed(payload);
    const [p, , s] = token.split('.');
    const changed = Buffer.from(JSON.stringify({ ...payload, aud: 'cd'.repeat(32) })).toString('base64url');
    expect(check(`${p}.${changed}.${s}`)).toMatchObject({ problem: 'signature' });
    const otherKey = createPrivateKey(readFileSync(join(other.dir, 'ca.key')));
    expect(check(signed(payload, otherKey))).toMatchObject({ problem: 'signature' });
    expect(check(signed(payload), { callerCertificateDer: new X509Certificate(other.issue('impostor').cert).raw })).toMatchObject({ problem: 'issuer' });
    expect(check('amp-ho.nope')).toMatchObject({ problem: 'malformed' });
  });

  it('refuses a token for another deployment, an expired one, and one living longer than an hour', () => {
    expect(check(signed(payload), { ownThumbprint: 'cd'.repeat(32) })).toMatchObject({ problem: 'audience' });
    expect(check(signed(payload), { now: now + 3600_001 })).toMatchObject({ problem: 'expired' });
    expect(check(signed({ ...payload, exp: now + 2 * 3600_000 }))).toMatchObject({ problem: 'expired' });
  });

  it('refuses a leaf that is not the one pinned, or not issued by the CA named', () => {
    const another = source.issue('agent-2');
    expect(check(signed({ ...payload, agent: { ...payload.agent, certificatePem: another.cert.toString() } }))).toMatchObject({ problem: 'leaf' });
    const foreign = other.issue('agent-3');
    expect(check(signed({ ...payload, agent: { ...payload.agent, certificatePem: foreign.cert.toString(), fingerprint: foreign.fingerprint } }))).toMatchObject({ problem: 'leaf', detail: expect.stringContaining('not issued') });
  });
});
