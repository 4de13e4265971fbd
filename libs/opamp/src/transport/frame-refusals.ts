import { Metrics, TenantLabels } from '@ampora/platform';
import type { ConnectionState } from '../core/connection-state';

export type RejectReason = 'oversize' | 'malformed' | 'cap_mismatch' | 'auth_failed';

/** Counts a frame or connection refused by a transport (`ampora_opamp_frames_rejected_total`). */
export function countRejected(tenantId: string | undefined, reason: RejectReason): void {
  Metrics.add('ampora_opamp_frames_rejected_total', 1, { tenant: TenantLabels.of(tenantId), reason });
}

/** A frame whose strings were not all UTF-8 was decoded with U+FFFD in their place (and is handled). */
export function countInvalidUtf8(tenantId: string | undefined): void {
  Metrics.add('ampora_opamp_strings_neutralised_total', 1, { tenant: TenantLabels.of(tenantId), reason: 'invalid_utf8' });
}

/** The tenant a connection's frames are counted under: its session's, else its credential's. */
export function tenantOf(state: ConnectionState): string | undefined {
  return state.session?.tenantId ?? state.credential.tenantId;
}
