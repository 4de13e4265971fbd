export { STORM_BATCH_SPACING_MS } from './batch-spacing';
export { TurnBatch } from './turn-batch';
