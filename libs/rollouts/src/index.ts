export * from './domain/rollout-state';
export * from './domain/strategy';
export * from './domain/step-planner';
export * from './domain/gates';
