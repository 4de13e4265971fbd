
/**
 * The interop suite's harness: Ampora as built processes (server and worker, `dist/`) on real
 * PostgreSQL and Redis, and the real OpAMP peers built from test/interop/ (scripts/interop-build.js):
 * the Collector with the contrib opamp extension, the contrib OpAMP Supervisor and the opamp-go load
 * generator. Every peer process is started in its own process group and killed with it, so no
 * Collector outlives a test.
 */

export * from './peer-processes';
export * from './ampora-processes';
export * from './collector-peers';
