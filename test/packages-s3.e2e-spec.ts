import { createHash, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { AgentCapability, captureLogs, eventually, LogCapture, TestAgent } from '@ampora/testing';
import { Api, apiClient, createStaticGroup, expectStatus } from './support/rollout-kit';
import { startTestServer, TestServer } from './support/test-server';

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
// s3rver: a real S3-compatible server in Node (no type declarations of its own)
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => S3rverInstance;

const BUCKET = 'ampora-test-packages';
const ACCEPTS_PACKAGES = 0x8;
const REPORTS_PACKAGE_STATUSES = 0x10;

/**
 * The package store in an S3-compatible bucket (issue 20 item 4, decision 0377), end to end against
 * s3rver on a loopback port with real PostgreSQL and Redis: an upload lands in the bucket under its
 * content hash (once per content, nothing in the data directory), is listed, and an agent downloads
 * it through Ampora's signed URL. The credentials never reach a log line.
 */
describe('packages in an S3-compatible bucket', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ampora-pkg-s3-data-'));
  const s3Dir = mkdtempSync(join(tmpdir(), 'ampora-pkg-s3-bucket-'));
  // s3rver knows one access key id; the secret is checked for form only (allowMismatchedSignatures), so it is ours
  const accessKeyId = 'S3RVER';
  const secretAccessKey = `secret-${randomUUID()}`;
  const publisher = generateKeyPairSync('ed25519');
  let s3rver: S3rverInstance;
  let endpoint: string;
  let bucket: S3Client;
  let server: TestServer;
  let api: Api;
  let logs: LogCapture;
  const agents: TestAgent[] = [];

  beforeAll(async () => {
    s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: s3Dir, allowMismatchedSignatures: true, configureBuckets: [{ name: BUCKET, configs: [] }] });
    const address = await s3rver.run();
    endpoint = `http://127.0.0.1:${address.port}`;
    bucket = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    logs = captureLogs('Debug');
    server = await startTestServer({
      env: {
        AMPORA_DATA_DIR: dataDir,
        AMPORA_PACKAGES_STORE: 's3',
        AMPORA_PACKAGES_S3_BUCKET: BUCKET,
        AMPORA_PACKAGES_S3_ENDPOINT: endpoint,
        AMPORA_PACKAGES_S3_REGION: 'us-east-1',
        AMPORA_PACKAGES_S3_ACCESS_KEY_ID: accessKeyId,
        AMPORA_PACKAGES_S3_SECRET_ACCESS_KEY: secretAccessKey,
        AMPORA_PACKAGES_S3_FORCE_PATH_STYLE: 'true',
        AMPORA_PACKAGES_S3_PREFIX: 'fleet/pkgs',
      },
    });
    api = apiClient(server.url, server.adminToken);
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await server?.close();
    bucket?.destroy();
    await s3rver?.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(s3Dir, { recursive: true, force: true });
  });

  async function upload(name: string, version: string, content: Buffer, expected = 201) {
    return server
      .as(server.adminToken)
      .post(`/api/packages/${name}/versions/${version}?type=TopLevel`)
      .set('content-type', 'application/octet-stream')
      .set('Ampora-Package-Signature', sign(null, content, publisher.privateKey).toString('base64'))
      .send(content)
      .expect(expected);
  }

  const keys = async (): Promise<string[]> => ((await bucket.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents ?? []).map((o) => o.Key!).sort();

  it('stores an upload in the bucket under its content hash, once per content; lists it; nothing in the data directory', async () => {
    const content = Buffer.from(`otelcol build ${randomUUID()}`);
    const hash = createHash('sha256').update(content).digest('hex');
    const created = (await upload('otelcol', '1.0.0', content)).body;
    expect(created).toMatchObject({ name: 'otelcol', version: '1.0.0', contentHash: hash, sizeBytes: content.length });
    const key = `fleet/pkgs/sha256/${hash.slice(0, 2)}/${hash}`;
    expect(await keys()).toEqual([key]);
    const stored = await bucket.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(Buffer.from(await stored.Body!.transformToByteArray()).equals(content)).toBe(true);
    // the same bytes as another version: one object
    await upload('otelcol', '1.0.1', content);
    expect(await keys()).toEqual([key]);
    expect((await expectStatus(api, 'GET', '/api/packages/otelcol/versions', 200)).body.items.map((v: { version: string }) => v.version)).toEqual(['1.0.1', '1.0.0']);
    expect((await expectStatus(api, 'GET', '/api/packages', 200)).body.items).toEqual([expect.objectContaining({ name: 'otelcol', versions: 2 })]);
    expect(existsSync(join(dataDir, 'packages'))).toBe(false);
  });

  it('an agent downloads a package from the bucket through Ampora\'s signed URL', async () => {
    const content = Buffer.from(`addon ${randomUUID()}`.repeat(1000));
    await upload('agent-addon', '2.0.0', content);
    const group = await createStaticGroup(api);
    const token = (await expectStatus(api, 'POST', '/api/bootstrap-tokens', 201, { label: 's3', groupId: group.id })).body.token as string;
    const agent = new TestAgent({ url: `${server.url.replace('http', 'ws')}/v1/opamp`, token, capabilities: AgentCapability.ReportsStatus | AgentCapability.ReportsHeartbeat | ACCEPTS_PACKAGES | REPORTS_PACKAGE_STATUSES });
    agents.push(agent);
    await agent.connect();
    agent.hello();
    await agent.next(10000);
    await eventually(async () => ((await expectStatus(api, 'GET', `/api/agents?groupId=${group.id}`, 200)).body.items.length === 1 ? true : undefined), 10000);
    await expectStatus(api, 'POST', '/api/packages/agent-addon/versions/2.0.0/assign', 200, { groupId: group.id });
    const offer = await agent.nextMatching((m) => Boolean((m as { packages_available?: unknown }).packages_available), 10000);
    const file = (offer as { packages_available: { packages: Record<string, { file: { download_url: string; content_hash: Buffer } }> } }).packages_available.packages['agent-addon']!.file;
    const url = new URL(file.download_url);
    const res = await fetch(`${server.url}${url.pathname}${url.search}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(content.length));
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.equals(content)).toBe(true);
    expect(createHash('sha256').update(bytes).digest().equals(file.content_hash)).toBe(true);
    // the URL's signature names its content: another hash with it is refused
    const missing = url.pathname.replace(/[0-9a-f]{64}$/, '0'.repeat(64));
    expect((await fetch(`${server.url}${missing}${url.search}`)).status).toBe(403);
  });

  it('never logs the bucket credentials', () => {
    const text = logs.lines.join('\n');
    expect(logs.lines.length).toBeGreaterThan(0);
    expect(text).not.toContain(secretAccessKey);
    expect(text).not.toContain(accessKeyId);
  });
});
