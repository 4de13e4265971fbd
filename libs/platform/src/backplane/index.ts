export { Backplane, BackplaneHandler, BackplaneMeta } from './backplane';
export { BackplaneSeal } from './backplane-seal';
export { createBackplane } from './backplane.providers';
export { RedisBackplane } from './redis-backplane';
export { PostgresBackplane, NOTIFY_LIMIT_BYTES } from './postgres-backplane';
export { InProcessBackplane } from './inprocess-backplane';
