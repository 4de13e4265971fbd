export * from './pagination';
export { useCursorKeysOf, assertIssuedCursor } from './cursor-keys';
