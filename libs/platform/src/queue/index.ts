export * from './job-envelope';
export * from './job-registry';
export * from './job.producer';
export * from './job.processor';
export * from './queue.module';
