import { join, resolve } from 'node:path';
import templateSetup from '../../../libs/testing/src/global-setup';

/**
 * The interop project's global setup: the real peers are built first (minutes on a fresh machine,
 * seconds from the cache outside the work tree), so no test's timeout pays for the build; then the
 * migrated template database the other tiers use.
 */
export default async function globalSetup(): Promise<void> {
  const root = resolve(__dirname, '../../..');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { buildPeers } = require(join(root, 'scripts', 'interop-build.js')) as { buildPeers(o: { log(l: string): void }): Record<string, string> };
  process.stdout.write('\ninterop: building the real OpAMP peers (Collector, Supervisor, load generator) unless cached\n');
  buildPeers({ log: (line) => process.stdout.write(`${line}\n`) });
  await templateSetup();
}
