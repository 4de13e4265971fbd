export * from './ampora-config';
export * from './config.module';
export { EnvIssue } from './env-reader';
export * from './load-or-exit';
export * from './database-url';
