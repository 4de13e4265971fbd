export * from './api-problems.decorator';
export * from './openapi';
