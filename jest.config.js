/* Four tiers: unit (*.spec.ts beside the code), integration (libs/<lib>/test/*.int-spec.ts against
 * real PostgreSQL and Redis), end-to-end (test/*.e2e-spec.ts through the full HTTP and WS stack) and
 * interop (test/interop/*.interop-spec.ts: the built apps against real OpenTelemetry Collectors and
 * OpAMP Supervisors, built with Go; scripts/test.js leaves it out when there is no Go). */
const fs = require('node:fs');
const swc = JSON.parse(fs.readFileSync(`${__dirname}/.swcrc.jest.json`, 'utf8'));
// scripts/test.js runs the files that judge time or memory on their own, after the others (test/measured.js)
const measured = process.env.AMPORA_TEST_SKIP_MEASURED === '1' ? require('./test/measured.js').map((f) => `<rootDir>/${f.replace(/\./g, '\\.')}$`) : [];

const common = {
  testEnvironment: 'node',
  rootDir: __dirname,
  transform: { '^.+\\.(t|j)s$': ['@swc/jest', { ...swc, swcrc: false }] },
  moduleNameMapper: { '^@ampora/([a-z-]+)$': '<rootDir>/libs/$1/src/index' },
  moduleFileExtensions: ['ts', 'js', 'json'],
  transformIgnorePatterns: ['/node_modules/'],
  setupFiles: ['<rootDir>/libs/testing/src/quiet-logs.ts'],
};

module.exports = {
  testTimeout: 60000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs}/**/src/**/*.spec.ts', '<rootDir>/scripts/architecture/*.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/libs/*/test/**/*.int-spec.ts'],
      globalSetup: '<rootDir>/libs/testing/src/global-setup.ts',
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      testPathIgnorePatterns: ['/node_modules/', ...measured],
      globalSetup: '<rootDir>/libs/testing/src/global-setup.ts',
    },
    {
      ...common,
      displayName: 'interop',
      testMatch: ['<rootDir>/test/interop/**/*.interop-spec.ts'],
      // builds the Go peers (or finds them in the cache) before any test starts, then the template database
      globalSetup: '<rootDir>/test/interop/support/global-setup.ts',
    },
  ],
};
