import type { DomainEvent } from '@ampora/platform';
import type { ProgressPayload } from './domain/progress-event';
import type { GateName } from './domain/gates';
import type { RolloutState } from './domain/rollout-state';

/** The events rollouts publish on the live bus (names as the SSE stream and clients see them). */
export const RolloutEvents = {
  StateChanged: 'rollout.state_changed',
  StepStarted: 'rollout.step_started',
  GateFired: 'rollout.gate_fired',
  Progress: 'rollout.progress',
} as const;

/** A transition of the state machine, with what caused it (a gate's breach, the operator, a rollback). */
export interface RolloutStateChangedPayload {
  rolloutId: string;
  from: RolloutState;
  to: RolloutState;
  [detail: string]: unknown;
}

export interface RolloutStepStartedPayload {
  rolloutId: string;
  step: number;
  agents: number;
  last: boolean;
}

/** A gate paused the rollout: its observed ratio over its threshold in a step, and the agents it counted. */
export interface RolloutGateFiredPayload {
  rolloutId: string;
  gate: GateName;
  observed: number;
  threshold: number;
  numerator: number;
  denominator: number;
  agents: string[];
  step: number;
  at: string;
}

export type RolloutEvent =
  | DomainEvent<typeof RolloutEvents.StateChanged, RolloutStateChangedPayload>
  | DomainEvent<typeof RolloutEvents.StepStarted, RolloutStepStartedPayload>
  | DomainEvent<typeof RolloutEvents.GateFired, RolloutGateFiredPayload>
  | DomainEvent<typeof RolloutEvents.Progress, ProgressPayload>;
