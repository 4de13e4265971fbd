/**
 * The architecture's boundaries, checked by dependency-cruiser (`npm run architecture:check`, and in
 * `npm test` through scripts/architecture-check.spec.ts). See docs/architecture.md.
 *
 * - a lib is imported only through its public face, `@ampora/<lib>` (libs/<lib>/src/index.ts);
 * - no cycle between files of two libs, and no lib imports a lib later in LIB_ORDER (a lib that is
 *   not in the order yet, or not present, is simply not constrained by it);
 * - libs never import apps; apps/server and apps/worker never import each other, and the worker
 *   imports no HTTP controller and no OpenAPI/Express piece (what it shares with the server is
 *   composed in apps/composition).
 */
const { LIB_ORDER, libLevel } = require('./scripts/architecture/lib-order');

/** `^libs/(a|b)/` for the libs strictly after `lib` in the order (same level: siblings, also forbidden). */
function laterLibs(lib) {
  const level = libLevel(lib);
  const later = LIB_ORDER.flat().filter((other) => other !== lib && libLevel(other) >= level);
  return later.length ? `^libs/(${later.join('|')})/` : undefined;
}

const orderRules = LIB_ORDER.flat()
  .map((lib) => ({ lib, to: laterLibs(lib) }))
  .filter((r) => r.to)
  .map(({ lib, to }) => ({
    name: `lib-order-${lib}`,
    comment: `${lib} may import only libs before it in the order ${LIB_ORDER.map((l) => (Array.isArray(l) ? `{${l.join(', ')}}` : l)).join(' <- ')}; a backward reaction is an event`,
    severity: 'error',
    from: { path: `^libs/${lib}/` },
    to: { path: to },
  }));

module.exports = {
  forbidden: [
    {
      name: 'lib-through-index',
      comment: 'another lib is imported only through @ampora/<lib> (its src/index.ts), never a file inside it',
      severity: 'error',
      from: { path: '^(?:libs|apps|test|bench)/([^/]+)/' },
      to: { path: '^libs/[^/]+/src/(?!index\\.ts$)', pathNot: ['^libs/$1/', '^libs/testing/'] },
    },
    {
      name: 'lib-through-alias',
      comment: 'import another lib as @ampora/<lib>, not by a relative path to its index',
      severity: 'error',
      from: { path: '^(libs|apps)/([^/]+)/' },
      to: { path: '^libs/([^/]+)/src/index\\.ts$', pathNot: '^libs/$2/', dependencyTypesNot: ['aliased-tsconfig-paths'] },
    },
    {
      name: 'no-cycle-between-libs',
      comment: 'no import cycle that crosses a lib boundary',
      severity: 'error',
      from: { path: '^libs/([^/]+)/' },
      to: { circular: true, viaSomeNot: '^libs/$1/' },
    },
    ...orderRules,
    {
      name: 'lib-not-testing',
      comment: 'production code never imports the test helpers (@ampora/testing)',
      severity: 'error',
      from: { path: '^(libs/(?!testing/)[^/]+|apps/[^/]+)/', pathNot: ['\\.(int-|e2e-)?spec\\.ts$', '^libs/[^/]+/test/'] },
      to: { path: '^libs/testing/' },
    },
    {
      name: 'lib-not-app',
      comment: 'libs never import apps (the apps compose the libs); only the test helpers may import the shared composition',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/', pathNot: '^apps/composition/' },
    },
    {
      name: 'lib-testing-composition-only',
      comment: 'the test helpers may reach apps/composition and nothing else of the apps',
      severity: 'error',
      from: { path: '^libs/(?!testing/)' },
      to: { path: '^apps/composition/' },
    },
    {
      name: 'worker-not-server',
      comment: 'apps/worker imports nothing from apps/server (shared wiring lives in apps/composition)',
      severity: 'error',
      from: { path: '^apps/(worker|composition)/' },
      to: { path: '^apps/server/' },
    },
    {
      name: 'server-not-worker',
      comment: 'apps/server imports nothing from apps/worker (shared wiring lives in apps/composition)',
      severity: 'error',
      from: { path: '^apps/(server|composition)/' },
      to: { path: '^apps/worker/' },
    },
    {
      name: 'worker-no-http-api',
      comment: 'the worker serves no API: it imports no controller, no OpenAPI and no Express adapter',
      severity: 'error',
      from: { path: '^apps/worker/' },
      to: { path: ['\\.controller\\.ts$', '(^|/)node_modules/@nestjs/(swagger|platform-express)/', '^apps/server/'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules|\\.test-results)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
