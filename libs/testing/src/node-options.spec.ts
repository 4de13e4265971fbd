import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './processes';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { SEMI_SPACE_MB, withProductNodeOptions } = require(join(REPO_ROOT, 'scripts', 'node-options.js')) as {
  SEMI_SPACE_MB: number;
  withProductNodeOptions: (env: Record<string, string>) => Record<string, string>;
};

describe('the server and worker V8 settings (scripts/node-options.js, decision 0428)', () => {
  it('adds the young generation size to NODE_OPTIONS, keeping what an operator put there', () => {
    expect(withProductNodeOptions({ PATH: '/bin' }).NODE_OPTIONS).toBe(`--max-semi-space-size=${SEMI_SPACE_MB}`);
    expect(withProductNodeOptions({ NODE_OPTIONS: '--enable-source-maps' }).NODE_OPTIONS).toBe(`--enable-source-maps --max-semi-space-size=${SEMI_SPACE_MB}`);
  });

  it("leaves an operator's own semi-space size alone", () => {
    expect(withProductNodeOptions({ NODE_OPTIONS: '--max-semi-space-size=16' }).NODE_OPTIONS).toBe('--max-semi-space-size=16');
  });

  it('is what package.json and the Docker images start the server and the worker with', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const scripts = (require(join(REPO_ROOT, 'package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts['start:server']).toContain(`--max-semi-space-size=${SEMI_SPACE_MB} `);
    expect(scripts['start:worker']).toContain(`--max-semi-space-size=${SEMI_SPACE_MB} `);
    // the server and worker stages of the Dockerfile, not the CLI's
    const stages = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8').split(/^FROM /m);
    for (const name of ['server', 'worker']) expect(stages.find((st) => st.startsWith(`runtime AS ${name}\n`))).toContain(`ENV NODE_OPTIONS=--max-semi-space-size=${SEMI_SPACE_MB}\n`);
    expect(stages.find((st) => st.startsWith('runtime AS cli\n'))).not.toContain('NODE_OPTIONS');
  });
});
