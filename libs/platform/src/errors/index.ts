export * from './domain.exception';
export * from './problem';
export * from './problem.filter';
