import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { masterKeyId } from '@ampora/platform';
import { AgentCapability, createTestDatabase, TestAgent, TestDatabase } from '@ampora/testing';
import { startTestServer } from './support/test-server';

/**
 * Rotating AMPORA_MASTER_KEY: with the old key as AMPORA_PREVIOUS_MASTER_KEY for one start, every
 * sealed CA and responder key is re-sealed under the new one (audited), and the CA keeps signing;
 * from then on the old key is not needed.
 */
describe('master key rotation', () => {
  let db: TestDatabase;
  const oldKey = randomBytes(32).toString('base64');
  const newKey = randomBytes(32).toString('base64');

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  const wrappingKeys = async () => {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const keys = await client.query<{ wrapping_key_id: string }>('SELECT wrapping_key_id FROM pki_signing_keys');
      const responders = await client.query<{ wrapping_key_id: string }>('SELECT wrapping_key_id FROM pki_ocsp_responders');
      return [...keys.rows, ...responders.rows].map((r) => r.wrapping_key_id);
    } finally {
      await client.end();
    }
  };

  /** A TLS listener whose certificate Ampora's CA issues: certificate offers need a place to send agents (decision 0121). */
  const TLS = { AMPORA_OPAMP_TLS_PORT: '0' };

  async function enrolsWithCertificate(server: Awaited<ReturnType<typeof startTestServer>>): Promise<boolean> {
    const token = (await server.as().post('/api/bootstrap-tokens').send({ label: 'mk' }).expect(201)).body.token as string;
    const agent = new TestAgent({ url: `ws://127.0.0.1:${server.port}/v1/opamp`, token, capabilities: AgentCapability.ReportsStatus | AgentCapability.AcceptsOpAMPConnectionSettings });
    await agent.connect();
    agent.hello();
    const reply = await agent.next();
    await agent.close();
    return Boolean(reply.connection_settings?.opamp?.certificate?.cert);
  }

  it('re-seals every key under the new master key when the old one is given as the previous key', async () => {
    const first = await startTestServer({ db, env: { ...TLS, AMPORA_MASTER_KEY: oldKey } });
    expect(await enrolsWithCertificate(first)).toBe(true);
    await first.close();
    expect(new Set(await wrappingKeys())).toEqual(new Set([masterKeyId(Buffer.from(oldKey, 'base64'))]));

    const rotating = await startTestServer({ db, env: { ...TLS, AMPORA_MASTER_KEY: newKey, AMPORA_PREVIOUS_MASTER_KEY: oldKey } });
    try {
      expect(new Set(await wrappingKeys())).toEqual(new Set([masterKeyId(Buffer.from(newKey, 'base64'))]));
      const audit = (await rotating.as().get('/api/audit/events?entityType=SigningKey&action=Resealed').expect(200)).body.items;
      expect(audit).toHaveLength(1);
      expect(await enrolsWithCertificate(rotating)).toBe(true);
    } finally {
      await rotating.close();
    }

    const after = await startTestServer({ db, env: { ...TLS, AMPORA_MASTER_KEY: newKey } });
    try {
      expect(await enrolsWithCertificate(after)).toBe(true);
    } finally {
      await after.close();
    }
  });
});
