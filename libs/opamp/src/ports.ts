import type { IncomingHttpHeaders } from 'node:http';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { ConnectionSettingsOffersSchema } from './generated/opamp_pb';
import type { HealthJson, JsonValue } from './protocol/codec';
import type { ConfigFiles } from './protocol/config-hash';

/**
 * The seams of the OpAMP library. `libs/opamp` knows the protocol and the sessions; who an agent is,
 * where its state is kept and what it should run are provided by other domains (fleet, pki) under
 * these injection tokens. The modules that implement them bind them to OpampPorts with
 * bindOpampPorts (opamp-ports.ts, decision 0200); nothing is looked up in the container.
 */
export const AGENT_AUTHENTICATOR = Symbol('ampora.opamp.AgentAuthenticator');
export const AGENT_STATE_SINK = Symbol('ampora.opamp.AgentStateSink');
/** Optional: validates client certificates on the TLS listener (PKI). */
export const CLIENT_CERTIFICATE_VERIFIER = Symbol('ampora.opamp.ClientCertificateVerifier');
/** Optional: issues certificates and other connection settings (PKI). */
export const CONNECTION_SETTINGS_PROVIDER = Symbol('ampora.opamp.ConnectionSettingsProvider');
/** Optional: which agent a certificate belongs to, and who holds one (PKI). */
export const AGENT_CERTIFICATES = Symbol('ampora.opamp.AgentCertificates');
/** Optional: issues the TLS listener's server certificate when the operator gives none (PKI). */
export const LISTENER_CERTIFICATE_ISSUER = Symbol('ampora.opamp.ListenerCertificateIssuer');

/** A server certificate for the TLS listener, its private key, and the CA certificate that verifies it (PEM). */
export interface ListenerCertificate {
  certPem: string;
  keyPem: string;
  caPem: string;
  notAfter: Date;
}

export interface ListenerCertificateIssuer {
  /** A server certificate valid for `hostnames` (DNS names or IP addresses), signed by Ampora's CA. */
  issueListenerCertificate(hostnames: string[]): Promise<ListenerCertificate>;
}

/**
 * Where an agent's certificate is to be used (decision 0121): the mTLS listener as this agent can
 * reach it, and the PEM certificates that verify that listener's own certificate. Absent when no
 * listener can be named or verified: then no certificate is offered.
 */
export interface MtlsTarget {
  endpoint: string;
  serverCaPem: string;
}

export type Transport = 'ws' | 'http';

export interface ClientCertificate {
  /** DER of the leaf. */
  der: Buffer;
  /** SHA-256 of the DER, lower-case hex. */
  fingerprint: string;
  /** The rest of the chain the client sent, DER, leaf's issuer first. */
  chain: Buffer[];
}

export interface ConnectInput {
  transport: Transport;
  headers: IncomingHttpHeaders;
  remoteAddress?: string;
  /** Present on the TLS listener when the client presented a certificate that the verifier accepted. */
  clientCertificate?: ClientCertificate;
}

/** What a connection proved about itself before its first frame. */
export type AgentCredential =
  | { kind: 'bootstrap'; tokenId: string; tenantId: string; boundAgentId?: string }
  /** `agentId` is absent for a certificate signed for an agent provisioned by other means, until its first connection makes it one. */
  | { kind: 'certificate'; fingerprint: string; tenantId: string; agentId?: string };

/**
 * A refusal before the upgrade is answered 401, or 403 when `forbidden` (the credential is known but
 * may not connect: a revoked token), always with `Retry-After` (decision 0120).
 */
export type AuthOutcome = { ok: true; credential: AgentCredential } | { ok: false; reason: string; tenantId?: string; forbidden?: boolean };

export interface DesiredConfig {
  files: ConfigFiles;
  /** config_hash sent with it (configMapHash), hex. */
  hash: string;
}

export interface AttachRequest {
  credential: AgentCredential;
  instanceUid: Uint8Array;
  /** The agent set RequestInstanceUid. */
  requestNewUid: boolean;
  capabilities: bigint;
  transport: Transport;
}

/** An agent as the protocol layer needs to know it. */
export interface AttachedAgent {
  agentId: string;
  tenantId: string;
  agentType: string;
  /** The uid the agent must use from now on (a new one when duplicate or requested). */
  instanceUid: Buffer;
  uidChanged: boolean;
  desired?: DesiredConfig;
  /** Hash (hex) of a config this agent reported FAILED for: not offered again until it changes. */
  failedConfigHash?: string;
  /** Last remote config status the agent reported (hash hex and status), as stored. */
  reportedConfigHash?: string;
  /** This attach made the agent (its first connection: a bootstrap token redeemed, a certificate bound). */
  enrolled?: boolean;
}

export type AttachOutcome = { ok: true; agent: AttachedAgent } | { ok: false; reason: string };

export interface AgentAuthenticator {
  /** Checks the credentials of a new connection (headers, client certificate). */
  authenticate(input: ConnectInput): Promise<AuthOutcome>;
  /** Binds a connection's first frame to an agent: redeems a bootstrap token, finds a certificate's agent. */
  attach(request: AttachRequest): Promise<AttachOutcome>;
  /** Gives an attached agent a new instance uid (RequestInstanceUid on a later frame). */
  reassignInstanceUid(agentId: string): Promise<Buffer>;
  /**
   * The agent's assigned config as stored now, when its hash is not `knownHash`: `undefined` when it
   * is (or the agent is gone), `null` when nothing is assigned. Read once the agent's session lease is
   * taken, to catch an assignment that committed between attach and then (its push found no session).
   */
  assignmentSince?(agent: AgentRef, knownHash: string | undefined): Promise<DesiredConfig | null | undefined>;
}

export type RemoteConfigStatusName = 'UNSET' | 'APPLIED' | 'APPLYING' | 'FAILED';

/** A status report, already decoded; only what the frame carried is set. */
export interface AgentReport {
  capabilities?: bigint;
  instanceUid?: Buffer;
  description?: { identifying: Record<string, JsonValue>; nonIdentifying: Record<string, JsonValue> };
  health?: HealthJson;
  effectiveConfig?: { files: ConfigFiles; contentHash: string };
  remoteConfigStatus?: { status: RemoteConfigStatusName; hash: string; errorMessage: string };
  /** The hash of a config the agent reported FAILED for (rollback trap memory); '' clears it. */
  failedConfigHash?: string;
  packageStatuses?: JsonValue;
  availableComponents?: JsonValue;
  connectionSettingsStatus?: { status: string; hash: string; errorMessage: string };
  customCapabilities?: string[];
}

/**
 * Where agent state goes. Implementations coalesce: a heartbeat must not cost a write of its own.
 */
export interface AgentRef {
  agentId: string;
  tenantId: string;
}

export interface DisconnectInfo {
  /**
   * The session was closed because a newer session of the agent holds its lease on another instance:
   * the agent is not disconnected, it moved (nothing should be recorded).
   */
  superseded?: boolean;
}

export interface AgentStateSink {
  connected(agent: AgentRef, info: { transport: Transport; instanceId: string; at: Date }): void;
  report(agent: AgentRef, report: AgentReport, at: Date): void;
  disconnected(agent: AgentRef, at: Date, info?: DisconnectInfo): void;
  /** A remote config (hash, hex) was sent to the agent (its config history). */
  remoteConfigSent?(agent: AgentRef, hash: string, at: Date): void;
}

/**
 * What an agent's certificates say about it: `none` (never had one: it may use its bootstrap token),
 * `valid` (holds an in-date, unrevoked one it has connected with: with mTLS required its token alone
 * no longer admits it, unless it can take a new certificate offer), `unused` (holds in-date ones but
 * never connected with any: its token still admits it, decision 0121),
 * `revoked` (an operator revoked it: locked out until it enrols again with a new token), `expired`.
 */
export type AgentCertificateState = 'none' | 'valid' | 'unused' | 'revoked' | 'expired';

/**
 * The agent's latest certificate offer (decision 0121): `pending` (sent, not used yet), `used` (the
 * agent connected with it), `unusable` (not used within AMPORA_PKI_OFFER_TIMEOUT_SECONDS: not
 * repeated with the same endpoint and trust), `superseded` (replaced by a later offer before use).
 */
export interface CertificateOfferStatus {
  status: 'pending' | 'used' | 'unusable' | 'superseded';
  certificateId: string;
  serialNumber: string;
  fingerprint: string;
  endpoint: string | null;
  offeredAt: Date;
  usedAt: Date | null;
  unusableAt: Date | null;
}

/**
 * The binding between agents and their certificates, kept by whoever issues them (the PKI domain).
 * Agents with a certificate are identified by its SHA-256 fingerprint, never by instance uid.
 */
export interface AgentCertificates {
  /**
   * The agent a verified certificate belongs to, or undefined. `agentId` is absent for a certificate
   * that is not bound to an agent yet (signed through the API for an agent provisioned by other means).
   */
  agentFor(fingerprint: string): Promise<{ agentId?: string; tenantId: string } | undefined>;
  /** Whether the agent holds a certificate that is in date and not revoked (then mTLS may be required). */
  holdsCertificate(agentId: string): Promise<boolean>;
  /** The state of the agent's certificates (see AgentCertificateState). */
  certificateState(agentId: string): Promise<AgentCertificateState>;
  /** The states of several agents' certificates in one read (a reconnect storm), by agent id. */
  certificateStates?(agentIds: readonly string[]): Promise<Map<string, AgentCertificateState>>;
  /** The agent's latest certificate offer over OpAMP, if it had one. */
  latestOffer?(agentId: string): Promise<CertificateOfferStatus | undefined>;
  /**
   * Binds an unbound certificate to an agent, once: locks the certificate in the caller's transaction
   * (`manager`, a TypeORM EntityManager) and, when it is still unbound, calls `create` (which creates
   * the agent in the same transaction) and records the agent. Returns the agent it belongs to.
   */
  bindOnce(manager: unknown, fingerprint: string, create: () => Promise<string>): Promise<{ agentId: string; created: boolean }>;
}

/** One package offered to an agent (PackageAvailable; issue 20 item 4). */
export interface PackageOffer {
  type: 'TopLevel' | 'Addon';
  version: string;
  /** Where the agent downloads the file: a short-lived signed URL served by Ampora. */
  downloadUrl: string;
  /** sha256 of the file. */
  contentHash: Buffer;
  /** The file's ed25519 signature (empty when unsigned). */
  signature: Buffer;
  /** PackageAvailable.hash: identifies this offer of the package. */
  hash: Buffer;
}

/** Everything an agent should have (PackagesAvailable), keyed by package name ('' is the agent itself). */
export interface PackagesOffer {
  allPackagesHash: Buffer;
  packages: Record<string, PackageOffer>;
}

/**
 * Optional port (fleet): the packages offered to an agent that reports AcceptsPackages. Called on the
 * agent's frames; `offeredHash` is the hex all-packages hash this session offered last (undefined on
 * a connection's first frame). Answers an offer only when there is something new to send; the
 * implementation decides how often it looks (it is called on every frame). `fresh`: a push (the
 * agent's assignment changed, decision 0376): read the assignment now, whenever it was last read.
 */
export interface PackageOffers {
  offerFor(agent: AgentRef, offeredHash: string | undefined, options?: { fresh?: boolean }): Promise<PackagesOffer | undefined>;
}

export interface ClientCertificateVerifier {
  /** Accepts a certificate only if it chains to a trusted Ampora CA key, is in date and not revoked. */
  verify(certificate: ClientCertificate): Promise<{ ok: true } | { ok: false; reason: string }>;
}

export interface ConnectionSettingsContext {
  agentId: string;
  tenantId: string;
  capabilities: bigint;
  credential: AgentCredential;
  /** PEM CSR when the agent asked for a certificate (ConnectionSettingsRequest). */
  csr?: Uint8Array;
  /** The agent was just enrolled with a bootstrap token on this frame. */
  justEnrolled: boolean;
  /** How the agent is connected (an endpoint offered to it should use the same transport). */
  transport?: Transport;
  /** Where a certificate offered to this agent sends it, and what verifies that listener. */
  mtls?: MtlsTarget;
}

/**
 * Optional (fleet's own telemetry, decision 0320): where an agent that reports its own metrics, traces
 * or logs sends them. Called whenever connection settings are offered to an agent with one of the
 * ReportsOwn* capabilities; its fields are merged into the offer.
 */
export interface OwnTelemetryOffers {
  offer(agent: AgentRef & { capabilities: bigint }): Promise<Pick<MessageInitShape<typeof ConnectionSettingsOffersSchema>, 'ownMetrics' | 'ownTraces' | 'ownLogs'> | undefined>;
}

/**
 * Optional: HTTP paths served beside OpAMP on the OpAMP listeners (fleet's OTLP intake of agents' own
 * metrics, `/v1/metrics`). The main port mounts them itself; the TLS listener hands them over here.
 */
export interface OpampSideRoutes {
  handles(path: string): boolean;
  handle(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void;
}

export interface ConnectionSettingsProvider {
  /** Whether agents may send certificate requests (the AcceptsConnectionSettingsRequest bit). */
  readonly acceptsCertificateRequests: boolean;
  /**
   * Connection settings to offer on this frame (a certificate at enrolment or renewal, say), or
   * undefined. Throwing refuses a CSR with a BadRequest error response.
   */
  offer(context: ConnectionSettingsContext): Promise<MessageInitShape<typeof ConnectionSettingsOffersSchema> | undefined>;
}
