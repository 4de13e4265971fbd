import { execFileSync } from 'node:child_process';
import { createTestDatabase, freePort, startProcess, testEnv, TestDatabase, waitForHttp } from '@ampora/testing';

/**
 * The server listens with AMPORA_HTTP_BACKLOG pending connections (decisions 0432 and 0450; 65535 by
 * default, so the kernel's net.core.somaxconn decides; Node's own is 511): in a reconnect storm
 * thousands of agents connect at once, and a full backlog makes the kernel drop their SYNs, which the
 * clients retry only after seconds. `ss` shows a listening socket's backlog in its Send-Q column.
 */
describe('the listen backlog of the server', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  /** The backlog of the socket listening on `port` (the Send-Q column of `ss -ltn`). */
  function backlogOf(port: number): number {
    const lines = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }).trim().split('\n');
    expect(lines).toHaveLength(1);
    return Number(lines[0]!.trim().split(/\s+/)[2]);
  }

  it.each([
    ['by default', {}, 65535],
    ['as AMPORA_HTTP_BACKLOG says', { AMPORA_HTTP_BACKLOG: '1234' }, 1234],
  ])('is the configured one %s', async (_, extra: Record<string, string>, expected) => {
    const port = await freePort();
    const somaxconn = Number(execFileSync('cat', ['/proc/sys/net/core/somaxconn'], { encoding: 'utf8' }).trim());
    const { env } = testEnv(db.url, { AMPORA_HTTP_PORT: String(port), ...extra });
    const server = startProcess('server', env);
    try {
      await waitForHttp(`http://127.0.0.1:${port}/health/live`);
      // the kernel caps a backlog at net.core.somaxconn
      expect(backlogOf(port)).toBe(Math.min(expected, somaxconn));
    } finally {
      await server.stop();
    }
  });
});
