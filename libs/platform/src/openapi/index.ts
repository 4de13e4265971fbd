export * from './api-problems.decorator';
export * from './openapi';
export * from './named-zod-dto';
