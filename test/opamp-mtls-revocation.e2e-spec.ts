import { randomUUID, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { uidToString } from '@ampora/opamp';
import { AgentCapability, eventually, metricValue, openssl, scrape, TestAgent } from '@ampora/testing';
import { createFingerprint, mtlsSuite } from './support/mtls-kit';

/**
 * Revocation with Ampora's own CA (the live session, OCSP over POST and GET, the CRL, bulk revocation)
 * and certificates signed through the API (the first mTLS connection makes the agent, races). OCSP
 * answers and CRLs are checked with the openssl CLI.
 */
describe('revocation and API-signed certificates over the mTLS listener', () => {
  const kit = mtlsSuite();
  const { files, logs, authFailed, overTls, agentByUid, enrol, connects, track } = kit;

  it('revokes at once: the live session closes, OCSP answers revoked, the next CRL lists the serial, the agent cannot reconnect', async () => {
    const { agent, reply, id } = await enrol();
    const offered = reply.connection_settings!.opamp!.certificate!;
    const leaf = files.write('revoked.pem', offered.cert!);
    const ca = files.write('revoked-ca.pem', offered.ca_cert!);
    const serial = new X509Certificate(offered.cert!).serialNumber.toUpperCase();
    const live = overTls({ cert: offered.cert!, key: offered.private_key! }, agent.uid);
    await connects(live);
    await eventually(async () => (await kit.server.as().get(`/api/agents/${id}`).expect(200)).body.connection.connected);

    const ocspUrl = `${kit.server.url}/pki/ocsp`;
    const good = await openssl(['ocsp', '-issuer', ca, '-cert', leaf, '-url', ocspUrl, '-CAfile', ca], files.dir);
    expect(good.stderr + good.stdout).toContain(`${leaf}: good`);
    expect(good.stderr).toContain('Response verify OK');
    expect(good.stderr).not.toMatch(/nonce/i);

    const revoked = await kit.server.as().post(`/api/agents/${id}/revoke-cert?reason=keyCompromise`).expect(200);
    expect(revoked.body.revoked).toHaveLength(1);
    expect(revoked.body.session).toBe('delivered');
    expect(await live.closed()).toBe(4001);
    await kit.server.as().post(`/api/agents/${id}/revoke-cert`).expect(409).expect('content-type', /application\/problem\+json/);

    // OCSP over POST (openssl) and GET (RFC 5019), both verified by openssl
    const answer = await openssl(['ocsp', '-issuer', ca, '-cert', leaf, '-url', ocspUrl, '-CAfile', ca], files.dir);
    expect(answer.stderr).toContain('Response verify OK');
    expect(answer.stdout).toContain(`${leaf}: revoked`);
    expect(answer.stdout).toContain('Reason: keyCompromise');
    await openssl(['ocsp', '-issuer', ca, '-cert', leaf, '-no_nonce', '-reqout', 'req.der'], files.dir);
    const encoded = encodeURIComponent(readFileSync(join(files.dir, 'req.der')).toString('base64'));
    const viaGet = await fetch(`${kit.server.url}/pki/ocsp/${encoded}`);
    expect(viaGet.headers.get('content-type')).toBe('application/ocsp-response');
    files.write('resp.der', Buffer.from(await viaGet.arrayBuffer()));
    const checked = await openssl(['ocsp', '-respin', 'resp.der', '-issuer', ca, '-cert', leaf, '-CAfile', ca], files.dir);
    expect(checked.stderr).toContain('Response verify OK');
    expect(checked.stdout).toContain(`${leaf}: revoked`);

    // the CRL published right after the revocation lists the serial, and openssl verifies it
    const crl = await eventually(async () => {
      const res = await fetch(`${kit.server.url}/pki/crl.der`);
      if (res.status !== 200) return undefined;
      const path = files.write('crl.der', Buffer.from(await res.arrayBuffer()));
      const out = await openssl(['crl', '-inform', 'DER', '-in', path, '-noout', '-text', '-CAfile', ca], files.dir);
      return out.stdout.includes(serial) ? { out, res } : undefined;
    }, 15000, 200);
    expect(crl.res.headers.get('cache-control')).toContain('max-age=60');
    expect(crl.out.stderr).toContain('verify OK');
    expect(crl.out.stdout).toMatch(/Next Update: /);
    const pem = await kit.server.http.get('/pki/crl.pem').expect(200);
    expect(pem.text).toContain('-----BEGIN X509 CRL-----');

    const before = await authFailed();
    const again = overTls({ cert: offered.cert!, key: offered.private_key! }, agent.uid);
    // a revoked credential is known but may not connect: 403, with Retry-After (decision 0120)
    await expect(again.connect()).rejects.toMatchObject({ status: 403, retryAfter: expect.any(Number) });
    expect(await authFailed()).toBe(before + 1);
    expect(metricValue(await scrape(kit.server.url), 'ampora_pki_certs_revoked_total', { kind: 'agent' })).toBeGreaterThanOrEqual(1);
  });

  it('revokes the certificates of several agents in one request: sessions closed, OCSP revoked, the rest reported, one audit event', async () => {
    const one = await enrol();
    const two = await enrol();
    const untouched = await enrol();
    const lives = [one, two].map(({ agent, reply }) => overTls({ cert: reply.connection_settings!.opamp!.certificate!.cert!, key: reply.connection_settings!.opamp!.certificate!.private_key! }, agent.uid));
    for (const l of lives) await connects(l);
    const bystander = overTls({ cert: untouched.reply.connection_settings!.opamp!.certificate!.cert!, key: untouched.reply.connection_settings!.opamp!.certificate!.private_key! }, untouched.agent.uid);
    await connects(bystander);
    await eventually(async () => {
      for (const { id } of [one, two]) if (!(await kit.server.as().get(`/api/agents/${id}`).expect(200)).body.connection.connected) return undefined;
      return true;
    });
    // and an agent that never had a certificate (it does not accept connection settings)
    const token = (await kit.server.as().post('/api/bootstrap-tokens').send({ label: 'no certificate' }).expect(201)).body.token as string;
    const plain = track(new TestAgent({ url: kit.wsUrl, token, capabilities: AgentCapability.ReportsStatus | AgentCapability.AcceptsRemoteConfig }));
    await connects(plain);
    const noCert = { id: await agentByUid(plain.uid) };
    const revokedBefore = metricValue(await scrape(kit.server.url), 'ampora_pki_certs_revoked_total', { kind: 'agent' });
    const auditBefore = (await kit.server.as().get('/api/audit/events?entityType=Agent&entityId=bulk&limit=500').expect(200)).body.items.length;

    const ids = [one.id, two.id, one.id, noCert.id];
    const res = await kit.server.as().post('/api/agents/bulk/revoke-cert').send({ agentIds: ids, reason: 'cessationOfOperation' }).expect(200);
    expect(res.body.certificates).toBe(2);
    expect(res.body.agents.map((a: { agentId: string }) => a.agentId).sort()).toEqual([one.id, two.id].sort());
    for (const a of res.body.agents) expect(a).toMatchObject({ session: 'delivered', revoked: [{ serialNumber: expect.any(String), revokedAt: expect.any(String) }] });
    expect(res.body.skipped).toEqual([{ agentId: noCert.id, reason: 'no_certificate' }]);
    expect(plain.closeCode).toBeUndefined();
    for (const l of lives) expect(await l.closed()).toBe(4001);
    expect(bystander.closeCode).toBeUndefined();
    expect(metricValue(await scrape(kit.server.url), 'ampora_pki_certs_revoked_total', { kind: 'agent' })).toBe(revokedBefore + 2);
    const audit = (await kit.server.as().get('/api/audit/events?entityType=Agent&entityId=bulk&limit=500').expect(200)).body.items;
    expect(audit).toHaveLength(auditBefore + 1);

    // OCSP answers revoked with the reason for both
    const ocspUrl = `${kit.server.url}/pki/ocsp`;
    for (const [i, { reply }] of [one, two].entries()) {
      const leaf = files.write(`bulk-${i}.pem`, reply.connection_settings!.opamp!.certificate!.cert!);
      const ca = files.write(`bulk-ca-${i}.pem`, reply.connection_settings!.opamp!.certificate!.ca_cert!);
      const answer = await openssl(['ocsp', '-issuer', ca, '-cert', leaf, '-url', ocspUrl, '-CAfile', ca], files.dir);
      expect(answer.stdout).toContain(`${leaf}: revoked`);
      expect(answer.stdout).toContain('Reason: cessationOfOperation');
    }
    // again: nothing left to revoke, reported rather than refused
    const again = await kit.server.as().post('/api/agents/bulk/revoke-cert').send({ agentIds: [one.id] }).expect(200);
    expect(again.body).toEqual({ certificates: 0, agents: [], skipped: [{ agentId: one.id, reason: 'already_revoked' }] });
    // more than 1,000 agents, or none, is a validation problem
    const tooMany = await kit.server.as().post('/api/agents/bulk/revoke-cert').send({ agentIds: Array.from({ length: 1001 }, () => randomUUID()) }).expect(400);
    expect(tooMany.body.code).toBe('VALIDATION_FAILED');
    await kit.server.as().post('/api/agents/bulk/revoke-cert').send({ agentIds: [] }).expect(400);
    await bystander.close();
  });

  it('answers unknown for a serial it never issued and refuses garbage as malformedRequest', async () => {
    const ca = files.write('unknown-ca.pem', (await kit.server.http.get('/pki/trust-bundle.pem').expect(200)).text);
    const unknown = await openssl(['ocsp', '-issuer', ca, '-serial', '0x0123456789', '-url', `${kit.server.url}/pki/ocsp`, '-CAfile', ca], files.dir);
    expect(unknown.stdout).toContain('0x0123456789: unknown');
    const garbage = await fetch(`${kit.server.url}/pki/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: 'not der' });
    expect(garbage.status).toBe(200);
    // OCSPResponse { responseStatus malformedRequest(1) }: SEQUENCE { ENUMERATED 1 }
    expect(Buffer.from(await garbage.arrayBuffer()).toString('hex')).toBe('30030a0101');
  });

  it('signs a CSR through the API; the certificate becomes an agent on its first mTLS connection and stays that agent', async () => {
    await openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'api.key', '-out', 'api.csr', '-subj', '/CN=edge-42'], files.dir);
    const res = await kit.server.as().post('/api/pki/agent-certificates').send({ csr: readFileSync(join(files.dir, 'api.csr'), 'utf8') }).expect(201);
    expect(Object.keys(res.body)).toEqual(expect.arrayContaining(['id', 'certificate', 'caCertificate', 'fingerprint', 'notAfter']));
    expect(res.body.fingerprint).toBe(createFingerprint(res.body.certificate));
    const leaf = files.write('api.pem', res.body.certificate);
    expect((await openssl(['verify', '-CAfile', files.write('api-ca.pem', res.body.caCertificate), leaf], files.dir)).stdout).toContain(': OK');

    const first = overTls({ cert: res.body.certificate, key: readFileSync(join(files.dir, 'api.key')) });
    await connects(first);
    const id = await agentByUid(first.uid);
    const detail = (await kit.server.as().get(`/api/agents/${id}`).expect(200)).body;
    expect(detail.identity).toMatchObject({ kind: 'certificate', certificateFingerprint: res.body.fingerprint });
    await first.close();

    const second = overTls({ cert: res.body.certificate, key: readFileSync(join(files.dir, 'api.key')) });
    await connects(second);
    await eventually(async () => (await kit.server.as().get(`/api/agents/${id}`).expect(200)).body.instanceUid === uidToString(second.uid));
    const all = (await kit.server.as().get('/api/agents?limit=500').expect(200)).body.items as Array<{ identity?: unknown; id: string }>;
    expect(all.filter((a) => a.id === id)).toHaveLength(1);
    await second.close();

    // an API-signed certificate revoked before anyone used it is refused
    const unused = await kit.server.as().post('/api/pki/agent-certificates').send({ csr: readFileSync(join(files.dir, 'api.csr'), 'utf8') }).expect(201);
    const revokedOne = await kit.server.as().post(`/api/pki/certificates/${unused.body.id}/revoke?reason=keyCompromise`).expect(200);
    expect(revokedOne.body).toMatchObject({ status: 'revoked', revocationReason: 'keyCompromise', agentId: null });
    expect((await kit.server.as().post(`/api/pki/certificates/${unused.body.id}/revoke`).expect(409)).body.code).toBe('CERTIFICATE_ALREADY_REVOKED');
    await expect(overTls({ cert: unused.body.certificate, key: readFileSync(join(files.dir, 'api.key')) }).connect()).rejects.toMatchObject({ status: 403 });
    expect((await kit.server.as().get(`/api/pki/certificates/${unused.body.id}`).expect(200)).body.status).toBe('revoked');

    const bad = await kit.server.as().post('/api/pki/agent-certificates').send({ csr: 'hello' }).expect(422);
    expect(bad.body.code).toBe('INVALID_CSR');
    await kit.server.as().post('/api/pki/agent-certificates').send({}).expect(400);
  });

  it('makes one agent of an API-signed certificate even when two first connections race', async () => {
    await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'race.key', '-out', 'race.csr', '-subj', '/CN=race'], files.dir);
    const res = await kit.server.as().post('/api/pki/agent-certificates').send({ csr: readFileSync(join(files.dir, 'race.csr'), 'utf8') }).expect(201);
    const key = readFileSync(join(files.dir, 'race.key'));
    const racers = [overTls({ cert: res.body.certificate, key }), overTls({ cert: res.body.certificate, key })];
    await Promise.all(racers.map((r) => r.connect()));
    for (const r of racers) r.hello();
    // both become the same agent: each racer is answered, or (the older one, when the newer attached
    // before its answer left) closed as superseded by the newer connection
    const outcomes = await Promise.all(
      racers.map((r) => Promise.race([r.next().then((m) => ({ reply: m })), r.closed().then((code) => ({ closed: code }))])),
    );
    const replies = outcomes.flatMap((o) => ('reply' in o ? [o.reply] : []));
    expect(replies.length).toBeGreaterThanOrEqual(1);
    expect(replies.map((r) => r.error_response)).toEqual(replies.map(() => undefined));
    expect(outcomes.filter((o) => 'closed' in o)).toEqual(outcomes.filter((o) => 'closed' in o).map(() => ({ closed: 4000 })));
    const enrolled = (await kit.server.as().get('/api/audit/events?entityType=Agent&action=Enrolled&limit=500').expect(200)).body.items as Array<{ additional: { fingerprint?: string } }>;
    expect(enrolled.filter((e) => e.additional.fingerprint === res.body.fingerprint)).toHaveLength(1);
    const certificate = (await kit.server.as().get(`/api/pki/certificates/${res.body.id}`).expect(200)).body;
    expect(certificate.agentId).toEqual(expect.any(String));
    for (const r of racers) await r.close();
  });

  it('logged no errors: every mutating route wrote exactly one audit event', () => {
    expect(logs.records.filter((r) => r.level === 'Error' || r.level === 'Critical').map((r) => r.message)).toEqual([]);
  });
});
