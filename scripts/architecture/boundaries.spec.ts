import * as fs from 'node:fs';
import * as path from 'node:path';
import { cruise, describeViolations } from './cruise';
import { currentPicture, DOC, renderGraph } from './graph';

/**
 * The boundary check of issue 14: dependency-cruiser with .dependency-cruiser.js over apps, libs,
 * test and bench must find nothing, and the same rules must catch each deliberately wrong import of
 * fixtures/wrong-imports (so the check can fail).
 */
describe('lib boundaries (dependency-cruiser)', () => {
  it('finds no violation in the repository, and the picture in docs/architecture.md is current', () => {
    const result = cruise();
    expect(describeViolations(result)).toEqual([]);
    // out of date: run node scripts/architecture/graph.js
    expect(currentPicture(fs.readFileSync(DOC, 'utf8'))).toBe(renderGraph(result));
  });

  it('names every deliberately wrong import of the fixture tree', () => {
    const result = cruise({ cwd: path.join(__dirname, 'fixtures', 'wrong-imports'), dirs: ['apps', 'libs'] });
    expect(new Set(describeViolations(result))).toEqual(
      new Set([
        'lib-order-platform: libs/platform/src/index.ts → libs/governance/src/index.ts',
        'lib-order-pki: libs/pki/src/index.ts → libs/fleet/src/index.ts',
        'lib-not-testing: libs/fleet/src/index.ts → libs/testing/src/index.ts',
        'lib-through-index: libs/rollouts/src/deep.ts → libs/fleet/src/agents/agent.repository.ts',
        'lib-through-index: apps/worker/src/main.ts → libs/fleet/src/agents.controller.ts',
        'lib-through-alias: libs/rollouts/src/deep.ts → libs/fleet/src/index.ts',
        'no-cycle-between-libs: libs/alpha/src/index.ts → libs/beta/src/index.ts (cycle libs/beta/src/index.ts → libs/alpha/src/index.ts)',
        'worker-not-server: apps/worker/src/main.ts → apps/server/src/server.factory.ts',
        'worker-no-http-api: apps/worker/src/main.ts → apps/server/src/server.factory.ts',
        'worker-no-http-api: apps/worker/src/main.ts → libs/fleet/src/agents.controller.ts',
        'server-not-worker: apps/server/src/server.factory.ts → apps/worker/src/worker.module.ts',
      ]),
    );
  });
});
