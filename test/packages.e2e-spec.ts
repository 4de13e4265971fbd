import { createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentCapability, eventually, TestAgent } from '@ampora/testing';
import { Api, apiClient, createStaticGroup, expectStatus } from './support/rollout-kit';
import { startTestServer, TestServer } from './support/test-server';

const ACCEPTS_PACKAGES = 0x8;
const REPORTS_PACKAGE_STATUSES = 0x10;
const INSTALLED = 0;
const INSTALLING = 2;
const INSTALL_FAILED = 3;

/**
 * Packages (issue 20 item 4, decisions 0331–0332), end to end on real PostgreSQL and Redis with a
 * simulated WebSocket agent that accepts packages: upload (signed), list and versions; assignment;
 * PackagesAvailable on the agent's next frames with a short-lived signed download URL served by
 * Ampora; the agent downloads, checks the hash and the ed25519 signature, and reports its statuses:
 * a good package Installed, one with a bad signature refused and reported Failed with the error.
 */
describe('packages', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ampora-packages-'));
  const publisher = generateKeyPairSync('ed25519');
  const impostor = generateKeyPairSync('ed25519');
  let server: TestServer;
  let api: Api;
  const agents: TestAgent[] = [];
  beforeAll(async () => {
    server = await startTestServer({ env: { AMPORA_DATA_DIR: dataDir, AMPORA_PACKAGES_RECHECK_SECONDS: '1', AMPORA_PACKAGES_URL_TTL_SECONDS: '60' } });
    api = apiClient(server.url, server.adminToken);
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function upload(name: string, version: string, content: Buffer, signature: Buffer | undefined, expected = 201, type = 'TopLevel') {
    const req = server.as(server.adminToken).post(`/api/packages/${name}/versions/${version}?type=${type}`).set('content-type', 'application/octet-stream');
    if (signature) req.set('Ampora-Package-Signature', signature.toString('base64'));
    return req.send(content).expect(expected);
  }

  /** An agent that accepts packages, enrolled into a new group. */
  async function packageAgent(): Promise<{ agent: TestAgent; id: string; groupId: string }> {
    const group = await createStaticGroup(api);
    const token = (await expectStatus(api, 'POST', '/api/bootstrap-tokens', 201, { label: 'packages', groupId: group.id })).body.token as string;
    const agent = new TestAgent({ url: `${server.url.replace('http', 'ws')}/v1/opamp`, token, capabilities: AgentCapability.ReportsStatus | AgentCapability.ReportsHeartbeat | ACCEPTS_PACKAGES | REPORTS_PACKAGE_STATUSES });
    agents.push(agent);
    await agent.connect();
    agent.hello();
    const first = await agent.next(10000);
    expect(BigInt(first.capabilities ?? '0') & 0x8n).toBe(0x8n); // OffersPackages
    const uid = agent.uid.toString('hex');
    const id = await eventually(async () => {
      const items = (await expectStatus(api, 'GET', `/api/agents?groupId=${group.id}`, 200)).body.items as Array<{ id: string; instanceUid: string }>;
      return items.find((a) => a.instanceUid.replace(/-/g, '') === uid)?.id;
    }, 10000);
    return { agent, id, groupId: group.id };
  }

  /** Heartbeats until a reply carries PackagesAvailable. */
  async function nextOffer(agent: TestAgent): Promise<NonNullable<PackagesAvailable>> {
    return eventually(async () => {
      agent.heartbeat();
      const m = await agent.nextMatching(() => true, 3000).catch(() => undefined);
      return (m as { packages_available?: PackagesAvailable } | undefined)?.packages_available;
    }, 15000, 300);
  }

  /** What the opamp-go package syncer does: download, check the content hash, verify the signature with the publisher's key. */
  async function install(offered: OfferedPackage): Promise<{ ok: true } | { ok: false; error: string }> {
    const url = new URL(offered.file.download_url);
    const res = await fetch(`${server.url}${url.pathname}${url.search}`);
    if (res.status !== 200) return { ok: false, error: `download failed: ${res.status}` };
    const bytes = Buffer.from(await res.arrayBuffer());
    if (!createHash('sha256').update(bytes).digest().equals(offered.file.content_hash)) return { ok: false, error: 'content hash mismatch' };
    if (!verify(null, bytes, publisher.publicKey, offered.file.signature ?? Buffer.alloc(0))) return { ok: false, error: 'signature verification failed' };
    return { ok: true };
  }

  it('uploads signed versions, lists packages and versions, refuses an unsigned or duplicate upload', async () => {
    const content = Buffer.from('otelcol-contrib 0.158.0 binary');
    const created = (await upload('otelcol', '0.158.0', content, sign(null, content, publisher.privateKey))).body;
    expect(created).toMatchObject({ name: 'otelcol', version: '0.158.0', type: 'TopLevel', contentHash: createHash('sha256').update(content).digest('hex'), sizeBytes: content.length, signed: true, signatureVerified: false });
    expect((await upload('otelcol', '0.158.0', content, sign(null, content, publisher.privateKey), 409)).body.code).toBe('PACKAGE_VERSION_EXISTS');
    expect((await upload('otelcol', '0.159.0', content, undefined, 422)).body.code).toBe('PACKAGE_SIGNATURE_REQUIRED');
    expect((await upload('otelcol', '0.159.0', content, sign(null, content, publisher.privateKey), 409, 'Addon')).body.code).toBe('PACKAGE_TYPE_MISMATCH');
    expect((await upload('bad name!', '1', content, sign(null, content, publisher.privateKey), 400)).body.code).toBe('PACKAGE_INVALID');
    const list = (await expectStatus(api, 'GET', '/api/packages', 200)).body.items;
    expect(list).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'otelcol', type: 'TopLevel', versions: 1, latestVersion: '0.158.0' })]));
    expect((await expectStatus(api, 'GET', '/api/packages/otelcol/versions', 200)).body.items).toHaveLength(1);
    expect((await expectStatus(api, 'GET', '/api/packages/nope/versions', 404)).body.code).toBe('PACKAGE_NOT_FOUND');
    const audit = (await expectStatus(api, 'GET', `/api/audit/events?entityType=PackageVersion&entityId=${created.id}`, 200)).body.items;
    expect(audit).toEqual([expect.objectContaining({ action: 'Uploaded' })]);
  });

  it('offers an assigned version; the agent installs it and reports Installed; a bad signature is refused and reported Failed', async () => {
    const good = Buffer.from('otelcol 0.160.0 the real one');
    await upload('collector', '0.160.0', good, sign(null, good, publisher.privateKey));
    const forged = Buffer.from('otelcol 0.161.0 not from the publisher');
    await upload('collector', '0.161.0', forged, sign(null, forged, impostor.privateKey));
    const { agent, id, groupId } = await packageAgent();

    const assigned = (await expectStatus(api, 'POST', '/api/packages/collector/versions/0.160.0/assign', 200, { groupId })).body;
    expect(assigned.agents).toBe(1);
    const offer = await nextOffer(agent);
    const offered = offer.packages.collector!;
    expect(offered).toMatchObject({ version: '0.160.0' });
    expect(offered.type ?? 0).toBe(0); // TopLevel
    expect(offered.file.download_url).toMatch(/\/v1\/packages\/[0-9a-f]{64}\?expires=\d+&signature=/);
    expect(await install(offered)).toEqual({ ok: true });
    agent.send({ package_statuses: { server_provided_all_packages_hash: offer.all_packages_hash, packages: { collector: { name: 'collector', agent_has_version: '0.160.0', agent_has_hash: offered.hash, server_offered_version: '0.160.0', server_offered_hash: offered.hash, status: INSTALLED } } } });
    const installed = await eventually(async () => {
      const body = (await expectStatus(api, 'GET', `/api/agents/${id}/packages`, 200)).body;
      return body.statuses?.packages?.[0]?.state === 'Installed' ? body : undefined;
    }, 10000);
    expect(installed.assigned).toEqual([expect.objectContaining({ name: 'collector', version: '0.160.0', type: 'TopLevel' })]);
    expect(installed.statuses.packages[0]).toMatchObject({ name: 'collector', agentHasVersion: '0.160.0', error: null });

    // the same offer is not repeated on later frames
    agent.heartbeat();
    expect((await agent.next(3000)).packages_available).toBeUndefined();

    // the forged version: offered, downloaded, refused by the signature check, reported Failed with the error
    await expectStatus(api, 'POST', '/api/packages/collector/versions/0.161.0/assign', 200, { agentIds: [id] });
    const second = (await nextOffer(agent)).packages.collector!;
    expect(second.version).toBe('0.161.0');
    agent.send({ package_statuses: { packages: { collector: { name: 'collector', agent_has_version: '0.160.0', server_offered_version: '0.161.0', status: INSTALLING } } } });
    const result = await install(second);
    expect(result).toEqual({ ok: false, error: 'signature verification failed' });
    agent.send({ package_statuses: { packages: { collector: { name: 'collector', agent_has_version: '0.160.0', server_offered_version: '0.161.0', status: INSTALL_FAILED, error_message: (result as { error: string }).error } } } });
    const failed = await eventually(async () => {
      const s = (await expectStatus(api, 'GET', `/api/agents/${id}/packages`, 200)).body.statuses?.packages?.[0];
      return s?.state === 'Failed' ? s : undefined;
    }, 10000);
    expect(failed).toMatchObject({ agentHasVersion: '0.160.0', serverOfferedVersion: '0.161.0', error: 'signature verification failed' });
  });

  it('serves a download only with Ampora\'s signature on the URL, before it expires', async () => {
    const content = Buffer.from('addon bytes');
    const v = (await upload('addon', '1.0.0', content, sign(null, content, publisher.privateKey), 201, 'Addon')).body;
    const { agent, id } = await packageAgent();
    await expectStatus(api, 'POST', '/api/packages/addon/versions/1.0.0/assign', 200, { agentIds: [id] });
    const url = new URL((await nextOffer(agent)).packages.addon!.file.download_url);
    expect((await fetch(`${server.url}${url.pathname}${url.search}`)).status).toBe(200);
    const tampered = new URLSearchParams(url.search);
    tampered.set('expires', String(Number(tampered.get('expires')) + 3600));
    const forbidden = await fetch(`${server.url}${url.pathname}?${tampered}`);
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get('content-type')).toContain('application/problem+json');
    expect((await fetch(`${server.url}/v1/packages/${v.contentHash}`)).status).toBe(403);
  });
});

interface OfferedPackage {
  type?: number;
  version: string;
  hash: Buffer;
  file: { download_url: string; content_hash: Buffer; signature?: Buffer };
}
interface PackagesAvailable {
  packages: Record<string, OfferedPackage>;
  all_packages_hash: Buffer;
}
