import { createHash } from 'node:crypto';
import { toBinary } from '@bufbuild/protobuf';
import { ConnectionSettingsOffers, ConnectionSettingsOffersSchema } from '../generated/opamp_pb';

/**
 * Fills what every OpAMP settings offer carries (clients apply a missing heartbeat interval as "off")
 * and sets its hash over the whole offer, so clients apply it. Returns the hash, hex. Pure: every
 * instance computes the same hash for the same offer (an operator's endpoint change reports it).
 */
export function sealConnectionSettings(offer: ConnectionSettingsOffers, heartbeatIntervalSeconds: number): string {
  if (offer.opamp) offer.opamp.heartbeatIntervalSeconds = BigInt(heartbeatIntervalSeconds);
  else offer.opamp = { $typeName: 'opamp.proto.v1.OpAMPConnectionSettings', destinationEndpoint: '', heartbeatIntervalSeconds: BigInt(heartbeatIntervalSeconds) };
  offer.hash = new Uint8Array();
  const hash = createHash('sha256').update(toBinary(ConnectionSettingsOffersSchema, offer)).digest('hex');
  offer.hash = Buffer.from(hash, 'hex');
  return hash;
}
