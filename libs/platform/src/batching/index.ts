export { TurnBatch } from './turn-batch';
