import { hostname } from 'node:os';
import { defineConfigSection } from '@ampora/platform';

/** OpAMP's section of the configuration (AMPORA_OPAMP_*): read by OPAMP_CONFIG_SECTION, composed by the apps. */
export interface OpampConfig {
  path: string;
  maxMessageBytes: number;
  heartbeatWindowSeconds: number;
  heartbeatIntervalSeconds: number;
  flushIntervalMs: number;
  /** How long an HTTP agent's session is trusted before its credential is bound to the agent again. */
  httpRecheckSeconds: number;
  tlsPort?: number;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  requireMtls: boolean;
  /**
   * With requireMtls: whether an agent that accepts connection settings and has used its certificate
   * may come back with its bootstrap token for a new one (the OpAMP Supervisor forgets offered
   * settings when it restarts). Off: such an agent must connect with mTLS, like any other (decision 0121).
   */
  tokenReissue: boolean;
  /**
   * The OpAMP URL of the mTLS listener as agents reach it: sent as `destination_endpoint` with every
   * certificate offered, so agents that apply connection settings move there. Unset: agents keep
   * the endpoint they use (the operator points them at the TLS port).
   */
  mtlsUrl?: string;
  /**
   * PEM certificates that verify the TLS listener's own certificate (the operator's CA): sent with
   * every certificate offer so agents that verify the server only against the offer's `ca_cert`
   * (the OpAMP Supervisor) trust the listener they are sent to (decision 0120).
   */
  tlsCaFile?: string;
  /** Names (DNS or IP) the server certificate Ampora issues for its TLS listener is valid for. */
  tlsHostnames: string[];
  /** First delay of a refused credential and source; doubled per refusal (0: off). */
  refusalBackoffSeconds: number;
  refusalBackoffMaxSeconds: number;
  /** Most concurrent OpAMP sessions of one tenant over every instance (0: no cap; decision 0290). */
  sessionsPerTenant: number;
}

declare module '@ampora/platform' {
  interface AmporaConfig {
    opamp: OpampConfig;
  }
}

export const OPAMP_CONFIG_SECTION = defineConfigSection({
  key: 'opamp',
  read(r, platform): OpampConfig {
    const tlsPort = r.optionalInt('AMPORA_OPAMP_TLS_PORT', 0, 65535);
    const tlsCertFile = r.string('AMPORA_OPAMP_TLS_CERT_FILE');
    const tlsKeyFile = r.string('AMPORA_OPAMP_TLS_KEY_FILE');
    // neither file: Ampora issues the listener's certificate from its own CA (decision 0120)
    if (tlsPort !== undefined && Boolean(tlsCertFile) !== Boolean(tlsKeyFile)) {
      if (!tlsCertFile) r.require('AMPORA_OPAMP_TLS_CERT_FILE', 'when AMPORA_OPAMP_TLS_KEY_FILE is set');
      if (!tlsKeyFile) r.require('AMPORA_OPAMP_TLS_KEY_FILE', 'when AMPORA_OPAMP_TLS_CERT_FILE is set');
    }
    const mtlsUrl = r.url('AMPORA_OPAMP_MTLS_URL', ['wss', 'https']);
    const tlsHostnames = (r.string('AMPORA_OPAMP_TLS_HOSTNAMES') ?? [new URL(platform.app.publicUrl).hostname, mtlsUrl ? new URL(mtlsUrl).hostname : '', 'localhost', '127.0.0.1', hostname()].join(','))
      .split(',')
      .map((h) => h.trim().replace(/^\[|\]$/g, ''))
      .filter((h, i, all) => h.length > 0 && all.indexOf(h) === i);
    return {
      path: '/v1/opamp',
      maxMessageBytes: r.int('AMPORA_OPAMP_MAX_MESSAGE_BYTES', 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
      heartbeatWindowSeconds: r.int('AMPORA_OPAMP_HEARTBEAT_WINDOW_SECONDS', 90, 1, 86400),
      heartbeatIntervalSeconds: r.int('AMPORA_OPAMP_HEARTBEAT_INTERVAL_SECONDS', 30, 1, 86400),
      flushIntervalMs: r.int('AMPORA_OPAMP_FLUSH_INTERVAL_MS', 1000, 10, 3_600_000),
      httpRecheckSeconds: r.int('AMPORA_OPAMP_HTTP_RECHECK_SECONDS', 60, 1, 86400),
      tlsPort,
      tlsCertFile,
      tlsKeyFile,
      requireMtls: r.bool('AMPORA_OPAMP_REQUIRE_MTLS', platform.app.production),
      tokenReissue: r.bool('AMPORA_OPAMP_TOKEN_REISSUE', true),
      mtlsUrl,
      tlsCaFile: r.string('AMPORA_OPAMP_TLS_CA_FILE'),
      tlsHostnames,
      refusalBackoffSeconds: r.int('AMPORA_OPAMP_REFUSAL_BACKOFF_SECONDS', 5, 0, 3600),
      refusalBackoffMaxSeconds: r.int('AMPORA_OPAMP_REFUSAL_BACKOFF_MAX_SECONDS', 300, 1, 86400),
      sessionsPerTenant: r.int('AMPORA_LIMITS_SESSIONS_PER_TENANT', 50_000, 0, 100_000_000),
    };
  },
});
