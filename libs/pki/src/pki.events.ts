import type { DomainEvent } from '@ampora/platform';
import type { KeyState } from './domain/key-lifecycle';

/**
 * Every event the PKI publishes on the live bus. Publish with
 * `bus.publish<PkiEvent>({ type: PkiEvents.SigningKeyChanged, ... })`; listen with `isEvent`.
 */
export const PkiEvents = {
  /** A CA key changed state (every instance drops what it serves from memory, closes sessions of a retired key). */
  SigningKeyChanged: 'pki.signing_key_changed',
  /** An operator asked to rotate an agent's certificate now (the instance holding its session pushes a new one). */
  CertificateRotationRequested: 'pki.certificate_rotation_requested',
} as const;

/** A key changed state. */
export interface KeyChange {
  signingKeyId: string;
  state: KeyState;
}

/** A certificate rotation was asked for (decision 0380). */
export interface RotationRequest {
  agentId: string;
  /** The certificate being replaced. */
  certificateId: string;
}

export type PkiEvent = DomainEvent<typeof PkiEvents.SigningKeyChanged, KeyChange> | DomainEvent<typeof PkiEvents.CertificateRotationRequested, RotationRequest>;

export type PkiEventName = PkiEvent['type'];
