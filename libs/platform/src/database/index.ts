export * from './data-source';
export * from './database.module';
export * from './migrator';
export * from './transaction-runner';
export { ambientTenantIsolation, CURRENT_TENANT, disableTenantIsolation, enableTenantIsolation, setAmbientTenantIsolation, TenantTable } from './tenant-isolation';
export { prepared, queryLabel, registerPoolStats, PoolStats } from './instrumented-pg';
export { PLATFORM_MIGRATIONS } from './migrations';
export * from './embedded';
export { returnedRows } from './raw-query';
