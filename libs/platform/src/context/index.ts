export * from './request-context';
export * from './tenant-labels';
