import type { DomainEvent } from '@ampora/platform';

/** Every event Federation publishes on the live-update bus. */
export const FederationEvents = {
  PeerChanged: 'federation.peer_changed',
  CertificateIssued: 'federation.certificate_issued',
  RolloutChanged: 'federation.rollout_changed',
} as const;

export type FederationPeerChange = 'requested' | 'activated' | 'rejected' | 'deleted';

export type FederationEvent =
  | DomainEvent<typeof FederationEvents.PeerChanged, { peerId: string; name: string; change: FederationPeerChange }>
  | DomainEvent<typeof FederationEvents.CertificateIssued, { certificateId: string; fingerprint: string; notAfter: string }>
  | DomainEvent<typeof FederationEvents.RolloutChanged, { federatedRolloutId: string; from: string; to: string; reason: string | null }>;
