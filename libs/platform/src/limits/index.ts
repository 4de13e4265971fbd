export * from './abuse-limiter';
export { secondsUntil, sourceAddress, windowAt } from './domain/fixed-window';
