import { randomBytes } from 'node:crypto';
import { AmporaConfig, mintToken } from '@ampora/platform';
import { loadAmporaConfig } from '../../../apps/composition/src/config';
import { TEST_REDIS_URL } from './pg-admin';

export interface TestEnv {
  env: Record<string, string>;
  config: AmporaConfig;
  adminToken: string;
}

/**
 * Environment for one test instance: its database, a Redis key prefix of its own (so parallel test
 * files never see each other's queues or channels), port 0, and a bootstrap Admin token.
 */
export function testEnv(databaseUrl: string | undefined, overrides: Record<string, string> = {}): TestEnv {
  const adminToken = mintToken('amp-pat');
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    REDIS_URL: TEST_REDIS_URL,
    AMPORA_REDIS_PREFIX: `ampora-test-${randomBytes(5).toString('hex')}`,
    AMPORA_HTTP_PORT: '0',
    AMPORA_HTTP_HOST: '127.0.0.1',
    AMPORA_BOOTSTRAP_ADMIN_TOKEN: adminToken,
    AMPORA_MASTER_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'Information',
    // a CA key per test server: ECDSA is fast to generate (tests about RSA ask for it)
    AMPORA_PKI_CA_KEY_ALGORITHM: 'ECDSA-P256',
    // processes under test stop at once (tests about the drain window set it)
    AMPORA_SHUTDOWN_DRAIN_SECONDS: '0',
    AMPORA_WORKER_HTTP_PORT: '0',
    // every test's traffic comes from 127.0.0.1: the abuse limits are off (tests about them set them)
    AMPORA_LIMITS_ENROLMENTS_PER_IP: '0',
    AMPORA_LIMITS_ENROLMENTS_PER_TENANT: '0',
    AMPORA_LIMITS_AUTH_FAILURES_PER_IP: '0',
    AMPORA_LIMITS_AUTH_FAILURES_PER_TENANT: '0',
    ...overrides,
  };
  return { env, config: loadAmporaConfig(env), adminToken };
}
