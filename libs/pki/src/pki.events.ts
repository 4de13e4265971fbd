import type { DomainEvent } from '@ampora/platform';
import type { KeyState } from './domain/key-lifecycle';

/**
 * Every event the PKI publishes on the live bus. Publish with
 * `bus.publish<PkiEvent>({ type: PkiEvents.SigningKeyChanged, ... })`; listen with `isEvent`.
 */
export const PkiEvents = {
  /** A CA key changed state (every instance drops what it serves from memory, closes sessions of a retired key). */
  SigningKeyChanged: 'pki.signing_key_changed',
} as const;

/** A key changed state. */
export interface KeyChange {
  signingKeyId: string;
  state: KeyState;
}

export type PkiEvent = DomainEvent<typeof PkiEvents.SigningKeyChanged, KeyChange>;

export type PkiEventName = PkiEvent['type'];
