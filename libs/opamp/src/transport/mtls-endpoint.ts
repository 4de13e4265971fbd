import type { Transport } from '../ports';

/**
 * AMPORA_OPAMP_MTLS_URL in the scheme of the agent's transport: the TLS listener serves WebSocket and
 * HTTP polling on the same port and path, and a polling agent cannot use a wss:// endpoint (nor a
 * WebSocket agent an https:// one).
 */
export function mtlsEndpoint(url: string | undefined, transport: Transport | undefined): string | undefined {
  if (!url || !transport) return url;
  if (transport === 'http') return url.replace(/^wss:/i, 'https:');
  return url.replace(/^https:/i, 'wss:');
}
