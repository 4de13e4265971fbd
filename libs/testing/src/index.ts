export * from './pg-admin';
export * from './test-database';
export * from './test-config';
export * from './log-capture';
export * from './processes';
export * from './files';
export * from './metrics';
export * from './opamp-test-agent';
