export { STORM_BATCH_SPACING_MS, TurnBatch } from './turn-batch';
