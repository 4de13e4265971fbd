export * from './ampora-config';
export * from './config.module';
export { EnvIssue, EnvReader } from './env-reader';
export * from './load-or-exit';
export * from './database-url';
