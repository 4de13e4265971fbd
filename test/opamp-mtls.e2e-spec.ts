import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { TransactionRunner } from '@ampora/platform';
import { uidToString } from '@ampora/opamp';
import { CertificateIssuer, parseCsr, RenewalSweeper } from '@ampora/pki';
import { AgentCapability, eventually, openssl, TestAgent } from '@ampora/testing';
import { CAPS, createFingerprint, foreign, MTLS_URL, mtlsSuite, openSealed } from './support/mtls-kit';

/**
 * Agent identities end to end with Ampora's own CA: certificates offered over OpAMP (server-made key
 * or the agent's CSR), mTLS reconnects found by fingerprint, refusals, renewal and the CA key at rest.
 * Revocation and API-signed certificates: opamp-mtls-revocation.e2e-spec.ts. Certificates are checked
 * with the openssl CLI.
 */
describe('agent identities with Ampora\'s CA over the mTLS listener', () => {
  const kit = mtlsSuite();
  const { files, logs, authFailed, overTls, trustBundle, enrol, connects, track } = kit;

  it('offers a certificate at enrolment; the agent reconnects over mTLS and is the same agent, found by fingerprint', async () => {
    const { agent, reply, id } = await enrol();
    const offered = reply.connection_settings?.opamp?.certificate;
    expect(reply.connection_settings?.hash?.length).toBe(32);
    expect(offered?.cert && offered.private_key && offered.ca_cert).toBeTruthy();
    // the agent is told where to present it (AMPORA_OPAMP_MTLS_URL)
    expect(reply.connection_settings?.opamp?.destination_endpoint).toBe(MTLS_URL);
    const leaf = files.write('enrolled.pem', offered!.cert!);
    const bundle = await trustBundle();

    // openssl: chains to the trust bundle, client auth, CRL and OCSP URLs, agent and tenant bound
    expect((await openssl(['verify', '-CAfile', bundle, '-purpose', 'sslclient', leaf], files.dir)).stdout).toContain(': OK');
    const text = (await openssl(['x509', '-in', leaf, '-noout', '-text'], files.dir)).stdout;
    expect(text).toContain('TLS Web Client Authentication');
    expect(text).toContain(kit.server.config.pki.crlUrl);
    expect(text).toContain(`OCSP - URI:${kit.server.config.pki.ocspUrl}`);
    expect(text).toContain(`URI:urn:ampora:agent:${id}`);
    expect(text).toMatch(/Not After : .*20\d\d/);
    const days = (Date.parse(new X509Certificate(offered!.cert!).validTo) - Date.now()) / 86_400_000;
    expect(Math.round(days)).toBe(365);

    const withCert = overTls({ cert: offered!.cert!, key: offered!.private_key! }, agent.uid);
    await connects(withCert);
    const detail = await eventually(async () => {
      const d = (await kit.server.as().get(`/api/agents/${id}`).expect(200)).body;
      return d.connection.connected && d.identity.kind === 'certificate' ? d : undefined;
    });
    expect(detail.identity.certificateFingerprint).toBe(createFingerprint(offered!.cert!));
    expect(detail.instanceUid).toBe(uidToString(agent.uid));
    expect((await kit.server.as().get('/api/agents').expect(200)).body.items.filter((a: { id: string }) => a.id === id)).toHaveLength(1);
    await withCert.close();
  });

  it('signs the agent\'s own CSR at enrolment (no private key in the offer) and accepts it over mTLS', async () => {
    await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'csr-agent.key', '-out', 'csr-agent.csr', '-subj', '/CN=my-collector'], files.dir);
    const csr = readFileSync(join(files.dir, 'csr-agent.csr'));
    const { agent, reply, id } = await enrol({ connection_settings_request: { opamp: { certificate_request: { csr } } } });
    const offered = reply.connection_settings?.opamp?.certificate;
    expect(offered?.cert).toBeTruthy();
    expect(offered?.private_key?.length ?? 0).toBe(0);
    const leaf = files.write('csr-agent.pem', offered!.cert!);
    expect((await openssl(['verify', '-CAfile', await trustBundle(), leaf], files.dir)).stdout).toContain(': OK');
    // the certificate carries the agent's public key
    const keyOfCert = (await openssl(['x509', '-in', leaf, '-noout', '-pubkey'], files.dir)).stdout;
    const keyOfCsr = (await openssl(['req', '-in', 'csr-agent.csr', '-noout', '-pubkey'], files.dir)).stdout;
    expect(keyOfCert).toBe(keyOfCsr);

    const withCert = overTls({ cert: offered!.cert!, key: readFileSync(join(files.dir, 'csr-agent.key')) }, agent.uid);
    await connects(withCert);
    await eventually(async () => (await kit.server.as().get(`/api/agents/${id}`).expect(200)).body.connection.connected);
    await withCert.close();
  });

  it('refuses a CSR that is not one with a BadRequest error response', async () => {
    const { reply } = await enrol({ connection_settings_request: { opamp: { certificate_request: { csr: Buffer.from('-----BEGIN CERTIFICATE REQUEST-----\nnope\n-----END CERTIFICATE REQUEST-----\n') } } } });
    expect(reply.error_response?.error_message).toMatch(/certificate request refused/);
    expect(reply.connection_settings).toBeUndefined();
  });

  it('refuses another CA\'s certificate, an expired one and a token-only agent that holds a certificate, counting auth_failed', async () => {
    const { agent, reply, id, token } = await enrol();
    const tenantId = (await kit.server.as().get(`/api/agents/${id}`).expect(200)).body.tenantId as string;
    const before = await authFailed();

    const intruder = foreign.issue('intruder');
    const stranger = overTls(intruder);
    await expect(stranger.connect()).rejects.toMatchObject({ status: 401 });

    // a certificate of Ampora's CA whose validity ended
    await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'old.key', '-out', 'old.csr', '-subj', '/CN=old'], files.dir);
    const csr = await parseCsr(readFileSync(join(files.dir, 'old.csr'), 'utf8'));
    const expired = await kit.server.app.get(TransactionRunner).run(({ manager }) =>
      kit.server.app.get(CertificateIssuer).issue(manager, {
        tenantId,
        agentId: id,
        publicKey: csr.publicKey,
        keySource: 'csr',
        reason: 'api',
        validity: { notBefore: new Date(Date.now() - 3 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) },
      }),
    );
    const old = overTls({ cert: expired.certificatePem, key: readFileSync(join(files.dir, 'old.key')) }, agent.uid);
    await expect(old.connect()).rejects.toMatchObject({ status: 401 });

    // a certificate the agent never connected with does not bind it to mTLS (decision 0121): its token still admits it
    const offered = reply.connection_settings!.opamp!.certificate!;
    const NO_SETTINGS = CAPS & ~AgentCapability.AcceptsOpAMPConnectionSettings;
    const beforeUse = track(new TestAgent({ url: kit.wsUrl, token, instanceUid: agent.uid, capabilities: NO_SETTINGS }));
    await connects(beforeUse);
    await beforeUse.close();
    // once it connected with it, its bootstrap token alone is refused to an agent that cannot take a new certificate
    const withCert = overTls({ cert: offered.cert!, key: offered.private_key! }, agent.uid);
    await connects(withCert);
    await withCert.close();
    const tokenOnly = track(new TestAgent({ url: kit.wsUrl, token, instanceUid: agent.uid, capabilities: NO_SETTINGS }));
    await tokenOnly.connect();
    tokenOnly.hello();
    expect(await tokenOnly.closed()).toBe(1008);

    expect(await authFailed()).toBe(before + 3);
  });

  it('renews a certificate close to its end on the next connection, without a new bootstrap', async () => {
    const { agent, id } = await enrol();
    const tenantId = (await kit.server.as().get(`/api/agents/${id}`).expect(200)).body.tenantId as string;
    await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'soon.key', '-out', 'soon.csr', '-subj', '/CN=soon'], files.dir);
    const csr = await parseCsr(readFileSync(join(files.dir, 'soon.csr'), 'utf8'));
    const ending = await kit.server.app.get(TransactionRunner).run(({ manager }) =>
      kit.server.app.get(CertificateIssuer).issue(manager, { tenantId, agentId: id, publicKey: csr.publicKey, keySource: 'csr', reason: 'api', validity: { notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 5 * 86_400_000) } }),
    );
    const old = overTls({ cert: ending.certificatePem, key: readFileSync(join(files.dir, 'soon.key')) }, agent.uid);
    await old.connect();
    old.hello();
    const reply = await old.next();
    const renewed = reply.connection_settings?.opamp?.certificate;
    expect(renewed?.cert && renewed.private_key).toBeTruthy();
    expect(new X509Certificate(renewed!.cert!).serialNumber).not.toBe(new X509Certificate(ending.certificatePem).serialNumber);
    await old.close();

    const fresh = overTls({ cert: renewed!.cert!, key: renewed!.private_key! }, agent.uid);
    await connects(fresh);
    const certs = (await kit.server.as().get(`/api/pki/certificates?agentId=${id}`).expect(200)).body.items as Array<{ reason: string; serialNumber: string; replacedById: string | null; id: string }>;
    const renewal = certs.find((c) => c.reason === 'renewal')!;
    expect(renewal).toBeDefined();
    expect(certs.find((c) => c.serialNumber === ending.row.serialNumber)?.replacedById).toBe(renewal.id);
    const audit = (await kit.server.as().get(`/api/audit/events?entityType=Certificate&action=Renewed`).expect(200)).body.items;
    expect(audit.some((e: { entityId: string }) => e.entityId === renewal.id)).toBe(true);
    await fresh.close();
  });

  it('pushes a renewed certificate to an agent that stays connected, once', async () => {
    const { agent, reply, id } = await enrol();
    const offered = reply.connection_settings!.opamp!.certificate!;
    const live = overTls({ cert: offered.cert!, key: offered.private_key! }, agent.uid);
    await connects(live);
    await eventually(async () => (await kit.server.as().get(`/api/agents/${id}`).expect(200)).body.connection.connected);

    // 340 days on, the certificate is inside the 30-day threshold
    const later = new Date(Date.now() + 340 * 86_400_000);
    expect(await kit.server.app.get(RenewalSweeper).sweep(later)).toBeGreaterThanOrEqual(1);
    const pushed = await live.nextMatching((m) => Boolean(m.connection_settings?.opamp?.certificate));
    expect(pushed.connection_settings!.hash!.length).toBe(32);
    expect(pushed.connection_settings!.opamp!.heartbeat_interval_seconds).toBe('30');
    const renewed = new X509Certificate(pushed.connection_settings!.opamp!.certificate!.cert!);
    expect(renewed.serialNumber).not.toBe(new X509Certificate(offered.cert!).serialNumber);
    expect(renewed.checkIssued(new X509Certificate(offered.ca_cert!))).toBe(true);
    // the renewal is pending (the agent has not reconnected with it): the next sweep does not issue another
    expect(await kit.server.app.get(RenewalSweeper).sweep(later)).toBe(0);
    await live.close();
  });

  it('never stores or logs the CA private key in clear, nor an agent\'s server-made key', async () => {
    const { reply } = await enrol();
    const agentKey = reply.connection_settings!.opamp!.certificate!.private_key!.toString();
    const agentKeyBody = agentKey.replace(/-----[^-]+-----|\s/g, '');

    const db = new Client({ connectionString: kit.server.db.url });
    await db.connect();
    try {
      const { rows } = await db.query('SELECT * FROM pki_signing_keys');
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) {
        const sealed: Buffer = row.wrapped_private_key;
        // opened here with the master key and the row's id as authenticated data (AES-256-GCM)
        const pkcs8 = openSealed(sealed, Buffer.from(kit.server.env.AMPORA_MASTER_KEY!, 'base64'), `pki_signing_keys:${row.id}`);
        const spki = createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })).export({ type: 'spki', format: 'der' });
        expect(spki.equals(new X509Certificate(row.certificate).publicKey.export({ type: 'spki', format: 'der' }))).toBe(true);
        const everyColumn = JSON.stringify(Object.values(row).map((v) => (Buffer.isBuffer(v) ? v.toString('latin1') : v)));
        expect(everyColumn).not.toContain('PRIVATE KEY');
        expect(sealed.includes(pkcs8)).toBe(false);
        // the private scalar (or exponent) itself is in no column
        const secret = Buffer.from(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' }).d!, 'base64url');
        for (const v of Object.values(row)) if (Buffer.isBuffer(v)) expect(v.includes(secret)).toBe(false);
        const text = logs.lines.join('\n');
        expect(text).not.toContain(pkcs8.toString('base64').slice(0, 40));
        expect(text).not.toContain(pkcs8.toString('hex').slice(0, 40));
      }
      const certRows = await db.query('SELECT certificate FROM pki_certificates');
      for (const r of certRows.rows) expect((r.certificate as Buffer).toString('latin1')).not.toContain('PRIVATE KEY');
    } finally {
      await db.end();
    }
    const text = logs.lines.join('\n');
    expect(text).toContain('Generated Ampora\'s CA key');
    expect(text).not.toMatch(/PRIVATE KEY/);
    expect(text).not.toContain(agentKeyBody.slice(0, 40));
    const audit = JSON.stringify((await kit.server.as().get('/api/audit/events?limit=500').expect(200)).body);
    expect(audit).not.toContain(agentKeyBody.slice(0, 40));
    expect(audit).not.toMatch(/PRIVATE KEY/);
  });

  it('logged no errors: every mutating route wrote exactly one audit event', () => {
    expect(logs.records.filter((r) => r.level === 'Error' || r.level === 'Critical').map((r) => r.message)).toEqual([]);
  });
});
