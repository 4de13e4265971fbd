import { defineQueue } from '@ampora/platform';

/** Federation's background work: the coordinator of federated rollouts (decision 0370). */
export const FEDERATION_QUEUE = defineQueue('federation', {
  rolloutTick: 'federation.rollout-tick',
});

export interface FederatedRolloutTickJob {
  federatedRolloutId: string;
}

export const federatedTickSchedulerId = (id: string) => `federated-rollout-tick:${id}`;
