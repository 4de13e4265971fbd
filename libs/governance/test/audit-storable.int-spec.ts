import { Client } from 'pg';
import { createTestDatabase, TestDatabase } from '@ampora/testing';
import { storable } from '../src/domain/storable';

/** What the audit writer stores: PostgreSQL refuses NUL and lone surrogates in jsonb, storable() never. */
describe('audit values PostgreSQL can store', () => {
  let db: TestDatabase;
  let client: Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    client = new Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
    await db.drop();
  });

  it('stores a CSR subject with a NUL and a lone surrogate once made storable, where the raw value is refused', async () => {
    const raw = { subject: 'CN=agent\u0000evil', note: 'x\ud800' };
    await expect(client.query('SELECT $1::jsonb AS v', [JSON.stringify(raw)])).rejects.toThrow();
    const { rows } = await client.query('SELECT $1::jsonb AS v', [JSON.stringify(storable(raw))]);
    expect(rows[0].v).toEqual({ subject: 'CN=agent\uFFFDevil', note: 'x\uFFFD' });
  });
});
