export * from './token-format';
