export { WorkerHeartbeat } from './worker-heartbeat';
export { WorkerPresence, WorkerStatus, WorkerInstance, NO_WORKER_WARNING } from './worker-presence';
export { WorkerHeartbeatEntity } from './entities/worker-heartbeat.entity';
